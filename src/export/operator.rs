//! `export operator`: a Milvus Operator `Milvus` resource with the guide's
//! configuration and the Secret mounted at `/certs`.

use super::k8s::{metadata, volumes_for};
use super::milvus::Config;
use super::{Export, single};
use crate::store::PUBLIC_MODE;
use crate::yaml::{self, map, s};

/// The `Milvus` resource in `milvus-operator.yaml`.
pub(super) fn export(
    config: &Config,
    release: &str,
    namespace: Option<&str>,
    secret: &str,
    cert_manager: bool,
) -> Export {
    let (volumes, mounts) = volumes_for(config, secret, cert_manager);
    let doc = yaml::document(&map([
        ("apiVersion", s("milvus.io/v1beta1")),
        ("kind", s("Milvus")),
        ("metadata", metadata(release, namespace)),
        (
            "spec",
            map([
                ("config", config.milvus("/certs")),
                (
                    "components",
                    map([("volumes", volumes), ("volumeMounts", mounts)]),
                ),
            ]),
        ),
    ]));
    single(
        "milvus-operator.yaml",
        doc,
        PUBLIC_MODE,
        "kubectl apply -f milvus-operator.yaml",
    )
}
