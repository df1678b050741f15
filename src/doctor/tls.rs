//! Milvus's own TLS settings: `common.security.tlsMode` and the `tls`
//! section (with the REST port that cannot share the gRPC port once TLS is
//! on), `common.security.internaltlsEnabled` and `internaltls`, the legacy
//! `tlsEnabled` key and sections written under `common:`; with a
//! certificate folder, the certificates those settings name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::deployment::{Deployment, Setting, before};
use super::mounts::{TlsFile, container_path, host_file, load_cert, mount_for, under};
use super::{EXAMPLE_CERTS, Located, Location};
use crate::checks::{self, Finding};
use crate::leaf::Role;
use crate::names::SanName;

pub(super) fn check(
    d: &Deployment,
    dir: Option<&Path>,
    now: OffsetDateTime,
    out: &mut Vec<Located>,
) {
    let push = |out: &mut Vec<Located>, finding, at| out.push(Located { finding, at });

    // tls:/internaltls: under common:, and the legacy tlsEnabled key.
    let mut legacy = None;
    for l in &d.layers {
        for section in ["tls", "internaltls"] {
            if let Some((_, line)) = l.root.path(&["common", section]) {
                push(
                    out,
                    Finding::TlsUnderCommon {
                        section: section.to_string(),
                    },
                    l.at(&format!("common.{section}"), line),
                );
            }
        }
        if let Some((_, line)) = l.root.path(&["common", "security", "tlsEnabled"]) {
            legacy = Some(l.at("common.security.tlsEnabled", line));
        }
    }
    if let Some((_, _, at)) = d
        .env
        .iter()
        .find(|(k, _, _)| k == "COMMON_SECURITY_TLSENABLED")
    {
        legacy = Some(at.clone());
    }

    let mode_setting = d.setting(&["common", "security", "tlsMode"]);
    let mode = match &mode_setting {
        None => 0,
        Some(s) => match s.value.trim() {
            "" | "0" => 0,
            "1" => 1,
            "2" => 2,
            other => {
                push(
                    out,
                    Finding::InvalidTlsMode {
                        value: other.to_string(),
                    },
                    s.at.clone(),
                );
                return;
            }
        },
    };
    let mode_at = mode_setting
        .as_ref()
        .map_or_else(|| d.nowhere("common.security.tlsMode"), |s| s.at.clone());
    if let Some(at) = legacy {
        push(out, Finding::LegacyTlsEnabled { tls_on: mode > 0 }, at);
    } else if mode == 0 {
        push(out, Finding::TlsDisabled, mode_at.clone());
    }

    if mode > 0 {
        // internal/distributed/proxy: with TLS on, the REST server needs
        // its own port (proxy.http.port, unset by default) unless disabled.
        let http_on = d
            .setting(&["proxy", "http", "enabled"])
            .is_none_or(|s| !s.value.trim().eq_ignore_ascii_case("false"));
        let grpc = d
            .setting(&["proxy", "port"])
            .map(|s| s.value.trim().to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "19530".to_string());
        let http = d.setting(&["proxy", "http", "port"]);
        let shared = http
            .as_ref()
            .is_none_or(|h| h.value.trim().is_empty() || h.value.trim() == grpc);
        // Milvus 2.3.5 (the PyPI wheel's server) serves TLS on a shared port:
        // checked with the real server. The refusal is in 2.4 and later.
        let before_2_4 = d.image.as_deref().is_some_and(|i| before(i, (2, 4)));
        if http_on && shared && !before_2_4 {
            push(
                out,
                Finding::RestPortSharesGrpcPort { port: grpc },
                http.map_or_else(|| mode_at.clone(), |h| h.at),
            );
        }
        let mut keys = vec!["serverPemPath", "serverKeyPath"];
        if mode == 2 {
            keys.push("caPemPath");
        }
        let files = paths(d, "tls", &keys, &mode_at, out);
        if let Some(dir) = dir {
            certificates(d, dir, &files, mode, None, now, out);
        }
    }

    let internal = d.setting(&["common", "security", "internaltlsEnabled"]);
    let internal = internal.filter(|s| s.value.trim().eq_ignore_ascii_case("true"));
    // InternalTLSConfig (pkg/util/paramtable/grpc_param.go) is "Version: 2.5.0".
    if let (Some(s), Some(image)) = (&internal, &d.image)
        && before(image, (2, 5))
    {
        push(
            out,
            Finding::InternalTlsUnsupported {
                image: image.clone(),
            },
            s.at.clone(),
        );
        return;
    }
    if let Some(s) = internal {
        let keys = ["serverPemPath", "serverKeyPath", "caPemPath"];
        let files = paths(d, "internaltls", &keys, &s.at, out);
        let sni = d
            .setting(&["internaltls", "sni"])
            .filter(|n| !n.value.trim().is_empty());
        if let Some(dir) = dir {
            certificates(d, dir, &files, 1, sni.as_ref(), now, out);
        }
    }
}

/// Checks each `section.key` path; returns those that can be read.
fn paths(
    d: &Deployment,
    section: &str,
    keys: &[&str],
    unset_at: &Location,
    out: &mut Vec<Located>,
) -> Vec<TlsFile> {
    let mut files = Vec::new();
    for key in keys {
        let name = format!("{section}.{key}");
        let Some(s) = d
            .setting(&[section, key])
            .filter(|s| !s.value.trim().is_empty())
        else {
            // Written under common: instead: tls_under_common says so, and
            // moving the section fixes both.
            let under_common = d
                .layers
                .iter()
                .any(|l| l.root.path(&["common", section, key]).is_some());
            if !under_common {
                out.push(Located {
                    finding: Finding::ExampleCertificate {
                        key: name,
                        path: None,
                    },
                    at: unset_at.clone(),
                });
            }
            continue;
        };
        let written = s.value.trim().to_string();
        let container = container_path(&written);
        let mount = d.mounts.as_ref().and_then(|m| mount_for(m, &container));
        if mount.is_none() && under(&container, EXAMPLE_CERTS) {
            out.push(Located {
                finding: Finding::ExampleCertificate {
                    key: name,
                    path: Some(written),
                },
                at: s.at,
            });
            continue;
        }
        if let (Some(mounts), None) = (&d.mounts, mount) {
            out.push(Located {
                finding: Finding::PathNotMounted {
                    path: container,
                    mounts: mounts.iter().map(|m| m.target.clone()).collect(),
                },
                at: s.at,
            });
            continue;
        }
        files.push(TlsFile {
            key: key.to_string(),
            container,
            at: s.at,
        });
    }
    files
}

/// The certificate checks of one TLS section (`tls` or `internaltls`).
fn certificates(
    d: &Deployment,
    dir: &Path,
    files: &[TlsFile],
    mode: u8,
    sni: Option<&Setting>,
    now: OffsetDateTime,
    out: &mut Vec<Located>,
) {
    let ca_dir = dir.join(crate::files::CA_KEY).is_file().then_some(dir);
    let mut found: HashMap<&str, (PathBuf, &TlsFile)> = HashMap::new();
    for f in files {
        let host = host_file(d, dir, &f.container);
        if !host.is_file() {
            out.push(Located {
                finding: Finding::FileMissing {
                    file: host.display().to_string(),
                    what: "the file the configuration names",
                    needed_by: "Milvus reads it when it starts",
                },
                at: f.at.clone(),
            });
            continue;
        }
        found.insert(f.key.as_str(), (host, f));
    }
    let mut push = |finding: Finding, at: &Location| {
        out.push(Located {
            finding,
            at: at.clone(),
        })
    };
    let server = found
        .get("serverPemPath")
        .and_then(|(p, f)| match load_cert(p) {
            Ok(c) => Some((c, *f)),
            Err(e) => {
                push(e, &f.at);
                None
            }
        });
    let ca = found
        .get("caPemPath")
        .and_then(|(p, f)| match load_cert(p) {
            Ok(c) => Some((c, *f)),
            Err(e) => {
                push(e, &f.at);
                None
            }
        });
    if let Some((ca, caf)) = &ca
        && let Some(f) = checks::not_a_ca(ca)
    {
        push(f, &caf.at);
    }
    let Some((cert, cf)) = server else {
        return;
    };
    let remedy = || Some(checks::Remedy::renew(ca_dir, &["--only", "server"]));
    if let Some(f) = checks::validity(&cert, now, checks::EXPORT_WARN_DAYS, remedy()) {
        push(f, &cf.at);
    }
    for f in checks::purpose(&cert, Role::Server, ca_dir) {
        push(f, &cf.at);
    }
    if let Some((key_path, kf)) = found.get("serverKeyPath") {
        match crate::input::read_bounded(key_path) {
            Ok(bytes) => {
                if let (_, Some(f)) = checks::key_pair(key_path, &bytes, &cert, remedy()) {
                    push(f, &kf.at);
                }
            }
            Err(e) => push(
                Finding::KeyUnreadable {
                    reason: format!("{}: cannot be read ({e})", key_path.display()),
                },
                &kf.at,
            ),
        }
    }
    if let Some((ca, caf)) = &ca
        && let Some(f) = checks::issued_by(&cert, ca, &caf.container, remedy())
    {
        push(f, &caf.at);
    }
    if let Some(sni) = sni {
        let name = sni.value.trim();
        let name = match name.parse::<std::net::IpAddr>() {
            Ok(ip) => SanName::Ip(ip),
            Err(_) => SanName::Dns(name.to_ascii_lowercase()),
        };
        for f in checks::names(&cert, &[name], ca_dir) {
            push(f, &sni.at);
        }
    }
    // tlsMode 2: the folder's client certificate must have clientAuth and
    // chain to the CA Milvus trusts.
    let client = dir.join(crate::files::CLIENT_PEM);
    if mode == 2 && client.is_file() {
        let at = Location {
            file: client.clone(),
            key: String::new(),
            line: None,
        };
        match load_cert(&client) {
            Err(f) => push(f, &at),
            Ok(c) => {
                for f in checks::purpose(&c, Role::Client, ca_dir) {
                    push(f, &at);
                }
                if let Some((ca, caf)) = &ca
                    && let Some(f) = checks::issued_by(
                        &c,
                        ca,
                        &caf.container,
                        Some(checks::Remedy::renew(ca_dir, &["--only", "client"])),
                    )
                {
                    push(f, &at);
                }
            }
        }
    }
}
