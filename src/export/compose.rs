//! `export compose`: `tls/`, a `user.yaml` fragment (or, with
//! `--milvus-config`, the user's full `milvus.yaml` with the TLS keys set)
//! and an override file for the guide's `docker-compose.yml`.

use std::path::Path;

use super::milvus::{Config, check_command, sh_path};
use super::preflight::Certs;
use super::{Export, OutFile};
use crate::error::{Error, Result};
use crate::input;
use crate::store::PUBLIC_MODE;
use crate::yaml::{self, Value, map, s};

const COMPOSE_OVERRIDE: &str = "docker-compose.tls.yml";

/// What `--milvus-config` must be.
const MILVUS_CONFIG: &str = "a Milvus configuration file (YAML)";

/// The Compose files: `tls/` (with the dependencies' files under `tls/`,
/// `tls-etcd/`, `tls-minio/`), the Milvus configuration and the override.
pub(super) fn export(
    dir: &Path,
    certs: &Certs,
    config: &Config,
    milvus_config: Option<&Path>,
) -> Result<Export> {
    let settings = config.milvus("/milvus/tls");
    // Milvus 2.4 and later read configs/milvus.yaml, then default.yaml, then
    // user.yaml (`defaultYaml` in pkg/util/paramtable/base_table.go), so a
    // fragment mounted as user.yaml overrides just the TLS keys. Milvus 2.3
    // reads milvus.yaml alone: there the whole file must be replaced.
    let (name, mount, contents) = match milvus_config {
        None => (
            "user.yaml",
            "/milvus/configs/user.yaml",
            format!(
                "# TLS settings for Milvus (made by milvus-certs), mounted as\n\
                 # /milvus/configs/user.yaml. Milvus 2.4 and later read user.yaml after\n\
                 # milvus.yaml, so these keys override the image's defaults. Milvus 2.3 and\n\
                 # earlier do not read user.yaml: for them run\n\
                 #   milvus-certs export compose --milvus-config milvus.yaml ...\n\
                 # with the full milvus.yaml of your release instead.\n{}",
                yaml::document(&settings)
            ),
        ),
        Some(path) => {
            let bytes = input::read_required(
                path,
                MILVUS_CONFIG,
                "the Milvus configuration given with --milvus-config",
                "pass the full milvus.yaml of your Milvus release (configs/milvus.yaml in the \
                 Milvus repository at your release's tag)",
            )?;
            let text = String::from_utf8(bytes).map_err(|e| {
                Error::bad_file(
                    path,
                    MILVUS_CONFIG,
                    format!(
                        "it is not UTF-8 text (invalid byte at offset {}); pass the milvus.yaml of your Milvus release",
                        e.utf8_error().valid_up_to()
                    ),
                )
            })?;
            let edited =
                crate::milvus_yaml::set_keys(path, &text, &crate::milvus_yaml::flatten(&settings))?;
            (
                "milvus.yaml",
                "/milvus/configs/milvus.yaml",
                format!(
                    "# {} with the TLS settings of milvus-certs (tls, common.security,\n\
                     # proxy.http.port{}{}); every other line is as it was. Mounted over\n\
                     # /milvus/configs/milvus.yaml, which every Milvus release reads.\n{edited}",
                    path.file_name().map_or_else(
                        || path.display().to_string(),
                        |n| n.to_string_lossy().into_owned()
                    ),
                    if config.sni.is_some() {
                        ", internaltls"
                    } else {
                        ""
                    },
                    config.stack.map_or(String::new(), |st| {
                        st.milvus("")
                            .iter()
                            .map(|(k, _)| format!(", {k}"))
                            .collect()
                    })
                ),
            )
        }
    };
    let mut volumes = vec![s("./tls:/milvus/tls:ro"), s(format!("./{name}:{mount}:ro"))];
    let mut standalone = Vec::new();
    let mut services = Vec::new();
    if let Some(st) = config.stack {
        let (v, env) = st.standalone("./tls");
        volumes.extend(v);
        if !env.is_empty() {
            standalone.push(("environment", map(env)));
        }
        services = st.services();
    }
    standalone.splice(
        0..0,
        [
            ("volumes", Value::Seq(volumes)),
            // proxy.http.port moves the RESTful API to 8080.
            ("ports", Value::Seq(vec![s("8080:8080")])),
        ],
    );
    let mut all = vec![("standalone", map(standalone))];
    all.extend(services);
    let override_file = yaml::document(&map([("services", map(all))]));
    let override_file = format!(
        "# Use next to the guide's docker-compose.yml:\n\
         #   docker compose -f docker-compose.yml -f {COMPOSE_OVERRIDE} up -d\n{override_file}"
    );
    let mut next = Vec::new();
    if milvus_config.is_none() {
        let mut args = format!("--dir {} --mode {}", sh_path(dir), config.mode.value());
        if let Some(sni) = config.sni {
            args.push_str(&format!(" --internal --sni {}", crate::shell::quote(sni)));
        }
        if let Some(st) = config.stack {
            for (on, flag) in [
                (st.deps.etcd, " --etcd"),
                (st.deps.s3, " --s3"),
                (st.deps.kafka, " --kafka"),
            ] {
                if on {
                    args.push_str(flag);
                }
            }
        }
        next.push(format!(
            "# Milvus 2.3 and earlier do not read user.yaml: for them run `milvus-certs export compose \
             {args} --milvus-config RELEASE-milvus.yaml --out . --force` with the full milvus.yaml of \
             your release (kept elsewhere: the input is never overwritten)"
        ));
    }
    next.push(format!(
        "docker compose -f docker-compose.yml -f {COMPOSE_OVERRIDE} up -d"
    ));
    next.push(check_command(dir, &certs.server, Some("localhost"), 19530));
    let mut files = Vec::from(OutFile::pair(
        "tls/server.pem",
        &certs.server_pem,
        "tls/server.key",
        &certs.server_key,
    ));
    files.push(OutFile::new("tls/ca.pem", &*certs.ca_pem, PUBLIC_MODE));
    if let Some(st) = config.stack {
        files.extend(st.milvus_files("tls/"));
        files.extend(st.service_files());
    }
    files.extend([
        OutFile::new(name, contents, PUBLIC_MODE),
        OutFile::new(COMPOSE_OVERRIDE, override_file, PUBLIC_MODE),
    ]);
    Ok(Export {
        files,
        stdout: None,
        next,
        warnings: Vec::new(),
        recovery: None,
        input: milvus_config.map(Path::to_path_buf),
    })
}
