//! `inspect --connect`: a TLS handshake (rustls, TLS 1.2 and 1.3) with a
//! running server, reporting the chain it presents and whether it verifies.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::ServerName;
use time::OffsetDateTime;

use super::judge::finish;
use super::read::role_from_content;
use super::{ClientAuth, Entry, InspectOptions};
use crate::certinfo::CertInfo;
use crate::checks::{self, Finding};
use crate::files;
use crate::issue::CertRole;
use crate::leaf::Role;
use crate::names::SanName;

mod failure;
mod handshake;

use failure::{Failed, Failure};
use handshake::Session;

/// Which servers to reach, and how to verify them.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The servers, `HOST:PORT` each (`[v6]:PORT` too).
    pub servers: Vec<String>,
    /// The CA certificate(s) to verify the server against.
    pub ca: PathBuf,
    /// The client certificate to present when the server asks for one;
    /// without it (or its key), the folder's `client.pem`, when it and
    /// `client.key` are there.
    pub client_cert: Option<PathBuf>,
    /// Its key.
    pub client_key: Option<PathBuf>,
    /// The name to verify (the first; default: the host).
    pub server_names: Vec<String>,
    /// One deadline for the name lookup, the connection, the handshake and
    /// the wait for a rejection alert, counted from the start.
    pub timeout: Duration,
}

impl ConnectOptions {
    /// These options with the client files given, or else those of
    /// `folder` (looked for after the folder's own inspection, which may
    /// have completed an interrupted write that puts them in place).
    pub(super) fn with_client_of(&self, folder: &Path) -> ConnectOptions {
        let mut o = self.clone();
        if o.client_cert.is_none() || o.client_key.is_none() {
            let (c, k) = (
                folder.join(files::CLIENT_PEM),
                folder.join(files::CLIENT_KEY),
            );
            (o.client_cert, o.client_key) = if c.exists() && k.exists() {
                (Some(c), Some(k))
            } else {
                (None, None)
            };
        }
        o
    }
}

/// Splits `host:port` (`[v6]:port` too).
fn split_target(target: &str) -> Option<(String, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// Connects to `target` and returns one entry per certificate it presents
/// (or one `invalid` entry saying why there was none).
pub(super) fn inspect_endpoint(
    target: &str,
    opts: &ConnectOptions,
    inspect: &InspectOptions,
    now: OffsetDateTime,
) -> Vec<Entry> {
    let fail = |reason: String| {
        let mut e = Entry::unreadable(
            target.to_string(),
            Some(CertRole::Leaf(Role::Server)),
            Finding::ConnectionFailed { reason },
        );
        finish(&mut e, now, inspect.warn_days);
        vec![e]
    };
    // A pymilvus `uri=` pasted as is: say what to pass instead.
    if let Some((scheme, rest)) = target.split_once("://") {
        let bare = rest.split('/').next().unwrap_or(rest);
        let bare = if bare.contains(':') {
            bare.to_string()
        } else {
            format!("{bare}:19530")
        };
        return fail(format!(
            "{target:?} has a scheme ({scheme}://), but --connect takes HOST:PORT: pass --connect {}",
            crate::shell::quote(&bare)
        ));
    }
    let Some((host, port)) = split_target(target) else {
        return fail(format!(
            "{target:?} is not HOST:PORT (for example milvus.example.com:19530)"
        ));
    };
    let name = opts
        .server_names
        .first()
        .cloned()
        .unwrap_or_else(|| host.clone());
    let server_name = match ServerName::try_from(name.clone()) {
        Ok(n) => n,
        Err(_) => return fail(format!("{name:?} is not a valid server name")),
    };
    let Session {
        chain,
        asked,
        outcome,
    } = match handshake::connect(&host, port, server_name, opts) {
        Ok(s) => s,
        Err(problem) => return fail(problem),
    };

    let mut entries: Vec<Entry> = Vec::new();
    for (i, der) in chain.iter().enumerate() {
        let source = if i == 0 {
            target.to_string()
        } else {
            format!("{target}#{}", i + 1)
        };
        match CertInfo::from_der(der) {
            Ok(cert) => {
                let role = if i == 0 {
                    Some(CertRole::Leaf(Role::Server))
                } else {
                    role_from_content(&cert)
                };
                let mut found = Vec::new();
                if i == 0 {
                    found.extend(checks::purpose(&cert, Role::Server, None));
                    let mut names: Vec<SanName> = inspect.server_names.clone();
                    if names.is_empty() {
                        names.extend(SanName::parse("--connect", &host).ok());
                    }
                    found.extend(checks::names(&cert, &names, None));
                }
                let mut e = Entry::of(source, role, cert);
                e.findings = found;
                entries.push(e);
            }
            Err(reason) => entries.push(Entry::unreadable(
                source,
                None,
                Finding::NotACertificate {
                    reason: format!("the server presented an unreadable certificate: {reason}"),
                },
            )),
        }
    }
    let client_auth = match (&outcome, asked) {
        (_, false) => None,
        (Err(Failed(Failure::ClientRejected, reason)), true) if opts.client_cert.is_some() => {
            Some(ClientAuth::Rejected(reason.clone()))
        }
        (Err(Failed(Failure::ClientRequired, _)), true) => Some(ClientAuth::NotGiven),
        (Err(_), true) => None,
        (Ok(()), true) => Some(match &opts.client_cert {
            Some(c) => ClientAuth::Accepted(c.clone()),
            None => ClientAuth::NotGiven,
        }),
    };
    if let Some(leaf) = entries.first_mut() {
        match &client_auth {
            Some(ClientAuth::Rejected(reason)) => leaf.findings.push(Finding::ClientCertRejected {
                reason: reason.clone(),
            }),
            Some(ClientAuth::NotGiven) => leaf.findings.push(Finding::ClientCertNotGiven),
            _ => {}
        }
        leaf.client_auth = client_auth.clone();
    }
    if let Err(Failed(kind, reason)) = outcome {
        match entries.first_mut() {
            Some(leaf) => {
                // Keep the name finding of our own rather than saying it twice.
                let named = leaf
                    .findings
                    .iter()
                    .any(|f| matches!(f, Finding::NameMismatch { .. }));
                let said = match kind {
                    Failure::NameMismatch => named,
                    Failure::ClientRejected => client_auth.is_some(),
                    _ => false,
                };
                if !said {
                    leaf.findings.push(Finding::ConnectionFailed { reason });
                }
            }
            None => return fail(reason),
        }
    }
    for e in &mut entries {
        finish(e, now, inspect.warn_days);
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split() {
        assert_eq!(split_target("milvus:19530"), Some(("milvus".into(), 19530)));
        assert_eq!(split_target("[::1]:443"), Some(("::1".into(), 443)));
        assert_eq!(split_target("milvus"), None);
        assert_eq!(split_target(":1"), None);
        assert_eq!(split_target("h:99999"), None);
    }
}
