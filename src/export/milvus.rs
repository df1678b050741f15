//! Milvus's side of every target: the configuration keys the guide sets,
//! the name clients reach the server by, and the `inspect --connect` step
//! that checks the server really speaks TLS.

use std::path::Path;

use super::TlsMode;
use super::stack::Stack;
use crate::certinfo::CertInfo;
use crate::files;
use crate::names::SanName;
use crate::yaml::{Value, map, s};

/// The settings the guide adds to Milvus's configuration, with the
/// certificate files under `base`.
pub(super) struct Config<'a> {
    pub(super) mode: TlsMode,
    pub(super) sni: Option<&'a str>,
    pub(super) stack: Option<&'a Stack>,
}

impl Config<'_> {
    pub(super) fn milvus(&self, base: &str) -> Value {
        let paths = |sni: Option<&str>| {
            let mut m = vec![
                ("serverPemPath", s(format!("{base}/{}", files::SERVER_PEM))),
                ("serverKeyPath", s(format!("{base}/{}", files::SERVER_KEY))),
                ("caPemPath", s(format!("{base}/{}", files::CA_PEM))),
            ];
            if let Some(sni) = sni {
                m.push(("sni", s(sni)));
            }
            map(m)
        };
        let mut security = vec![("tlsMode", Value::Int(self.mode.value()))];
        if self.sni.is_some() {
            security.push(("internaltlsEnabled", Value::Bool(true)));
        }
        let mut top = vec![
            // The RESTful API cannot share gRPC's port 19530 under TLS (the guide).
            ("proxy", map([("http", map([("port", Value::Int(8080))]))])),
            ("common", map([("security", map(security))])),
            ("tls", paths(None)),
        ];
        if let Some(sni) = self.sni {
            top.push(("internaltls", paths(Some(sni))));
        }
        if let Some(st) = self.stack {
            top.extend(st.milvus(base));
        }
        map(top)
    }
}

/// A directory as a shell word, absolute: the "Next" commands run in the
/// output directory.
pub(super) fn sh_path(dir: &Path) -> String {
    crate::shell::quote(&crate::shell::absolute(dir).display().to_string())
}

/// The last "Next" step of every target: check that the server really
/// speaks TLS with these files (a server that ignored its configuration
/// answers in plaintext, which `inspect --connect` reports). It connects to
/// `host` (default: the name clients use, as `export client` picks it) and
/// verifies the server's name, which is given with `--server-name` when the
/// host is not one of the certificate's names.
pub(super) fn check_command(
    dir: &Path,
    server: &CertInfo,
    host: Option<&str>,
    port: u16,
) -> String {
    let name = default_host(server);
    let host = host.map_or_else(|| name.clone(), str::to_string);
    let authority = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    let mut cmd = format!(
        "milvus-certs inspect --connect {} --dir {}",
        crate::shell::quote(&format!("{authority}:{port}")),
        sh_path(dir)
    );
    let matches = SanName::parse("--host", &host).is_ok_and(|n| server.matches_name(&n));
    if !matches && !name.is_empty() {
        cmd.push_str(&format!(" --server-name {}", crate::shell::quote(&name)));
    }
    cmd
}

/// The name clients use by default: the server's common name when it is
/// one of its names, else its first subjectAltName.
pub(super) fn default_host(server: &CertInfo) -> String {
    server
        .subject_attrs
        .common_name
        .clone()
        .filter(|cn| SanName::parse("--host", cn).is_ok_and(|n| server.matches_name(&n)))
        .or_else(|| server.sans.first().map(|n| n.to_string()))
        .unwrap_or_default()
}
