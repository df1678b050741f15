//! What to do about a finding: the `renew` (or other command) that fixes
//! it, written so that it works when copied as printed.

use std::fmt;
use std::path::{Path, PathBuf};

use super::Finding;
use crate::shell;

/// What to run (or do) to fix a finding about a certificate that is renewed
/// from a CA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remedy {
    /// The CA folder is known: `milvus-certs renew` with these arguments
    /// there (`--dir` added when it is not the current directory).
    Renew {
        /// The folder holding `ca.key`.
        dir: PathBuf,
        /// The arguments after `renew --dir DIR`, e.g. `["--only", "server"]`.
        args: Vec<String>,
    },
    /// The folder holds copies (a deployment or client folder, or loose
    /// files): renew where `ca.key` is, then copy or export them again.
    Elsewhere {
        /// The arguments of the `renew` to run there.
        args: Vec<String>,
    },
    /// Another command that works when copied (what renewing would keep,
    /// such as an added certificate's profile, needs `add --force`).
    Command(String),
}

impl Remedy {
    /// `renew ARGS` in `dir` when `dir` is the CA folder, else elsewhere.
    pub(crate) fn renew(ca_dir: Option<&Path>, args: &[&str]) -> Remedy {
        let args = args.iter().map(|a| a.to_string()).collect();
        match ca_dir {
            Some(dir) => Remedy::Renew {
                dir: dir.to_path_buf(),
                args,
            },
            None => Remedy::Elsewhere { args },
        }
    }
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remedy::Renew { dir, args } => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                write!(f, "run `{}`", shell::milvus_certs("renew", dir, &args))
            }
            Remedy::Command(cmd) => write!(f, "run `{cmd}`"),
            Remedy::Elsewhere { args } => {
                let mut cmd = String::from("milvus-certs renew");
                for a in args {
                    cmd.push(' ');
                    cmd.push_str(&shell::quote(a));
                }
                write!(
                    f,
                    "run `{cmd}` in the folder that holds ca.key (or add --dir FOLDER), then copy the \
                     new files here (`milvus-certs export` writes them)"
                )
            }
        }
    }
}

impl Finding {
    /// What to do about it, when something can be done.
    pub fn fix(&self) -> Option<String> {
        let remedy = |r: &Option<Remedy>| r.as_ref().map(|r| r.to_string());
        match self {
            Finding::Expired { remedy: r, .. }
            | Finding::Expiring { remedy: r, .. }
            | Finding::NotIssuedByCa { remedy: r, .. }
            | Finding::NotALeaf { remedy: r, .. }
            | Finding::MissingServerAuth { remedy: r, .. }
            | Finding::MissingClientAuth { remedy: r, .. }
            | Finding::NameMismatch { remedy: r, .. } => remedy(r),
            Finding::KeyMismatch {
                remedy,
                backup,
                key_file,
            } => {
                let copy = match backup {
                    Some(b) => format!(" (an earlier {key_file} is in {}/)", b.display()),
                    None => String::new(),
                };
                Some(match remedy {
                    Some(r) => format!("restore the matching key{copy}, or {r}"),
                    None => format!("restore the matching key{copy}"),
                })
            }
            Finding::DerEncoded { fix, .. } => Some(fix.clone()),
            Finding::NotYetValid { .. } => Some("check this machine's clock".into()),
            Finding::KeyUnreadable { .. } | Finding::NotACertificate { .. } => Some(
                "restore a good copy (milvus-certs keeps the files it replaced under backup/)"
                    .into(),
            ),
            Finding::NotACa { .. } => Some(
                "use the ca.pem made by `milvus-certs gen` or the guide's gen.sh".into(),
            ),
            Finding::BadSignature => Some("restore a good copy".into()),
            Finding::OutlivesCa { .. } => None,
            Finding::SerialBehind { dir, .. } => Some(format!(
                "run `{}`, which continues after the highest serial (the guide's renew.sh would reuse one)",
                shell::milvus_certs("renew", dir, &[])
            )),
            Finding::SerialFileInvalid { .. } => Some(
                "fix it or remove it (a random serial is then used, as openssl -CAcreateserial does)"
                    .into(),
            ),
            Finding::FileMissing { .. } => Some(
                "restore it, or copy it from the folder made by `milvus-certs gen` (`milvus-certs export` writes deployment folders)"
                    .into(),
            ),
            Finding::NoCertificateFiles { dir } => Some(format!(
                "check --dir, or make them with `{}`",
                shell::milvus_certs("gen", dir, &[])
            )),
            Finding::KeyReadableByOthers { file, .. } => Some(format!(
                "run `chmod 600 {}` (in Kubernetes, mount the Secret with defaultMode 0400)",
                shell::quote(&file.to_string_lossy())
            )),
            Finding::DirectoryWritableByOthers { dir, .. } => Some(format!(
                "run `chmod go-w {}`",
                shell::quote(&dir.to_string_lossy())
            )),
            Finding::PendingWrite { dir } => Some(format!(
                "run `{}` to complete or roll it back",
                shell::milvus_certs("inspect", dir, &[])
            )),
            Finding::ConnectionFailed { .. } => None,
            Finding::ClientCertRejected { .. } => Some(
                "present a client certificate issued by the CA the server trusts, with clientAuth (--client-cert/--client-key, or --dir)"
                    .into(),
            ),
            Finding::ClientCertNotGiven => {
                Some("pass --dir or --client-cert/--client-key to present one".into())
            }
            Finding::CaMissingExtensions { missing, dir } => Some(format!(
                "add {} with `{}` (same key and subject: issued certificates stay valid)",
                if missing.len() == 1 { "it" } else { "them" },
                shell::milvus_certs("renew", dir, &["--ca"])
            )),
            Finding::TlsDisabled => Some(
                "set common.security.tlsMode: 1 (or 2 for mutual TLS) and the tls paths \
                 (`milvus-certs gen` makes the files, `milvus-certs export` the settings and mounts)"
                    .into(),
            ),
            Finding::InvalidTlsMode { .. } => Some(
                "set common.security.tlsMode to 0 (off), 1 (one-way TLS) or 2 (mutual TLS)".into(),
            ),
            Finding::RestPortSharesGrpcPort { .. } => Some(
                "set proxy.http.port: 8080 (any port but proxy.port) and publish it, as the guide does"
                    .into(),
            ),
            Finding::TlsUnderCommon { section } => Some(format!(
                "move `{section}:` out of `common:` to the top level of the configuration"
            )),
            Finding::LegacyTlsEnabled { .. } => Some(
                "remove common.security.tlsEnabled; common.security.tlsMode (1 or 2) turns TLS on"
                    .into(),
            ),
            Finding::ExampleCertificate { key, .. } => Some(format!(
                "point {key} at your own file, mounted outside /milvus/configs (e.g. /milvus/tls/); \
                 `milvus-certs gen` makes the files and `milvus-certs export` the settings and mounts"
            )),
            Finding::PathNotMounted { path, .. } => {
                let dir = Path::new(path)
                    .parent()
                    .map_or_else(|| "/".to_string(), |p| p.display().to_string());
                Some(format!(
                    "mount the folder holding the file at {dir} (a volume and a volumeMount, or a \
                     Compose bind mount), or point the key at a mounted path"
                ))
            }
            Finding::UserYamlIgnored { .. } => Some(
                "mount a full milvus.yaml (your release's, with the TLS keys set) at \
                 /milvus/configs/milvus.yaml instead, or use Milvus 2.4 or later"
                    .into(),
            ),
            Finding::InternalTlsUnsupported { .. } => {
                Some("use Milvus 2.5 or later for internal TLS".into())
            }
            Finding::EtcdEndpointNotHttps { .. } => Some(
                "write the endpoint as https://HOST:2379 (etcd.endpoints, or ETCD_ENDPOINTS)".into(),
            ),
            Finding::EtcdHttpsWithoutSsl { .. } => Some(
                "set etcd.ssl.enabled: true with etcd.ssl.tlsCert, tlsKey and tlsCACert \
                 (`milvus-certs add etcd-client` makes the client files, `export --etcd` the settings)"
                    .into(),
            ),
            Finding::EtcdSslPathMissing { key } => Some(format!(
                "set {key} to a mounted file (`milvus-certs add etcd-client` makes the client \
                 certificate and key; the CA is ca.pem)"
            )),
            Finding::EtcdTlsVersionTooLow { .. } => {
                Some("set etcd.ssl.tlsMinVersion: \"1.2\" or \"1.3\"".into())
            }
            Finding::MinioCaNotTrusted { .. } => Some(
                "mount a trust bundle holding your ca.pem over /etc/ssl/certs/ca-certificates.crt \
                 (`milvus-certs export --s3` does), or set minio.ssl.tlsCACert (Milvus 2.3.12 and later) to the CA's path"
                    .into(),
            ),
        }
    }

    /// The message and its fix, as one line: `MESSAGE; FIX`.
    pub fn with_fix(&self) -> String {
        match self.fix() {
            Some(fix) => format!("{self}; {fix}"),
            None => self.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Severity;
    use time::OffsetDateTime;

    #[test]
    fn codes_are_snake_case_and_fixes_carry_the_dir() {
        let f = Finding::Expired {
            not_after: OffsetDateTime::UNIX_EPOCH,
            remedy: Some(Remedy::renew(
                Some(Path::new("old certs")),
                &["--only", "server"],
            )),
        };
        assert_eq!(f.code(), "expired");
        assert!(f.is_problem());
        assert_eq!(
            f.fix().unwrap(),
            "run `milvus-certs renew --dir 'old certs' --only server`"
        );
        let f = Finding::Expiring {
            not_after: OffsetDateTime::UNIX_EPOCH,
            days_left: 3,
            remedy: Some(Remedy::renew(Some(Path::new(".")), &[])),
        };
        assert_eq!(f.severity(), Severity::Warning);
        assert_eq!(f.fix().unwrap(), "run `milvus-certs renew`");
    }
}
