//! `export helm`: values for the milvus chart, with the guide's
//! configuration as `extraConfigFiles` and the Secret mounted at `/certs`.

use super::k8s::volumes_for;
use super::milvus::Config;
use super::{Export, single};
use crate::store::PUBLIC_MODE;
use crate::yaml::{self, Value, map};

/// The chart's values: the guide's configuration as `user.yaml` in
/// `extraConfigFiles`, and the Secret's volume. `export cert-manager` writes
/// them too, for the Secret cert-manager keeps.
pub(super) fn values(config: &Config, secret: &str, cert_manager: bool) -> String {
    let (volumes, mounts) = volumes_for(config, secret, cert_manager);
    yaml::document(&map([
        (
            "extraConfigFiles",
            map([(
                "user.yaml",
                Value::Block(yaml::document(&config.milvus("/certs"))),
            )]),
        ),
        ("volumes", volumes),
        ("volumeMounts", mounts),
    ]))
}

/// `values-tls.yaml`.
pub(super) fn export(config: &Config, secret: &str, cert_manager: bool) -> Export {
    single(
        "values-tls.yaml",
        values(config, secret, cert_manager),
        PUBLIC_MODE,
        "helm upgrade --install my-release milvus/milvus -f values-tls.yaml",
    )
}
