//! `export k8s-secret`: the `certs` Secret, as `kubectl create secret
//! generic` makes it.

use super::k8s::{base64, metadata};
use super::preflight::Certs;
use super::stack::Stack;
use super::{Export, single};
use crate::files;
use crate::store::SECRET_MODE;
use crate::yaml::{self, Value, map, s};

/// The `v1` `Secret` of type `Opaque` holding `server.pem`, `server.key` and
/// `ca.pem`: the object `kubectl create secret generic certs
/// --from-file=server.pem --from-file=server.key --from-file=ca.pem
/// --dry-run=client -o yaml` makes (keys in kubectl's alphabetical order).
pub(super) fn export(
    certs: &Certs,
    name: &str,
    namespace: Option<&str>,
    stack: Option<&Stack>,
) -> Export {
    let mut data: Vec<(String, Value)> = vec![
        (files::CA_PEM.into(), s(base64(&certs.ca_pem))),
        (files::SERVER_KEY.into(), s(base64(&certs.server_key))),
        (files::SERVER_PEM.into(), s(base64(&certs.server_pem))),
    ];
    for f in stack.map(|st| st.milvus_files("")).unwrap_or_default() {
        data.push((
            f.path.to_string_lossy().into_owned(),
            s(base64(&f.contents)),
        ));
    }
    // kubectl's order: by key.
    data.sort_by(|a, b| a.0.cmp(&b.0));
    let doc = yaml::document(&map([
        ("apiVersion", s("v1")),
        ("kind", s("Secret")),
        ("metadata", metadata(name, namespace)),
        ("type", s("Opaque")),
        ("data", Value::Map(data)),
    ]));
    single(
        "secret.yaml",
        doc,
        SECRET_MODE,
        "kubectl apply -f secret.yaml",
    )
}
