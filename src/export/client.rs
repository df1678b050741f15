//! `export client`: pymilvus code and curl commands that connect with the
//! directory's files, to a name the server certificate has.

use std::fmt::Write as _;
use std::path::Path;

use super::milvus::{check_command, default_host};
use super::preflight::Certs;
use super::{Export, OutFile, TlsMode};
use crate::error::{Error, Result};
use crate::files;
use crate::keys::KeyType;
use crate::names::SanName;
use crate::store::PUBLIC_MODE;

/// `client.py` and `curl.sh`, also printed without `--out`; `--host` must be
/// a name of the server certificate.
pub(super) fn export(
    dir: &Path,
    certs: &Certs,
    mode: TlsMode,
    host: Option<&str>,
    port: u16,
    http_port: u16,
) -> Result<Export> {
    let server = &certs.server;
    let host = match host {
        Some(h) => h.to_string(),
        None => default_host(server),
    };
    // The name must be one the server certificate has, or every client
    // fails ("certificate is valid for localhost, not milvus-proxy").
    let name = SanName::parse("--host", &host)?;
    if !server.matches_name(&name) {
        return Err(Error::NameNotInCert {
            option: "--host",
            name: host,
            cert: dir.join(files::SERVER_PEM),
            names: server.sans.iter().map(|n| n.to_string()).collect(),
        });
    }
    let authority = match name {
        SanName::Ip(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
        _ => host.clone(),
    };
    let dir = crate::shell::absolute(dir);
    let path = |f: &str| dir.join(f).display().to_string();

    let mut py = String::new();
    let _ = writeln!(
        py,
        "# pymilvus, tlsMode {} (made by milvus-certs from {})",
        mode.value(),
        dir.display()
    );
    py.push_str("from pymilvus import MilvusClient\n\nclient = MilvusClient(\n");
    let _ = writeln!(
        py,
        "    uri={},",
        py_str(&format!("https://{authority}:{port}"))
    );
    py.push_str("    secure=True,\n");
    match mode {
        TlsMode::OneWay => {
            // pymilvus hands server_pem_path to gRPC as the trusted root, so
            // ca.pem works there and, unlike server.pem, survives a renewal.
            let _ = writeln!(py, "    server_pem_path={},", py_str(&path(files::CA_PEM)));
        }
        TlsMode::Mutual => {
            let _ = writeln!(
                py,
                "    client_pem_path={},",
                py_str(&path(files::CLIENT_PEM))
            );
            let _ = writeln!(
                py,
                "    client_key_path={},",
                py_str(&path(files::CLIENT_KEY))
            );
            let _ = writeln!(py, "    ca_pem_path={},", py_str(&path(files::CA_PEM)));
        }
    }
    let _ = writeln!(py, "    server_name={},", py_str(&host));
    py.push_str(")\n");

    let sh = crate::shell::quote;
    let mut curl = String::from("#!/bin/sh\n");
    let _ = writeln!(
        curl,
        "# Milvus's RESTful API over TLS (tlsMode {}), made by milvus-certs.",
        mode.value()
    );
    let _ = write!(curl, "curl --cacert {}", sh(&path(files::CA_PEM)));
    if mode == TlsMode::Mutual {
        let _ = write!(
            curl,
            " --cert {} --key {}",
            sh(&path(files::CLIENT_PEM)),
            sh(&path(files::CLIENT_KEY))
        );
    }
    let _ = writeln!(
        curl,
        " \\\n  -H 'Content-Type: application/json' -d '{{}}' \\\n  {}",
        sh(&format!(
            "https://{authority}:{http_port}/v2/vectordb/collections/list"
        ))
    );

    let stdout = format!("{py}\n{}", curl.trim_start_matches("#!/bin/sh\n"));
    let mut warnings = Vec::new();
    if server.key_type == Some(KeyType::Ed25519) {
        warnings.push(format!(
            "{} has an Ed25519 key: {}",
            dir.join(files::SERVER_PEM).display(),
            crate::keys::ED25519_CLIENT_WARNING
        ));
    }
    Ok(Export {
        files: vec![
            OutFile::new("client.py", py, PUBLIC_MODE),
            OutFile::new("curl.sh", curl, 0o755),
        ],
        stdout: Some(stdout),
        next: vec![
            "python3 client.py".to_string(),
            "sh curl.sh".to_string(),
            check_command(&dir, server, Some(&host), port),
        ],
        warnings,
        recovery: None,
        input: None,
    })
}

/// A Python string literal (double-quoted, with backslash escapes).
fn py_str(v: &str) -> String {
    let mut q = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if c.is_control() => q.push_str(&format!("\\u{:04x}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_strings() {
        assert_eq!(py_str("/a \"b\"\\c"), "\"/a \\\"b\\\"\\\\c\"");
        assert_eq!(py_str("\n"), "\"\\u000a\"");
    }
}
