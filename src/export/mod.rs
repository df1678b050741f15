//! `milvus-certs export`: the files each deployment of the guide needs,
//! written from typed values (see [`crate::yaml`]) and from the certificate
//! directory, after checking that what they point at will work (issue 5).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::certinfo::CertInfo;
use crate::checks::{self, Finding, Purpose, Remedy};
use crate::error::{Error, Result};
use crate::files;
use crate::input;
use crate::keys::{KeyType, parse_private_key};
use crate::names::SanName;
use crate::store::{self, DirLock, LOCK_WAIT, PUBLIC_MODE, Recovery, SECRET_MODE};
use crate::yaml::{self, Value, map, s};

pub mod kafka;
pub mod stack;

/// Milvus's `common.security.tlsMode` for external connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// 1: one-way TLS, only the server has a certificate.
    OneWay,
    /// 2: mutual TLS, clients present a certificate from the same CA.
    Mutual,
}

impl TlsMode {
    /// The value of `tlsMode`.
    pub fn value(self) -> i64 {
        match self {
            TlsMode::OneWay => 1,
            TlsMode::Mutual => 2,
        }
    }
}

/// The options every target shares.
#[derive(Clone, Debug)]
pub struct Common {
    /// The certificate directory.
    pub dir: PathBuf,
    /// `tlsMode`.
    pub mode: TlsMode,
    /// Also enable internal TLS between Milvus's components.
    pub internal: bool,
    /// `internaltls.sni`; default: the server certificate's common name.
    pub sni: Option<String>,
    /// TLS for Milvus's etcd, S3 storage and Kafka too (issue 15).
    pub deps: stack::Deps,
}

/// What to export.
#[derive(Clone, Debug)]
pub enum Target {
    /// Docker Compose: `tls/`, a `user.yaml` fragment (or, with
    /// `milvus_config`, a full `milvus.yaml`), an override file.
    Compose {
        /// The user's full `milvus.yaml`, to copy with the TLS settings set
        /// (for Milvus 2.3 and earlier, which do not read `user.yaml`).
        milvus_config: Option<PathBuf>,
    },
    /// The `certs` Secret, as `kubectl create secret generic` makes it.
    K8sSecret {
        /// metadata.name.
        name: String,
        /// metadata.namespace, if any.
        namespace: Option<String>,
    },
    /// A Milvus Operator `Milvus` resource.
    Operator {
        /// metadata.name.
        release: String,
        /// metadata.namespace, if any.
        namespace: Option<String>,
        /// The Secret holding the certificates.
        secret: String,
        /// Mount cert-manager's keys (`tls.crt`, ...) under the guide's names.
        cert_manager: bool,
    },
    /// Helm values for the milvus chart.
    Helm {
        /// The Secret holding the certificates.
        secret: String,
        /// Mount cert-manager's keys (`tls.crt`, ...) under the guide's names.
        cert_manager: bool,
    },
    /// A cert-manager CA Issuer and Certificate, and Helm values using them.
    CertManager {
        /// The namespace of the Secrets, Issuer and Certificate, if any.
        namespace: Option<String>,
        /// The Secret cert-manager keeps the server certificate in.
        secret: String,
    },
    /// pymilvus code and curl commands.
    Client {
        /// The name clients connect to; default: the server's common name.
        host: Option<String>,
        /// The gRPC port.
        port: u16,
        /// The RESTful port (`proxy.http.port`).
        http_port: u16,
    },
}

/// A file `export` makes.
#[derive(Clone, Debug)]
pub struct OutFile {
    /// Its path, relative to the output directory.
    pub path: PathBuf,
    /// Its contents.
    pub contents: Vec<u8>,
    /// Its mode: 0600 when it holds a private key.
    pub mode: u32,
}

impl OutFile {
    pub(crate) fn new(path: &str, contents: impl Into<Vec<u8>>, mode: u32) -> OutFile {
        OutFile {
            path: PathBuf::from(path),
            contents: contents.into(),
            mode,
        }
    }
}

/// What a target produced.
#[derive(Clone, Debug)]
pub struct Export {
    /// The files to write with `--out`.
    pub files: Vec<OutFile>,
    /// What to print without `--out`; `None` when the target needs `--out`.
    pub stdout: Option<String>,
    /// Commands to run next, relative to the output directory.
    pub next: Vec<String>,
    /// Things to know that do not stop the export.
    pub warnings: Vec<String>,
    /// An interrupted write the directory held, completed or rolled back.
    pub recovery: Option<Recovery>,
}

/// The certificate and key files, read and checked.
struct Certs {
    ca_pem: Vec<u8>,
    ca: CertInfo,
    server_pem: Vec<u8>,
    server_key: Vec<u8>,
    server: CertInfo,
}

/// Reads a file `export` needs; a missing one says how to make it there.
fn read_needed(
    dir: &Path,
    name: &str,
    expected: &'static str,
    what: &'static str,
) -> Result<Vec<u8>> {
    let path = dir.join(name);
    input::read_in_folder(&path, expected)?.ok_or_else(|| Error::MissingFile {
        fix: format!(
            "make the files with `{}`, or pass --dir with the folder that holds them",
            crate::shell::milvus_certs("gen", dir, &[])
        ),
        path,
        what,
    })
}
const CERT: &str = "a PEM certificate";
const KEY: &str = "a PEM private key";

/// Makes the files of `target` from `common.dir`. Like every command, it
/// first completes or rolls back an interrupted write in the directory, and
/// holds the directory's lock while reading, so it never sees half a renewal.
pub fn export(common: &Common, target: &Target, now: OffsetDateTime) -> Result<Export> {
    check_target_names(target)?;
    let (_lock, recovery) = DirLock::acquire(&common.dir, LOCK_WAIT)?;
    let certs = load(&common.dir)?;
    let mut warnings = expiry_warnings(&common.dir, &certs, now);
    let sni = match (common.internal, &common.sni) {
        (false, _) => None,
        (true, sni) => Some(check_sni(&common.dir, &certs.server, sni.as_deref())?),
    };
    let uses_mode = !matches!(target, Target::K8sSecret { .. });
    if uses_mode && common.mode == TlsMode::Mutual {
        let need_key = matches!(target, Target::Client { .. });
        if let Some(w) = check_client(&common.dir, &certs.ca, need_key)? {
            warnings.push(w);
        }
    }
    let stack = if common.deps.any() {
        if matches!(target, Target::CertManager { .. } | Target::Client { .. }) {
            return Err(Error::invalid(
                "--etcd/--s3/--kafka",
                "",
                "only compose, k8s-secret, operator and helm write the dependencies' settings",
            ));
        }
        if matches!(
            target,
            Target::Operator {
                cert_manager: true,
                ..
            } | Target::Helm {
                cert_manager: true,
                ..
            }
        ) {
            return Err(Error::invalid(
                "--cert-manager",
                "",
                "the dependencies' files (etcd-client.pem, ca-bundle.crt, ...) are in the Secret \
                 `milvus-certs export k8s-secret --etcd --s3` writes, not in cert-manager's: leave out --cert-manager",
            ));
        }
        let st = stack::Stack::load(
            &common.dir,
            common.deps,
            &certs.ca,
            &certs.ca_pem,
            matches!(target, Target::Compose { .. }),
        )?;
        let mut st = st;
        warnings.extend(st.warnings.iter().cloned());
        // The chart's and the operator's in-cluster services are named
        // after the release (`RELEASE-etcd`, `RELEASE-minio`).
        let release = match target {
            Target::Operator { release, .. } => Some(release.as_str()),
            Target::Compose { .. } => None,
            _ => Some("my-release"),
        };
        if let Some(r) = release {
            st.hosts = (format!("{r}-etcd"), format!("{r}-minio"));
        }
        Some(st)
    } else {
        None
    };
    let config = Config {
        mode: common.mode,
        sni: sni.as_deref(),
        stack: stack.as_ref(),
    };
    let mut out = match target {
        Target::Compose { milvus_config } => {
            compose(&common.dir, &certs, &config, milvus_config.as_deref())?
        }
        Target::K8sSecret { name, namespace } => {
            k8s_secret(&certs, name, namespace.as_deref(), stack.as_ref())
        }
        Target::Operator {
            release,
            namespace,
            secret,
            cert_manager,
        } => operator(
            &config,
            release,
            namespace.as_deref(),
            secret,
            *cert_manager,
        ),
        Target::Helm {
            secret,
            cert_manager,
        } => helm(&config, secret, *cert_manager),
        Target::CertManager { namespace, secret } => {
            cert_manager(&common.dir, &certs, &config, namespace.as_deref(), secret)?
        }
        Target::Client {
            host,
            port,
            http_port,
        } => client(
            &common.dir,
            &certs,
            common.mode,
            host.as_deref(),
            *port,
            *http_port,
        )?,
    };
    // Compose and client know the host and port they check.
    if !matches!(target, Target::Compose { .. } | Target::Client { .. }) {
        out.next
            .push(check_command(&common.dir, &certs.server, None, 19530));
    }
    out.warnings.splice(0..0, warnings);
    out.recovery = recovery;
    Ok(out)
}

/// Writes `files` under `out` (created if missing): all whole or none,
/// never through a symlink (see [`store::write_outputs`]). Nothing that
/// exists is replaced unless `force`; directories this call created are
/// removed again if the write fails. Returns the paths written.
pub fn write(out: &Path, files: &[OutFile], force: bool) -> Result<Vec<PathBuf>> {
    let rels: Vec<String> = files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    let outputs: Vec<store::Output<'_>> = files
        .iter()
        .zip(&rels)
        .map(|(f, rel)| store::Output {
            rel,
            contents: &f.contents,
            mode: f.mode,
        })
        .collect();
    store::write_outputs(out, &outputs, force)
}

fn load(dir: &Path) -> Result<Certs> {
    let ca_path = dir.join(files::CA_PEM);
    let server_path = dir.join(files::SERVER_PEM);
    let ca_pem = read_needed(dir, files::CA_PEM, CERT, "the CA certificate")?;
    let server_pem = read_needed(dir, files::SERVER_PEM, CERT, "the server certificate")?;
    let server_key = read_needed(dir, files::SERVER_KEY, KEY, "the server key")?;
    let ca = first_cert(&ca_path, &ca_pem)?;
    crate::ca::check_is_ca(&ca_path, &ca)?;
    let server = first_cert(&server_path, &server_pem)?;
    check_key(
        &dir.join(files::SERVER_KEY),
        &server_key,
        &server_path,
        &server,
    )?;
    check_issued_by(&server_path, &server, &ca_path, &ca)?;
    if let Some(finding) = checks::purpose(&server, Purpose::Server, ca_dir(dir))
        .into_iter()
        .next()
    {
        return Err(Error::Check {
            path: server_path,
            finding: Box::new(finding),
        });
    }
    Ok(Certs {
        ca_pem,
        ca,
        server_pem,
        server_key,
        server,
    })
}

fn first_cert(path: &Path, pem: &[u8]) -> Result<CertInfo> {
    let der = input::parse_certificates(path, pem)?.swap_remove(0);
    CertInfo::from_der(&der).map_err(|r| Error::bad_file(path, CERT, r))
}

/// The folder itself when it holds `ca.key` (so `renew` works there).
fn ca_dir(dir: &Path) -> Option<&Path> {
    dir.join(files::CA_KEY).exists().then_some(dir)
}

fn check_key(key_path: &Path, key_pem: &[u8], cert_path: &Path, cert: &CertInfo) -> Result<()> {
    let key = parse_private_key(key_path, key_pem)?;
    if !checks::key_matches(&key, cert) {
        return Err(Error::key_mismatch(key_path, cert_path));
    }
    Ok(())
}

fn check_issued_by(path: &Path, cert: &CertInfo, ca_path: &Path, ca: &CertInfo) -> Result<()> {
    match checks::issued_by(cert, ca, &ca_path.display().to_string(), None) {
        None => Ok(()),
        Some(_) => Err(Error::not_issued_by(path, ca_path)),
    }
}

/// tlsMode 2: Go's crypto/tls, with RequireAndVerifyClientCert, refuses a
/// client certificate without clientAuth ("certificate specifies an
/// incompatible key usage"), and one from another CA ("unknown authority").
/// A missing client.pem is only a warning for deployment targets: clients
/// may hold their certificates elsewhere.
fn check_client(dir: &Path, ca: &CertInfo, need_key: bool) -> Result<Option<String>> {
    let path = dir.join(files::CLIENT_PEM);
    let missing = |path: PathBuf, what: &'static str| Error::MissingFile {
        path,
        what,
        fix: format!(
            "tlsMode 2 needs a client certificate and key: {}",
            Remedy::renew(ca_dir(dir), &["--only", "client"])
        ),
    };
    let pem = if need_key {
        input::read_in_folder(&path, CERT)?
            .ok_or_else(|| missing(path.clone(), "the client certificate"))?
    } else {
        match input::read_in_folder(&path, CERT)? {
            Some(pem) => pem,
            None => {
                return Ok(Some(format!(
                    "{} is missing: with tlsMode 2 every client needs a certificate issued by ca.pem \
                     with clientAuth; {}",
                    path.display(),
                    Remedy::renew(ca_dir(dir), &["--only", "client"])
                )));
            }
        }
    };
    let cert = first_cert(&path, &pem)?;
    if let Some(finding) = checks::purpose(&cert, Purpose::Client, ca_dir(dir))
        .into_iter()
        .next()
    {
        return Err(match finding {
            Finding::MissingClientAuth { .. } => Error::MissingClientAuth { path },
            finding => Error::Check {
                path,
                finding: Box::new(finding),
            },
        });
    }
    check_issued_by(&path, &cert, &dir.join(files::CA_PEM), ca)?;
    if need_key {
        let key_path = dir.join(files::CLIENT_KEY);
        let key = input::read_in_folder(&key_path, KEY)?
            .ok_or_else(|| missing(key_path.clone(), "the client key"))?;
        check_key(&key_path, &key, &path, &cert)?;
    }
    Ok(None)
}

/// `internaltls.sni` must be a DNS name of the server certificate: Milvus's
/// components verify each other with it as the expected name.
fn check_sni(dir: &Path, server: &CertInfo, sni: Option<&str>) -> Result<String> {
    let dns: Vec<String> = server
        .sans
        .iter()
        .filter_map(|n| match n {
            SanName::Dns(d) => Some(d.clone()),
            SanName::Ip(_) => None,
        })
        .collect();
    // The default is the common name, as the guide says ("the CommonName in
    // your certificates"); it is checked the same way.
    let sni = match sni {
        Some(s) => {
            if let Some(e) = crate::names::url_or_port_error("--sni", s) {
                return Err(e);
            }
            s.to_string()
        }
        None => server.subject_attrs.common_name.clone().unwrap_or_default(),
    };
    let wanted = SanName::parse("--sni", &sni).ok();
    let listed = wanted
        .as_ref()
        .is_some_and(|w| matches!(w, SanName::Dns(_)) && server.matches_name(w));
    if listed {
        Ok(sni)
    } else {
        Err(Error::NameNotInCert {
            option: "--sni",
            name: sni,
            cert: dir.join(files::SERVER_PEM),
            names: dns,
        })
    }
}

/// Expired or expiring (within [`checks::EXPORT_WARN_DAYS`]) certificates
/// do not stop an export, but are said.
fn expiry_warnings(dir: &Path, certs: &Certs, now: OffsetDateTime) -> Vec<String> {
    let mut w = Vec::new();
    for (name, cert, args) in [
        (files::SERVER_PEM, &certs.server, &["--only", "server"][..]),
        (files::CA_PEM, &certs.ca, &["--ca"][..]),
    ] {
        let remedy = Remedy::renew(ca_dir(dir), args);
        if let Some(f) = checks::validity(cert, now, checks::EXPORT_WARN_DAYS, Some(remedy)) {
            let consequence = if f.is_problem() {
                " (TLS clients will refuse it)"
            } else {
                ""
            };
            w.push(format!(
                "{}: {f}{consequence}; {}",
                dir.join(name).display(),
                f.fix().unwrap_or_default()
            ));
        }
    }
    w
}

/// The settings the guide adds to Milvus's configuration, with the
/// certificate files under `base`.
struct Config<'a> {
    mode: TlsMode,
    sni: Option<&'a str>,
    stack: Option<&'a stack::Stack>,
}

impl Config<'_> {
    fn milvus(&self, base: &str) -> Value {
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

const COMPOSE_OVERRIDE: &str = "docker-compose.tls.yml";

/// What `--milvus-config` must be.
const MILVUS_CONFIG: &str = "a Milvus configuration file (YAML)";

fn compose(
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
    Ok(Export {
        files: vec![
            OutFile::new("tls/server.pem", certs.server_pem.clone(), PUBLIC_MODE),
            OutFile::new("tls/server.key", certs.server_key.clone(), SECRET_MODE),
            OutFile::new("tls/ca.pem", certs.ca_pem.clone(), PUBLIC_MODE),
        ]
        .into_iter()
        .chain(
            config
                .stack
                .map(|st| st.milvus_files("tls/"))
                .unwrap_or_default(),
        )
        .chain(
            config
                .stack
                .map(|st| st.service_files())
                .unwrap_or_default(),
        )
        .chain([
            OutFile::new(name, contents, PUBLIC_MODE),
            OutFile::new(COMPOSE_OVERRIDE, override_file, PUBLIC_MODE),
        ])
        .collect(),
        stdout: None,
        next,
        warnings: Vec::new(),
        recovery: None,
    })
}

/// A directory as a shell word, absolute: the "Next" commands run in the
/// output directory.
fn sh_path(dir: &Path) -> String {
    crate::shell::quote(&crate::shell::absolute(dir).display().to_string())
}

/// The last "Next" step of every target: check that the server really
/// speaks TLS with these files (a server that ignored its configuration
/// answers in plaintext, which `inspect --connect` reports). It connects to
/// `host` (default: the name clients use, as `export client` picks it) and
/// verifies the server's name, which is given with `--server-name` when the
/// host is not one of the certificate's names.
fn check_command(dir: &Path, server: &CertInfo, host: Option<&str>, port: u16) -> String {
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
fn default_host(server: &CertInfo) -> String {
    server
        .subject_attrs
        .common_name
        .clone()
        .filter(|cn| SanName::parse("--host", cn).is_ok_and(|n| server.matches_name(&n)))
        .or_else(|| server.sans.first().map(|n| n.to_string()))
        .unwrap_or_default()
}

/// Refuses an `--out` that would write onto the `--milvus-config` file:
/// the user's configuration is never overwritten.
pub fn check_out_spares_input(out: &Path, files: &[OutFile], input: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(src) = std::fs::metadata(input) else {
        return Ok(());
    };
    for f in files {
        let target = out.join(&f.path);
        let same =
            std::fs::metadata(&target).is_ok_and(|m| m.dev() == src.dev() && m.ino() == src.ino());
        if same {
            return Err(Error::invalid(
                "--out",
                &out.display().to_string(),
                format!(
                    "{} would be written onto the --milvus-config file {}, which milvus-certs never \
                     overwrites; choose another --out directory",
                    target.display(),
                    input.display()
                ),
            ));
        }
    }
    Ok(())
}

fn metadata(name: &str, namespace: Option<&str>) -> Value {
    let mut m = vec![("name", s(name))];
    if let Some(ns) = namespace {
        m.push(("namespace", s(ns)));
    }
    map(m)
}

/// The `v1` `Secret` of type `Opaque` holding `server.pem`, `server.key` and
/// `ca.pem`: the object `kubectl create secret generic certs
/// --from-file=server.pem --from-file=server.key --from-file=ca.pem
/// --dry-run=client -o yaml` makes (keys in kubectl's alphabetical order).
fn k8s_secret(
    certs: &Certs,
    name: &str,
    namespace: Option<&str>,
    stack: Option<&stack::Stack>,
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

fn single(name: &str, doc: String, mode: u32, next: &str) -> Export {
    Export {
        files: vec![OutFile::new(name, doc.clone(), mode)],
        stdout: Some(doc),
        next: vec![next.to_string()],
        warnings: Vec::new(),
        recovery: None,
    }
}

/// The pod volume and mount of the guide: the Secret at `/certs`, read-only.
/// With cert-manager, its keys are mapped to the guide's file names, so
/// Milvus's configuration stays the same.
fn volumes(secret: &str, cert_manager: bool) -> (Value, Value) {
    let mut secret_source = vec![("secretName", s(secret))];
    if cert_manager {
        let item = |key: &str, path: &str| map([("key", s(key)), ("path", s(path))]);
        secret_source.push((
            "items",
            Value::Seq(vec![
                item("tls.crt", files::SERVER_PEM),
                item("tls.key", files::SERVER_KEY),
                item("ca.crt", files::CA_PEM),
            ]),
        ));
    }
    let volumes = Value::Seq(vec![map([
        ("name", s("certs")),
        ("secret", map(secret_source)),
    ])]);
    let mounts = Value::Seq(vec![map([
        ("name", s("certs")),
        ("mountPath", s("/certs")),
        ("readOnly", Value::Bool(true)),
    ])]);
    (volumes, mounts)
}

/// The pod volume and mounts, with the trust bundle mounted over the
/// image's system bundle when `--s3` asks for it (one file of the Secret,
/// by subPath).
fn volumes_for(config: &Config, secret: &str, cert_manager: bool) -> (Value, Value) {
    let (volumes, mut mounts) = volumes(secret, cert_manager);
    if config.stack.is_some_and(|st| st.deps.s3)
        && let Value::Seq(m) = &mut mounts
    {
        m.push(map([
            ("name", s("certs")),
            ("mountPath", s(stack::SYSTEM_BUNDLE)),
            ("subPath", s(stack::BUNDLE)),
            ("readOnly", Value::Bool(true)),
        ]));
    }
    (volumes, mounts)
}

fn operator(
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

fn helm_values(config: &Config, secret: &str, cert_manager: bool) -> String {
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

fn helm(config: &Config, secret: &str, cert_manager: bool) -> Export {
    single(
        "values-tls.yaml",
        helm_values(config, secret, cert_manager),
        PUBLIC_MODE,
        "helm upgrade --install my-release milvus/milvus -f values-tls.yaml",
    )
}

/// The CA issuer and Secret cert-manager signs with, named after the Secret
/// Milvus mounts.
const CA_SECRET: &str = "milvus-ca";
const ISSUER: &str = "milvus-ca";
const CERTIFICATE: &str = "milvus-server";

fn cert_manager(
    dir: &Path,
    certs: &Certs,
    config: &Config,
    namespace: Option<&str>,
    secret: &str,
) -> Result<Export> {
    let key_path = dir.join(files::CA_KEY);
    let ca_key = input::required(
        input::read_in_folder(&key_path, KEY)?,
        &key_path,
        "the CA private key",
        "cert-manager signs with the CA's key; restore ca.key from your backup",
    )?;
    check_key(&key_path, &ca_key, &dir.join(files::CA_PEM), &certs.ca)?;
    let server = &certs.server;
    let mut warnings = Vec::new();

    let ca_secret = map([
        ("apiVersion", s("v1")),
        ("kind", s("Secret")),
        ("metadata", metadata(CA_SECRET, namespace)),
        ("type", s("kubernetes.io/tls")),
        (
            "data",
            map([
                ("tls.crt", s(base64(&certs.ca_pem))),
                ("tls.key", s(base64(&ca_key))),
            ]),
        ),
    ]);
    let issuer = map([
        ("apiVersion", s("cert-manager.io/v1")),
        ("kind", s("Issuer")),
        ("metadata", metadata(ISSUER, namespace)),
        ("spec", map([("ca", map([("secretName", s(CA_SECRET))]))])),
    ]);

    // The new certificates get the old one's names, subject, lifetime and key.
    let hours = ((server.not_after - server.not_before).whole_hours()).max(1);
    let renew_before = (hours / 3).clamp(1, 30 * 24);
    let (algorithm, size) = match server.key_type {
        Some(KeyType::Rsa2048) | None => ("RSA", Some(2048)),
        Some(KeyType::Rsa3072) => ("RSA", Some(3072)),
        Some(KeyType::Rsa4096) => ("RSA", Some(4096)),
        Some(KeyType::EcdsaP256) => ("ECDSA", Some(256)),
        Some(KeyType::EcdsaP384) => ("ECDSA", Some(384)),
        Some(KeyType::Ed25519) => ("Ed25519", None),
    };
    if server.key_type.is_none() {
        warnings.push(format!(
            "server.pem has a {} key, which cert-manager cannot make: the Certificate asks for RSA 2048",
            server.key
        ));
    }
    let mut private_key = vec![
        ("algorithm", s(algorithm)),
        ("encoding", s("PKCS8")),
        ("rotationPolicy", s("Always")),
    ];
    if let Some(size) = size {
        private_key.insert(1, ("size", Value::Int(size)));
    }
    let attrs = &server.subject_attrs;
    let subject: Vec<(&str, Value)> = [
        ("countries", &attrs.country),
        ("provinces", &attrs.state),
        ("localities", &attrs.locality),
        ("organizations", &attrs.organization),
        ("organizationalUnits", &attrs.org_unit),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, Value::Seq(vec![s(v)]))))
    .collect();
    let names = |want_ip: bool| -> Vec<Value> {
        server
            .sans
            .iter()
            .filter(|n| matches!(n, SanName::Ip(_)) == want_ip)
            .map(|n| s(n.to_string()))
            .collect()
    };
    let mut spec = vec![("secretName", s(secret))];
    if let Some(cn) = &attrs.common_name {
        spec.push(("commonName", s(cn)));
    }
    if !subject.is_empty() {
        spec.push(("subject", map(subject)));
    }
    for (k, v) in [("dnsNames", names(false)), ("ipAddresses", names(true))] {
        if !v.is_empty() {
            spec.push((k, Value::Seq(v)));
        }
    }
    spec.extend([
        ("duration", s(format!("{hours}h"))),
        ("renewBefore", s(format!("{renew_before}h"))),
        ("privateKey", map(private_key)),
        ("usages", Value::Seq(usages(server))),
        (
            "issuerRef",
            map([
                ("name", s(ISSUER)),
                ("kind", s("Issuer")),
                ("group", s("cert-manager.io")),
            ]),
        ),
    ]);
    let certificate = map([
        ("apiVersion", s("cert-manager.io/v1")),
        ("kind", s("Certificate")),
        ("metadata", metadata(CERTIFICATE, namespace)),
        ("spec", map(spec)),
    ]);
    let stream = yaml::stream(&[ca_secret, issuer, certificate]);
    Ok(Export {
        files: vec![
            // It holds ca.key.
            OutFile::new("cert-manager.yaml", stream, SECRET_MODE),
            OutFile::new(
                "values-cert-manager.yaml",
                helm_values(config, secret, true),
                PUBLIC_MODE,
            ),
        ],
        stdout: None,
        next: {
            let ns = namespace
                .map(|n| format!(" -n {}", crate::shell::quote(n)))
                .unwrap_or_default();
            vec![
                // A Secret of this name that `export k8s-secret` made is of
                // type Opaque; cert-manager will not take it over as its
                // kubernetes.io/tls Secret (docs/deploy.md, "cert-manager").
                format!(
                    "kubectl delete secret {secret}{ns} --ignore-not-found   # if export k8s-secret made it: cert-manager's is of type kubernetes.io/tls"
                ),
                format!("kubectl apply{ns} -f cert-manager.yaml"),
                format!(
                    "helm upgrade --install my-release milvus/milvus{ns} -f values-cert-manager.yaml"
                ),
            ]
        },
        warnings,
        recovery: None,
    })
}

/// cert-manager's names (cert-manager.io/v1 KeyUsage) for the server
/// certificate's keyUsage and extendedKeyUsage.
fn usages(cert: &CertInfo) -> Vec<Value> {
    let ku = cert
        .key_usage
        .clone()
        .unwrap_or_else(|| vec!["digitalSignature", "keyEncipherment"]);
    let eku = cert
        .ext_key_usage
        .clone()
        .unwrap_or_else(|| vec!["serverAuth".to_string()]);
    let mut out: Vec<Value> = Vec::new();
    for u in ku.iter().copied().chain(eku.iter().map(String::as_str)) {
        let name = match u {
            "digitalSignature" => "digital signature",
            "nonRepudiation" => "content commitment",
            "keyEncipherment" => "key encipherment",
            "dataEncipherment" => "data encipherment",
            "keyAgreement" => "key agreement",
            "serverAuth" => "server auth",
            "clientAuth" => "client auth",
            _ => continue,
        };
        out.push(s(name));
    }
    out
}

fn client(
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

fn check_target_names(target: &Target) -> Result<()> {
    match target {
        Target::K8sSecret { name, namespace } => {
            check_dns_subdomain("--name", name)?;
            check_namespace(namespace.as_deref())
        }
        Target::Operator {
            release,
            namespace,
            secret,
            ..
        } => {
            check_dns_subdomain("--release", release)?;
            check_dns_subdomain("--secret", secret)?;
            check_namespace(namespace.as_deref())
        }
        Target::Helm { secret, .. } => check_dns_subdomain("--secret", secret),
        Target::CertManager { namespace, secret } => {
            check_dns_subdomain("--secret", secret)?;
            check_namespace(namespace.as_deref())
        }
        Target::Compose { .. } | Target::Client { .. } => Ok(()),
    }
}

fn check_namespace(ns: Option<&str>) -> Result<()> {
    match ns {
        Some(ns) => check_dns_label("--namespace", ns),
        None => Ok(()),
    }
}

/// Standard base64 with padding (RFC 4648 section 4), as Kubernetes expects
/// in a Secret's `data`.
fn base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A Kubernetes object name: an RFC 1123 subdomain (lowercase).
fn check_dns_subdomain(option: &'static str, s: &str) -> Result<()> {
    let ok = !s.is_empty() && s.len() <= 253 && s.split('.').all(|label| is_dns_label(label, 63));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            option,
            s,
            "must be a Kubernetes name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
        ))
    }
}

/// A Kubernetes namespace: an RFC 1123 label (lowercase).
fn check_dns_label(option: &'static str, s: &str) -> Result<()> {
    if is_dns_label(s, 63) {
        Ok(())
    } else {
        Err(Error::invalid(
            option,
            s,
            "must be a Kubernetes namespace: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
        ))
    }
}

fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn kubernetes_names() {
        assert!(check_dns_subdomain("--name", "certs").is_ok());
        assert!(check_dns_subdomain("--name", "milvus.certs-1").is_ok());
        for bad in ["", "Certs", "-x", "a_b", "x-"] {
            assert!(check_dns_subdomain("--name", bad).is_err(), "{bad}");
        }
        assert!(check_dns_label("--namespace", "milvus").is_ok());
        assert!(check_dns_label("--namespace", "a.b").is_err());
    }

    #[test]
    fn python_strings() {
        assert_eq!(py_str("/a \"b\"\\c"), "\"/a \\\"b\\\"\\\\c\"");
        assert_eq!(py_str("\n"), "\"\\u000a\"");
    }
}
