//! `doctor`: reads a Milvus deployment's configuration in the shapes users
//! have it (a `milvus.yaml`/`user.yaml`, Helm values, a Milvus operator
//! resource, a Docker Compose file and the config files it mounts) and
//! reports the TLS mistakes Milvus users run into, as [`Finding`]s of the
//! one checks engine, each with the file, key path and line it is about.
//!
//! Key names are Milvus's paramtable keys (pkg/util/paramtable):
//! `common.security.tlsMode` and `tls.serverPemPath`, `tls.serverKeyPath`,
//! `tls.caPemPath` (grpc_param.go, `ProxyGrpcServerCfg`);
//! `common.security.internaltlsEnabled` and `internaltls.serverPemPath`,
//! `internaltls.serverKeyPath`, `internaltls.caPemPath`, `internaltls.sni`
//! (`InternalTLSConfig`, 2.5.0); `proxy.port` and `proxy.http.enabled`,
//! `proxy.http.port` (component_param.go, `HTTPCfg`); for its dependencies
//! `etcd.endpoints` and `etcd.ssl.*`, `minio.useSSL` and
//! `minio.ssl.tlsCACert`, `kafka.ssl.*` and the `kafka.consumer.`/
//! `kafka.producer.` librdkafka properties (service_param.go). Milvus matches keys
//! without regard to case, and reads `A_B_C` environment variables for `a.b.c`.
//!
//! With a certificate folder, the files the configuration names are read
//! (mapped from the container back through the mounts) and checked with the
//! same rules as `inspect`: key match, chain to the CA, serverAuth,
//! `internaltls.sni` among the server certificate's subjectAltNames (Go checks
//! SANs, not the common name), and with tlsMode 2 a `client.pem` with clientAuth.
//!
//! The library returns a [`Report`]; it never prints.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::certinfo::CertInfo;
use crate::checks::{self, Finding, Purpose, Severity};
use crate::error::{Error, Result};
use crate::names::SanName;

/// Where Milvus runs in its image: relative paths in its configuration are
/// relative to this folder (the image's WORKDIR).
const MILVUS_HOME: &str = "/milvus";
/// Where the image keeps its example certificates (public private keys).
const EXAMPLE_CERTS: &str = "/milvus/configs/cert";
/// Where the configuration files are read in the container.
const CONFIG_MILVUS_YAML: &str = "/milvus/configs/milvus.yaml";
const CONFIG_USER_YAML: &str = "/milvus/configs/user.yaml";
const CONFIG_DIR: &str = "/milvus/configs";

/// What kind of file `doctor` read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A `milvus.yaml` or `user.yaml`.
    MilvusConfig,
    /// Values for the milvus Helm chart.
    Helm,
    /// A Milvus operator `Milvus` resource.
    Operator,
    /// A Docker Compose file.
    Compose,
}

impl Shape {
    /// `milvus-config`, `helm`, `operator` or `compose`.
    pub fn name(self) -> &'static str {
        match self {
            Shape::MilvusConfig => "milvus-config",
            Shape::Helm => "helm",
            Shape::Operator => "operator",
            Shape::Compose => "compose",
        }
    }
}

/// Where a finding is: a file, a key path in it, a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// The key path, dotted (`spec.config.tls.serverPemPath`); empty for the
    /// whole file.
    pub key: String,
    /// The line (1-based), when the key is written in the file.
    pub line: Option<usize>,
}

/// One finding and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// What.
    pub finding: Finding,
    /// Where.
    pub at: Location,
}

/// What `doctor` found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every file read, with its shape (config files a Compose file mounts
    /// are listed as `milvus-config`).
    pub files: Vec<(PathBuf, Shape)>,
    /// The findings, in file order.
    pub findings: Vec<Located>,
}

impl Report {
    /// 0 healthy, 1 warnings only, 2 problems (as `inspect`).
    pub fn exit_code(&self) -> u8 {
        match self.worst() {
            None => 0,
            Some(Severity::Warning) => 1,
            Some(Severity::Problem) => 2,
        }
    }

    /// The worst severity found.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.finding.severity()).max()
    }
}

/// What to read.
#[derive(Clone, Debug, Default)]
pub struct DoctorOptions {
    /// The configuration files.
    pub files: Vec<PathBuf>,
    /// The folder holding the certificate files the configuration names.
    pub dir: Option<PathBuf>,
}

/// Reads every file and checks it.
pub fn doctor(opts: &DoctorOptions, now: OffsetDateTime) -> Result<Report> {
    let mut report = Report::default();
    // Compose files given together describe one project, merged as
    // `docker compose -f A -f B` merges them.
    let mut composes = Vec::new();
    for file in &opts.files {
        let text = read_text(file)?;
        let docs = parse(file, &text, 0)?;
        let shape = detect(file, &docs)?;
        report.files.push((file.clone(), shape));
        let deployment = match shape {
            Shape::MilvusConfig => milvus_config(file, &docs)?,
            Shape::Helm => helm(file, &docs)?,
            Shape::Operator => operator(file, &docs)?,
            Shape::Compose => {
                composes.push((file.clone(), docs));
                continue;
            }
        };
        check(&deployment, opts.dir.as_deref(), now, &mut report.findings);
    }
    if !composes.is_empty() {
        for d in compose(&composes, &mut report)? {
            check(&d, opts.dir.as_deref(), now, &mut report.findings);
        }
    }
    // In the order of the files and lines they are about (stable: findings
    // on one line, or on none, keep the rules' order).
    let order: Vec<PathBuf> = report.files.iter().map(|(p, _)| p.clone()).collect();
    report.findings.sort_by_key(|f| {
        (
            order
                .iter()
                .position(|p| *p == f.at.file)
                .unwrap_or(usize::MAX),
            f.at.line.unwrap_or(usize::MAX),
        )
    });
    Ok(report)
}

fn read_text(file: &Path) -> Result<String> {
    let bytes = crate::input::read_bounded(file).map_err(Error::io("read", file))?;
    String::from_utf8(bytes).map_err(|_| {
        Error::bad_file(
            file,
            EXPECTED,
            "it is not UTF-8 text; pass the YAML file Milvus, Helm, the operator or Compose reads",
        )
    })
}

const EXPECTED: &str = "a Milvus configuration, Helm values, a Milvus resource or a Compose file";

// ---------------------------------------------------------------------------
// YAML with line numbers (yaml-rust2's parser events carry markers).

/// A YAML node and the line it starts on.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    value: Yaml,
    line: usize,
}

#[derive(Clone, Debug)]
enum Yaml {
    /// A scalar.
    Scalar(String),
    /// A mapping: (key, the key's line, value).
    Map(Vec<(String, usize, Node)>),
    Seq(Vec<Node>),
}

impl Node {
    /// The value of `key` (matched without regard to case, as Milvus does),
    /// with the key's line; the last one wins.
    fn get(&self, key: &str) -> Option<(&Node, usize)> {
        match &self.value {
            Yaml::Map(m) => m
                .iter()
                .rev()
                .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, l, n)| (n, *l)),
            _ => None,
        }
    }

    fn path(&self, keys: &[&str]) -> Option<(&Node, usize)> {
        let mut cur = (self, self.line);
        for k in keys {
            cur = cur.0.get(k)?;
        }
        Some(cur)
    }

    /// A scalar's text (`~`, `null` and nothing are "").
    fn text(&self) -> Option<&str> {
        match &self.value {
            Yaml::Scalar(text) if text == "~" || text == "null" => Some(""),
            Yaml::Scalar(text) => Some(text),
            _ => None,
        }
    }

    fn entries(&self) -> &[(String, usize, Node)] {
        match &self.value {
            Yaml::Map(m) => m,
            _ => &[],
        }
    }

    fn items(&self) -> &[Node] {
        match &self.value {
            Yaml::Seq(s) => s,
            _ => &[],
        }
    }

    fn is_map(&self) -> bool {
        matches!(self.value, Yaml::Map(_))
    }
}

enum Frame {
    Map {
        entries: Vec<(String, usize, Node)>,
        key: Option<(String, usize)>,
        line: usize,
        anchor: usize,
    },
    Seq {
        items: Vec<Node>,
        line: usize,
        anchor: usize,
    },
}

/// Deeper nesting than any configuration has is refused (the tree is
/// recursive: this bounds the stack).
const MAX_DEPTH: usize = 128;
/// Aliases may copy at most this many nodes in all, a scalar counting one
/// per 64 bytes ("billion laughs": at most about 6 MiB copied).
const MAX_ALIASED: usize = 100_000;

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<Frame>,
    /// Anchored nodes, and their sizes in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    /// Nodes copied by aliases so far.
    aliased: usize,
    /// Added to every line (a document inside a block scalar).
    offset: usize,
    /// Why the document is refused, and the line.
    refused: Option<(String, usize)>,
}

fn size(n: &Node) -> usize {
    1 + match &n.value {
        // A long string costs by its length: one alias of a 1 MiB scalar
        // copied many times is the same "billion laughs" as many nodes.
        Yaml::Scalar(text) => text.len() / 64,
        Yaml::Map(m) => m.iter().map(|(_, _, v)| size(v)).sum(),
        Yaml::Seq(s) => s.iter().map(size).sum(),
    }
}

impl Builder {
    fn done(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size(&node)));
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some((k, l)) => entries.push((k, l, node)),
                None => {
                    let k = match &node.value {
                        Yaml::Scalar(text) => text.clone(),
                        _ => String::new(),
                    };
                    *key = Some((k, node.line));
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line() + self.offset;
        if self.refused.is_some() {
            return;
        }
        if matches!(ev, Event::MappingStart(..) | Event::SequenceStart(..))
            && self.stack.len() >= MAX_DEPTH
        {
            self.refused = Some((format!("nested more than {MAX_DEPTH} levels deep"), line));
            return;
        }
        match ev {
            Event::Scalar(text, _, anchor, _) => {
                self.done(
                    Node {
                        value: Yaml::Scalar(text),
                        line,
                    },
                    anchor,
                );
            }
            Event::Alias(id) => {
                let (node, n) = self.anchors.get(&id).cloned().unwrap_or((
                    Node {
                        value: Yaml::Scalar(String::new()),
                        line,
                    },
                    1,
                ));
                self.aliased += n;
                if self.aliased > MAX_ALIASED {
                    self.refused = Some((
                        format!("its aliases (*name) copy more than {MAX_ALIASED} values"),
                        line,
                    ));
                    return;
                }
                self.done(Node { line, ..node }, 0);
            }
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                entries: Vec::new(),
                key: None,
                line,
                anchor,
            }),
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                items: Vec::new(),
                line,
                anchor,
            }),
            Event::MappingEnd | Event::SequenceEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Map {
                        entries,
                        line,
                        anchor,
                        ..
                    }) => (
                        Node {
                            value: Yaml::Map(entries),
                            line,
                        },
                        anchor,
                    ),
                    Some(Frame::Seq {
                        items,
                        line,
                        anchor,
                    }) => (
                        Node {
                            value: Yaml::Seq(items),
                            line,
                        },
                        anchor,
                    ),
                    None => return,
                };
                self.done(node, anchor);
            }
            _ => {}
        }
    }
}

/// Every document of `text`; a syntax error names the file and line.
pub(crate) fn parse(file: &Path, text: &str, offset: usize) -> Result<Vec<Node>> {
    let mut b = Builder {
        offset,
        ..Builder::default()
    };
    // Event by event: Parser::load recurses once per nesting level, and a
    // few thousand levels of block mappings overflow the stack.
    let mut parser = Parser::new_from_str(text);
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| {
            let m = e.marker();
            Error::bad_file(
                file,
                "valid YAML",
                format!(
                    "line {}, column {}: {}; fix the YAML there",
                    m.line() + offset,
                    m.col() + 1,
                    e.info()
                ),
            )
        })?;
        if ev == Event::StreamEnd {
            break;
        }
        b.on_event(ev, mark);
    }
    if let Some((why, line)) = b.refused {
        return Err(Error::bad_file(
            file,
            "valid YAML",
            format!("line {line}: {why}; no Milvus configuration is"),
        ));
    }
    Ok(b.docs)
}

fn detect(file: &Path, docs: &[Node]) -> Result<Shape> {
    let maps: Vec<&Node> = docs.iter().filter(|d| d.is_map()).collect();
    if maps.is_empty() {
        return Err(Error::bad_file(
            file,
            EXPECTED,
            "it holds no mapping of settings (empty, or a list or a scalar)",
        ));
    }
    if maps.iter().any(|d| is_milvus_resource(d)) {
        return Ok(Shape::Operator);
    }
    if maps
        .iter()
        .any(|d| d.get("services").is_some_and(|(s, _)| s.is_map()))
    {
        return Ok(Shape::Compose);
    }
    let first = maps[0];
    // Keys of the chart's values.yaml that a milvus.yaml does not have
    // (both have etcd:, minio:...).
    const CHART_KEYS: [&str; 4] = [
        "extraConfigFiles",
        "customConfigMap",
        "volumeMounts",
        "volumes",
    ];
    let chart_image =
        first.path(&["image", "all"]).is_some() || first.path(&["cluster", "enabled"]).is_some();
    if chart_image || CHART_KEYS.iter().any(|k| first.get(k).is_some()) {
        return Ok(Shape::Helm);
    }
    if let (Some((kind, _)), Some(_)) = (first.get("kind"), first.get("apiVersion")) {
        return Err(Error::bad_file(
            file,
            EXPECTED,
            format!(
                "it is a Kubernetes {} resource; pass the Helm values or the Milvus resource that configures Milvus",
                kind.text().unwrap_or("(unnamed)")
            ),
        ));
    }
    if maps.len() > 1 {
        return Err(Error::bad_file(
            file,
            EXPECTED,
            format!(
                "it holds {} YAML documents and Milvus reads one configuration",
                maps.len()
            ),
        ));
    }
    Ok(Shape::MilvusConfig)
}

fn is_milvus_resource(d: &Node) -> bool {
    d.get("kind")
        .and_then(|(k, _)| k.text())
        .is_some_and(|k| k == "Milvus" || k == "MilvusCluster")
}

// ---------------------------------------------------------------------------
// A deployment: configuration layers, environment, mounts.

/// One configuration file (or the part of a file holding one).
struct Layer {
    file: PathBuf,
    root: Node,
    /// The key path of `root` in `file` (`spec.config`), or the empty string.
    prefix: String,
}

/// What a volume puts at a mount point.
#[derive(Clone, Debug)]
enum Source {
    /// A host path (Compose bind mount, hostPath), relative to `base`.
    Host(PathBuf),
    /// A Kubernetes Secret: (key, path) items, empty for every key under its name.
    Secret(Vec<(String, String)>),
    /// Anything else (a named volume, a ConfigMap...).
    Other,
}

#[derive(Clone, Debug)]
struct Mount {
    target: String,
    source: Source,
}

struct Deployment {
    /// The file that describes it (the first Compose file, for several).
    file: PathBuf,
    /// Layers in the order Milvus reads them (later ones win).
    layers: Vec<Layer>,
    /// Environment variables (`COMMON_SECURITY_TLSMODE`), upper case.
    env: Vec<(String, String, Location)>,
    /// What is mounted in the container; None when the file does not say.
    mounts: Option<Vec<Mount>>,
    /// The folder relative host paths are relative to.
    base: PathBuf,
    /// The Milvus image, when the file names it (`milvusdb/milvus:v2.4.5`).
    image: Option<String>,
    /// Compose: the etcd and MinIO services' server certificates.
    servers: Vec<DepServer>,
}

/// A dependency's server (Compose's etcd or MinIO service): its own
/// mounts, and the certificate, key and CA files it serves with.
struct DepServer {
    /// The service, as a deployment of its own mounts.
    service: Deployment,
    cert: TlsFile,
    key: Option<TlsFile>,
    ca: Option<TlsFile>,
    /// The name `add` gives it, when the service renames the file.
    name: Option<&'static str>,
}

/// etcd's `--cert-file`, `--key-file` and `--trusted-ca-file` flags (in
/// its `command`), or MinIO's certificate folder (`/root/.minio/certs`,
/// holding `public.crt` and `private.key`).
fn dep_server(name: &str, svc: &Service, file: &Path, base: &Path) -> Option<DepServer> {
    let service = Deployment {
        file: file.to_path_buf(),
        layers: Vec::new(),
        env: Vec::new(),
        mounts: Some(svc.volumes.iter().map(|(_, m, _, _)| m.clone()).collect()),
        base: base.to_path_buf(),
        image: None,
        servers: Vec::new(),
    };
    let image = svc.image.to_ascii_lowercase();
    if image.contains("etcd") || name == "etcd" {
        let flag = |f: &str| -> Option<TlsFile> {
            let words = &svc.command;
            words.iter().enumerate().find_map(|(i, (w, at))| {
                let value = match w.strip_prefix(f)? {
                    "" => words.get(i + 1)?.0.clone(),
                    v => v.strip_prefix('=')?.to_string(),
                };
                Some(TlsFile {
                    key: f.trim_start_matches('-').to_string(),
                    container: value,
                    at: at.clone(),
                })
            })
        };
        return Some(DepServer {
            cert: flag("--cert-file")?,
            key: flag("--key-file"),
            ca: flag("--trusted-ca-file"),
            name: None,
            service,
        });
    }
    if image.contains("minio") || name == "minio" {
        const CERTS: &str = "/root/.minio/certs";
        let (_, _, _, at) = svc
            .volumes
            .iter()
            .find(|(t, _, h, _)| t == CERTS && h.is_some())?;
        let file = |f: &str| TlsFile {
            key: f.to_string(),
            container: format!("{CERTS}/{f}"),
            at: at.clone(),
        };
        return Some(DepServer {
            cert: file("public.crt"),
            key: Some(file("private.key")),
            ca: None,
            // `milvus-certs add s3` makes s3.pem, exported as public.crt.
            name: Some("s3"),
            service,
        });
    }
    None
}

/// A setting's value and where it is written.
struct Setting {
    value: String,
    at: Location,
}

impl Deployment {
    fn setting(&self, keys: &[&str]) -> Option<Setting> {
        let var = keys.join("_").to_ascii_uppercase();
        if let Some((_, v, at)) = self.env.iter().rev().find(|(k, _, _)| *k == var) {
            return Some(Setting {
                value: v.clone(),
                at: at.clone(),
            });
        }
        self.layers.iter().rev().find_map(|l| {
            let (node, line) = l.root.path(keys)?;
            Some(Setting {
                value: node.text().unwrap_or("").to_string(),
                at: l.at(&keys.join("."), line),
            })
        })
    }

    /// Where to report a setting that is not written: the last layer's file.
    fn nowhere(&self, key: &str) -> Location {
        match self.layers.last() {
            Some(l) => Location {
                file: l.file.clone(),
                key: join(&l.prefix, key),
                line: None,
            },
            None => Location {
                file: self.file.clone(),
                key: key.to_string(),
                line: None,
            },
        }
    }
}

impl Layer {
    fn at(&self, key: &str, line: usize) -> Location {
        Location {
            file: self.file.clone(),
            key: join(&self.prefix, key),
            line: Some(line),
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `base/rel` without `.` components (`./milvus.yaml` next to the file).
fn resolve(base: &Path, rel: &Path) -> PathBuf {
    base.join(rel)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

fn base_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn milvus_config(file: &Path, docs: &[Node]) -> Result<Deployment> {
    let root = docs
        .iter()
        .find(|d| d.is_map())
        .cloned()
        .ok_or_else(|| Error::bad_file(file, EXPECTED, "it holds no mapping of settings"))?;
    Ok(Deployment {
        file: file.to_path_buf(),
        layers: vec![Layer {
            file: file.to_path_buf(),
            root,
            prefix: String::new(),
        }],
        env: Vec::new(),
        mounts: None,
        base: base_of(file),
        image: None,
        servers: Vec::new(),
    })
}

/// Kubernetes `volumes` and `volumeMounts` lists (of the chart's values or
/// the operator's components) as mounts.
fn k8s_mounts(volumes: &[&Node], mounts: &[&Node]) -> Vec<Mount> {
    let mut by_name: HashMap<String, Source> = HashMap::new();
    for list in volumes {
        for v in list.items() {
            let Some(name) = v.get("name").and_then(|(n, _)| n.text()) else {
                continue;
            };
            let source = if let Some((s, _)) = v.get("secret") {
                let items = s
                    .get("items")
                    .map(|(items, _)| {
                        items
                            .items()
                            .iter()
                            .filter_map(|i| {
                                Some((
                                    i.get("key")?.0.text()?.to_string(),
                                    i.get("path")?.0.text()?.to_string(),
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Source::Secret(items)
            } else if let Some(p) = v.path(&["hostPath", "path"]).and_then(|(p, _)| p.text()) {
                Source::Host(PathBuf::from(p))
            } else {
                Source::Other
            };
            by_name.insert(name.to_string(), source);
        }
    }
    let mut out = Vec::new();
    for list in mounts {
        for m in list.items() {
            let Some(target) = m.get("mountPath").and_then(|(t, _)| t.text()) else {
                continue;
            };
            let name = m.get("name").and_then(|(n, _)| n.text()).unwrap_or("");
            let mut source = by_name.get(name).cloned().unwrap_or(Source::Other);
            // A subPath mounts one file (or folder) of the volume.
            if let Some(sub) = m.get("subPath").and_then(|(s, _)| s.text()) {
                source = match source {
                    Source::Host(p) => Source::Host(p.join(sub)),
                    Source::Secret(items) => {
                        let key = items
                            .iter()
                            .find(|(_, p)| p == sub)
                            .map_or(sub.to_string(), |(k, _)| k.clone());
                        Source::Secret(vec![(key, String::new())])
                    }
                    other => other,
                };
            }
            out.push(Mount {
                target: target.to_string(),
                source,
            });
        }
    }
    out
}

/// The chart's components, each of which may add `volumes`/`volumeMounts`.
const COMPONENTS: [&str; 14] = [
    "standalone",
    "proxy",
    "rootCoordinator",
    "queryCoordinator",
    "queryNode",
    "indexCoordinator",
    "indexNode",
    "dataCoordinator",
    "dataNode",
    "mixCoordinator",
    "streamingNode",
    "mixCoord",
    "rootCoord",
    "dataCoord",
];

fn helm(file: &Path, docs: &[Node]) -> Result<Deployment> {
    let values = docs
        .iter()
        .find(|d| d.is_map())
        .ok_or_else(|| Error::bad_file(file, EXPECTED, "it holds no mapping of values"))?;
    let mut layers = Vec::new();
    if let Some((files, _)) = values.get("extraConfigFiles") {
        for (name, key_line, node) in files.entries() {
            let Yaml::Scalar(text) = &node.value else {
                continue;
            };
            // yaml-rust2 marks a block scalar (`|`) at its first line of
            // text, and a quoted one at its first character.
            let offset = node.line.saturating_sub(1);
            let inner = parse(file, text, offset).map_err(|e| match e {
                Error::BadFile { reason, .. } => Error::bad_file(
                    file,
                    "valid YAML",
                    format!("extraConfigFiles.{name} (line {key_line}): {reason}"),
                ),
                other => other,
            })?;
            if let Some(root) = inner.into_iter().find(|d| d.is_map()) {
                layers.push(Layer {
                    file: file.to_path_buf(),
                    root,
                    prefix: format!("extraConfigFiles.{name}"),
                });
            }
        }
    }
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for (v, m) in [
        ("volumes", "volumeMounts"),
        ("extraVolumes", "extraVolumeMounts"),
    ] {
        volumes.extend(values.get(v).map(|(n, _)| n));
        mounts.extend(values.get(m).map(|(n, _)| n));
        for c in COMPONENTS {
            volumes.extend(values.path(&[c, v]).map(|(n, _)| n));
            mounts.extend(values.path(&[c, m]).map(|(n, _)| n));
        }
    }
    let tag = values
        .path(&["image", "all", "tag"])
        .and_then(|(t, _)| t.text());
    let repo = values
        .path(&["image", "all", "repository"])
        .and_then(|(r, _)| r.text())
        .unwrap_or("milvusdb/milvus");
    Ok(Deployment {
        file: file.to_path_buf(),
        layers,
        env: Vec::new(),
        mounts: Some(k8s_mounts(&volumes, &mounts)),
        base: base_of(file),
        image: tag.map(|t| format!("{repo}:{t}")),
        servers: Vec::new(),
    })
}

fn operator(file: &Path, docs: &[Node]) -> Result<Deployment> {
    let cr = docs
        .iter()
        .find(|d| is_milvus_resource(d))
        .ok_or_else(|| Error::bad_file(file, EXPECTED, "it holds no Milvus resource"))?;
    let mut layers = Vec::new();
    if let Some((config, _)) = cr.path(&["spec", "config"]) {
        layers.push(Layer {
            file: file.to_path_buf(),
            root: config.clone(),
            prefix: "spec.config".to_string(),
        });
    }
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if let Some((components, _)) = cr.path(&["spec", "components"]) {
        volumes.extend(components.get("volumes").map(|(n, _)| n));
        mounts.extend(components.get("volumeMounts").map(|(n, _)| n));
        for (_, _, c) in components.entries() {
            volumes.extend(c.get("volumes").map(|(n, _)| n));
            mounts.extend(c.get("volumeMounts").map(|(n, _)| n));
        }
    }
    let image = cr
        .path(&["spec", "components", "image"])
        .and_then(|(i, _)| i.text())
        .map(str::to_string);
    Ok(Deployment {
        file: file.to_path_buf(),
        layers,
        env: Vec::new(),
        mounts: Some(k8s_mounts(&volumes, &mounts)),
        base: base_of(file),
        image,
        servers: Vec::new(),
    })
}

/// Compose's variable interpolation (`${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `$VAR`, `$$`), from `vars` (the environment, then the
/// project's `.env`), as the guide's `${DOCKER_VOLUME_DIRECTORY:-.}/tls` needs.
fn interpolate(s: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let Some(end) = r.find('}') else {
                out.push_str(&rest[i..]);
                return out;
            };
            let expr = &r[..end];
            let value = if let Some((name, default)) = expr.split_once(":-") {
                vars(name)
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| default.to_string())
            } else if let Some((name, default)) = expr.split_once('-') {
                vars(name).unwrap_or_else(|| default.to_string())
            } else if let Some((name, _)) = expr.split_once(":?").or_else(|| expr.split_once('?')) {
                vars(name).unwrap_or_default()
            } else {
                vars(expr).unwrap_or_default()
            };
            out.push_str(&value);
            rest = &r[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(&vars(&after[..len]).unwrap_or_default());
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    out
}

/// The variables of a Compose project: the environment, then `.env`.
fn compose_vars(base: &Path) -> impl Fn(&str) -> Option<String> {
    // Read as a folder's own file: a `.env` linked out of the project (to
    // root's credentials, say) is not read, so its values never reach a
    // printed path.
    let text = crate::input::read_in_folder(&base.join(".env"), "a .env file")
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let dotenv: HashMap<String, String> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            let v = v.trim().trim_matches('"').trim_matches('\'');
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect();
    move |name: &str| {
        std::env::var(name)
            .ok()
            .or_else(|| dotenv.get(name).cloned())
    }
}

/// A Compose volume: short (`SRC:DST[:MODE]`) or long syntax.
fn compose_mount(
    v: &Node,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Option<(Mount, Option<PathBuf>)> {
    let (source, target, bind) = if let Some(s) = v.text() {
        let s = interpolate(s, vars);
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [target] => (None, target.to_string(), false),
            [src, target, ..] => (Some(src.to_string()), target.to_string(), true),
            [] => return None,
        }
    } else {
        let target = interpolate(v.get("target")?.0.text()?, vars);
        let src = v
            .get("source")
            .and_then(|(s, _)| s.text())
            .map(|s| interpolate(s, vars));
        let bind = v.get("type").and_then(|(t, _)| t.text()) == Some("bind");
        (src, target, bind)
    };
    // A short-syntax source that is a path (not a volume name) is a bind mount.
    let host = source
        .filter(|s| bind && (s.starts_with('.') || s.starts_with('/') || s.starts_with('~')))
        .map(PathBuf::from);
    let mount = Mount {
        target,
        source: host.clone().map_or(Source::Other, Source::Host),
    };
    Some((mount, host))
}

/// One service as several Compose files describe it together
/// (`docker compose -f base.yml -f override.yml`): the last image wins,
/// volumes are merged by their target, environment variables added.
#[derive(Default)]
struct Service {
    image: String,
    /// (target, mount, host source, where it is written)
    volumes: Vec<(String, Mount, Option<PathBuf>, Location)>,
    env: Vec<(String, String, Location)>,
    /// The command's words, each with where it is written.
    command: Vec<(String, Location)>,
}

fn compose(files: &[(PathBuf, Vec<Node>)], report: &mut Report) -> Result<Vec<Deployment>> {
    // Relative paths are relative to the first file's folder (the project's).
    let Some((first, _)) = files.first() else {
        return Ok(Vec::new());
    };
    let base = base_of(first);
    let vars = compose_vars(&base);
    let mut services: Vec<(String, Service)> = Vec::new();
    for (file, docs) in files {
        let Some((svcs, _)) = docs.iter().find_map(|d| d.get("services")) else {
            continue;
        };
        for (name, _, svc) in svcs.entries() {
            let i = match services.iter().position(|(n, _)| n == name) {
                Some(i) => i,
                None => {
                    services.push((name.clone(), Service::default()));
                    services.len() - 1
                }
            };
            let s = &mut services[i].1;
            if let Some(image) = svc.get("image").and_then(|(i, _)| i.text()) {
                s.image = interpolate(image, &vars);
            }
            if let Some((vols, _)) = svc.get("volumes") {
                for (k, v) in vols.items().iter().enumerate() {
                    let Some((m, host)) = compose_mount(v, &vars) else {
                        continue;
                    };
                    let target = m.target.trim_end_matches('/').to_string();
                    let at = Location {
                        file: file.clone(),
                        key: format!("services.{name}.volumes[{k}]"),
                        line: Some(v.line),
                    };
                    s.volumes.retain(|(t, _, _, _)| *t != target);
                    s.volumes.push((target, m, host, at));
                }
            }
            if let Some((c, line)) = svc.get("command") {
                let key = format!("services.{name}.command");
                s.command = match c.text() {
                    Some(t) => t
                        .split_whitespace()
                        .map(|w| {
                            let at = Location {
                                file: file.clone(),
                                key: key.clone(),
                                line: Some(line),
                            };
                            (interpolate(w, &vars), at)
                        })
                        .collect(),
                    None => c
                        .items()
                        .iter()
                        .enumerate()
                        .map(|(k, w)| {
                            let at = Location {
                                file: file.clone(),
                                key: format!("{key}[{k}]"),
                                line: Some(w.line),
                            };
                            (interpolate(w.text().unwrap_or(""), &vars), at)
                        })
                        .collect(),
                };
            }
            if let Some((e, _)) = svc.get("environment") {
                let loc = |k: &str, line| Location {
                    file: file.clone(),
                    key: format!("services.{name}.environment.{k}"),
                    line: Some(line),
                };
                for (k, l, v) in e.entries() {
                    let value = interpolate(v.text().unwrap_or(""), &vars);
                    s.env.push((k.to_ascii_uppercase(), value, loc(k, *l)));
                }
                for item in e.items() {
                    if let Some((k, v)) = item.text().and_then(|t| t.split_once('=')) {
                        let value = interpolate(v, &vars);
                        s.env
                            .push((k.to_ascii_uppercase(), value, loc(k, item.line)));
                    }
                }
            }
        }
    }
    // etcd and MinIO services of the project, whose server certificates
    // are checked with a certificate folder.
    let servers: Vec<DepServer> = services
        .iter()
        .filter_map(|(name, svc)| dep_server(name, svc, first, &base))
        .collect();
    let mut servers = Some(servers);
    let mut out = Vec::new();
    for (name, svc) in services {
        let mut configs: Vec<(String, Mount, Option<PathBuf>, Location)> = svc
            .volumes
            .iter()
            .filter(|(t, _, h, _)| {
                h.is_some() && (t == CONFIG_MILVUS_YAML || t == CONFIG_USER_YAML)
            })
            .cloned()
            .collect();
        // A whole folder mounted over /milvus/configs: its milvus.yaml and
        // user.yaml, where they exist.
        for (t, m, h, at) in &svc.volumes {
            let Some(h) = h.as_ref().filter(|_| t == CONFIG_DIR) else {
                continue;
            };
            for (target, name) in [
                (CONFIG_MILVUS_YAML, "milvus.yaml"),
                (CONFIG_USER_YAML, "user.yaml"),
            ] {
                if resolve(&base, &h.join(name)).is_file() {
                    configs.push((
                        target.to_string(),
                        m.clone(),
                        Some(h.join(name)),
                        at.clone(),
                    ));
                }
            }
        }
        let milvus = svc.image.contains("milvusdb/milvus")
            || !configs.is_empty()
            || ["standalone", "proxy", "milvus"].contains(&name.as_str());
        if !milvus {
            continue;
        }
        // milvus.yaml first, then user.yaml, as Milvus (2.4+) reads them.
        configs.sort_by_key(|(t, _, _, _)| t != CONFIG_MILVUS_YAML);
        let mut layers = Vec::new();
        let user_yaml_ignored = reads_milvus_yaml_only(&svc.image);
        for (target, _, host, at) in &configs {
            // Milvus before 2.4 runs without it: its settings do not count.
            if target == CONFIG_USER_YAML && user_yaml_ignored {
                continue;
            }
            let path = resolve(&base, host.as_deref().unwrap_or(Path::new("")));
            let text = read_text(&path).map_err(|e| match e {
                Error::Io { .. } => Error::bad_file(
                    &at.file,
                    EXPECTED,
                    format!(
                        "{} (line {}) mounts {} at {target}, and it cannot be read; \
                         run doctor where the Compose file is used, or fix the path",
                        at.key,
                        at.line.unwrap_or(0),
                        path.display()
                    ),
                ),
                other => other,
            })?;
            let docs = parse(&path, &text, 0)?;
            let Some(root) = docs.into_iter().find(|d| d.is_map()) else {
                continue;
            };
            if !report.files.iter().any(|(p, _)| *p == path) {
                report.files.push((path.clone(), Shape::MilvusConfig));
            }
            layers.push(Layer {
                file: path,
                root,
                prefix: String::new(),
            });
        }
        if let Some((_, _, _, at)) = configs.iter().find(|(t, _, _, _)| t == CONFIG_USER_YAML)
            && user_yaml_ignored
        {
            report.findings.push(Located {
                finding: Finding::UserYamlIgnored {
                    image: svc.image.clone(),
                },
                at: at.clone(),
            });
        }
        out.push(Deployment {
            file: first.clone(),
            layers,
            env: svc.env,
            mounts: Some(svc.volumes.into_iter().map(|(_, m, _, _)| m).collect()),
            base: base.clone(),
            image: (!svc.image.is_empty()).then(|| svc.image.clone()),
            // Checked once, with the first Milvus service.
            servers: servers.take().unwrap_or_default(),
        });
    }
    if out.is_empty() {
        let names: Vec<String> = files.iter().map(|(f, _)| f.display().to_string()).collect();
        return Err(Error::bad_file(
            first,
            EXPECTED,
            format!(
                "none of the services of {} runs Milvus (image milvusdb/milvus, or a service named standalone or proxy)",
                names.join(", ")
            ),
        ));
    }
    Ok(out)
}

/// Milvus before 2.4 reads `milvus.yaml` alone (`defaultYaml` in
/// pkg/util/paramtable/base_table.go lists user.yaml since 2.4).
fn reads_milvus_yaml_only(image: &str) -> bool {
    before(image, (2, 4))
}

/// Whether the image's tag names a Milvus release before `version`
/// (`v2.3.5`, `2.4.0-gpu`); false for `latest`, digests, or no tag.
fn before(image: &str, version: (u32, u32)) -> bool {
    let Some((_, tag)) = image.rsplit_once(':') else {
        return false;
    };
    let tag = tag.trim_start_matches('v');
    let mut parts = tag.split(['.', '-']);
    let major: Option<u32> = parts.next().and_then(|p| p.parse().ok());
    let minor: Option<u32> = parts.next().and_then(|p| p.parse().ok());
    matches!((major, minor), (Some(m), Some(n)) if (m, n) < version)
}

// ---------------------------------------------------------------------------
// The rules.

fn check(d: &Deployment, dir: Option<&Path>, now: OffsetDateTime, out: &mut Vec<Located>) {
    check_tls(d, dir, now, out);
    etcd(d, dir, now, out);
    minio(d, dir, now, out);
    kafka(d, dir, now, out);
    if let Some(dir) = dir {
        // etcd and S3 servers need serverAuth.
        for s in &d.servers {
            dep_certificates(
                &s.service,
                dir,
                Some(&s.cert),
                s.key.as_ref(),
                s.ca.as_ref(),
                Purpose::Server,
                s.name,
                now,
                out,
            );
        }
    }
}

fn check_tls(d: &Deployment, dir: Option<&Path>, now: OffsetDateTime, out: &mut Vec<Located>) {
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

/// A TLS file the configuration names: the key, its container path, where.
struct TlsFile {
    key: String,
    container: String,
    at: Location,
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

/// A path as the container sees it: relative ones are under /milvus.
fn container_path(p: &str) -> String {
    let p = p.trim_start_matches("./");
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{MILVUS_HOME}/{p}")
    }
}

fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir || path.starts_with(&format!("{dir}/")) || dir.is_empty()
}

/// The mount that holds `path` (the deepest one).
fn mount_for<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| under(path, &m.target))
        .max_by_key(|m| m.target.len())
}

/// The host file for a container path, with a certificate folder: through
/// a Compose bind mount if it exists there, else the folder's file of that
/// name (or the Secret key it comes from).
fn host_file(d: &Deployment, dir: &Path, container: &str) -> PathBuf {
    let name = Path::new(container)
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_default();
    let mount = d.mounts.as_ref().and_then(|m| mount_for(m, container));
    if let Some(m) = mount {
        let rel = container
            .strip_prefix(m.target.trim_end_matches('/'))
            .unwrap_or("")
            .trim_start_matches('/');
        match &m.source {
            Source::Host(h) => {
                let h = if rel.is_empty() {
                    h.clone()
                } else {
                    h.join(rel)
                };
                let p = resolve(&d.base, &h);
                if p.is_file() {
                    return p;
                }
            }
            Source::Secret(items) => {
                let by_name = dir.join(&name);
                if !by_name.is_file()
                    && let Some((key, _)) = items.iter().find(|(_, p)| p == rel || p.is_empty())
                {
                    return dir.join(key);
                }
            }
            Source::Other => {}
        }
    }
    dir.join(name)
}

fn load_cert(path: &Path) -> std::result::Result<CertInfo, Finding> {
    let unusable = |reason: String| Finding::NotACertificate { reason };
    let bytes = crate::input::read_bounded(path)
        .map_err(|e| unusable(format!("{}: cannot be read ({e})", path.display())))?;
    let (certs, _) = crate::input::parse_certificates_or_der(path, &bytes)
        .map_err(|e| unusable(e.to_string()))?;
    let first = certs
        .first()
        .ok_or_else(|| unusable(format!("{} holds no certificate", path.display())))?;
    CertInfo::from_der(first).map_err(|e| unusable(format!("{}: {e}", path.display())))
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
    for f in checks::purpose(&cert, Purpose::Server, ca_dir) {
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
                for f in checks::purpose(&c, Purpose::Client, ca_dir) {
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

// ---------------------------------------------------------------------------
// Milvus's dependencies: etcd, S3 storage (MinIO), Kafka.

/// The system trust bundle Milvus's storage clients read (Go's crypto/x509
/// and, in Milvus 2.3, the C++ storage's AWS SDK, which reads nothing else).
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn is_true(s: &Setting) -> bool {
    s.value.trim().eq_ignore_ascii_case("true")
}

impl Deployment {
    /// A list setting: a YAML sequence, or comma-separated text (as Milvus
    /// splits `etcd.endpoints` and the `ETCD_ENDPOINTS` variable).
    fn list(&self, keys: &[&str]) -> Option<(Vec<String>, Location)> {
        let var = keys.join("_").to_ascii_uppercase();
        let split = |v: &str| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string)
                .collect()
        };
        if let Some((_, v, at)) = self.env.iter().rev().find(|(k, _, _)| *k == var) {
            return Some((split(v), at.clone()));
        }
        self.layers.iter().rev().find_map(|l| {
            let (node, line) = l.root.path(keys)?;
            let values = match node.text() {
                Some(t) => split(t),
                None => node
                    .items()
                    .iter()
                    .filter_map(Node::text)
                    .flat_map(split)
                    .collect(),
            };
            Some((values, l.at(&keys.join("."), line)))
        })
    }
}

/// A dependency's TLS file setting, when set: checked to be mounted
/// (`path_not_mounted` otherwise, and then None).
fn dep_file(d: &Deployment, keys: &[&str], out: &mut Vec<Located>) -> Option<TlsFile> {
    let s = d.setting(keys).filter(|s| !s.value.trim().is_empty())?;
    let container = container_path(s.value.trim());
    if let Some(mounts) = &d.mounts
        && mount_for(mounts, &container).is_none()
    {
        out.push(Located {
            finding: Finding::PathNotMounted {
                path: container,
                mounts: mounts.iter().map(|m| m.target.clone()).collect(),
            },
            at: s.at,
        });
        return None;
    }
    Some(TlsFile {
        key: keys.join("."),
        container,
        at: s.at,
    })
}

/// With a certificate folder: a dependency client's certificate, key and
/// CA files (each optional), mapped back to host files and checked with
/// the rules `inspect` uses.
#[allow(clippy::too_many_arguments)]
fn dep_certificates(
    d: &Deployment,
    dir: &Path,
    cert: Option<&TlsFile>,
    key: Option<&TlsFile>,
    ca: Option<&TlsFile>,
    purpose: Purpose,
    name: Option<&str>,
    now: OffsetDateTime,
    out: &mut Vec<Located>,
) {
    let ca_dir = dir.join(crate::files::CA_KEY).is_file().then_some(dir);
    let mut push = |finding: Finding, at: &Location| {
        out.push(Located {
            finding,
            at: at.clone(),
        })
    };
    let found = |f: Option<&TlsFile>, push: &mut dyn FnMut(Finding, &Location)| {
        let f = f?;
        let host = host_file(d, dir, &f.container);
        if host.is_file() {
            return Some(host);
        }
        push(
            Finding::FileMissing {
                file: host.display().to_string(),
                what: "the file the configuration names",
                needed_by: match purpose {
                    Purpose::Server => "the service serves TLS with it",
                    _ => "Milvus reads it to connect to its dependency",
                },
            },
            &f.at,
        );
        None
    };
    let cert_host = found(cert, &mut push);
    let key_host = found(key, &mut push);
    let ca_host = found(ca, &mut push);
    let ca_info = match (ca_host, ca) {
        (Some(p), Some(f)) => match load_cert(&p) {
            Ok(c) => {
                if let Some(x) = checks::not_a_ca(&c) {
                    push(x, &f.at);
                }
                Some(c)
            }
            Err(e) => {
                push(e, &f.at);
                None
            }
        },
        _ => None,
    };
    let (Some(cert_host), Some(cf)) = (cert_host, cert) else {
        return;
    };
    let leaf = match load_cert(&cert_host) {
        Ok(c) => c,
        Err(e) => {
            push(e, &cf.at);
            return;
        }
    };
    // `renew --only NAME` renews a certificate `add` made, by its name (the
    // file's, unless the service renames it).
    let only = name
        .or_else(|| cert_host.file_stem().and_then(|s| s.to_str()))
        .unwrap_or("")
        .to_string();
    let remedy = || Some(checks::Remedy::renew(ca_dir, &["--only", &only]));
    if let Some(f) = checks::validity(&leaf, now, checks::EXPORT_WARN_DAYS, remedy()) {
        push(f, &cf.at);
    }
    for mut f in checks::purpose(&leaf, purpose, ca_dir) {
        // Renewed by its own name, not as the Milvus server or client.
        if let Finding::MissingServerAuth { remedy: r }
        | Finding::MissingClientAuth { remedy: r }
        | Finding::NotALeaf { remedy: r } = &mut f
        {
            *r = remedy();
        }
        push(f, &cf.at);
    }
    if let (Some(key_host), Some(kf)) = (key_host, key) {
        match crate::input::read_bounded(&key_host) {
            Ok(bytes) => {
                if let (_, Some(f)) = checks::key_pair(&key_host, &bytes, &leaf, remedy()) {
                    push(f, &kf.at);
                }
            }
            Err(e) => push(
                Finding::KeyUnreadable {
                    reason: format!("{}: cannot be read ({e})", key_host.display()),
                },
                &kf.at,
            ),
        }
    }
    if let (Some(ca_info), Some(caf)) = (&ca_info, ca)
        && let Some(f) = checks::issued_by(&leaf, ca_info, &caf.container, remedy())
    {
        push(f, &caf.at);
    }
}

/// etcd over TLS. Keys (pkg/util/paramtable/service_param.go, `EtcdConfig`,
/// all "Version: 2.0.0"): `etcd.endpoints` (also `ETCD_ENDPOINTS`),
/// `etcd.ssl.enabled`, `etcd.ssl.tlsCert`, `etcd.ssl.tlsKey`,
/// `etcd.ssl.tlsCACert`, `etcd.ssl.tlsMinVersion` ("Optional values: 1.0,
/// 1.1, 1.2, 1.3", default 1.3).
fn etcd(d: &Deployment, dir: Option<&Path>, now: OffsetDateTime, out: &mut Vec<Located>) {
    let ssl = d.setting(&["etcd", "ssl", "enabled"]);
    let ssl_on = ssl.as_ref().is_some_and(is_true);
    if let Some((endpoints, at)) = d.list(&["etcd", "endpoints"]) {
        for e in endpoints {
            let lower = e.to_ascii_lowercase();
            let finding = if ssl_on && lower.starts_with("http://") {
                Finding::EtcdEndpointNotHttps { endpoint: e }
            } else if !ssl_on && lower.starts_with("https://") {
                Finding::EtcdHttpsWithoutSsl { endpoint: e }
            } else {
                continue;
            };
            out.push(Located {
                finding,
                at: at.clone(),
            });
        }
    }
    let Some(ssl) = ssl.filter(is_true) else {
        return;
    };
    if let Some(v) = d.setting(&["etcd", "ssl", "tlsMinVersion"]) {
        let value = v.value.trim().trim_matches('"').to_string();
        let mut parts = value.split('.');
        let major: Option<u32> = parts.next().and_then(|p| p.parse().ok());
        let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if major.is_some_and(|m| (m, minor) < (1, 2)) {
            out.push(Located {
                finding: Finding::EtcdTlsVersionTooLow { value },
                at: v.at,
            });
        }
    }
    let mut files = Vec::new();
    for key in ["tlsCert", "tlsKey", "tlsCACert"] {
        let keys = ["etcd", "ssl", key];
        if d.setting(&keys).is_none_or(|s| s.value.trim().is_empty()) {
            out.push(Located {
                finding: Finding::EtcdSslPathMissing {
                    key: keys.join("."),
                },
                at: ssl.at.clone(),
            });
            files.push(None);
        } else {
            files.push(dep_file(d, &keys, out));
        }
    }
    if let Some(dir) = dir {
        dep_certificates(
            d,
            dir,
            files[0].as_ref(),
            files[1].as_ref(),
            files[2].as_ref(),
            Purpose::Client,
            None,
            now,
            out,
        );
    }
}

/// S3 storage over TLS. Keys (pkg/util/paramtable/service_param.go,
/// `MinioConfig`): `minio.useSSL`, `minio.ssl.tlsCACert` ("Version:
/// 2.3.12"; without it Milvus trusts the system bundle only, and Milvus
/// 2.3's C++ storage reads that bundle alone).
fn minio(d: &Deployment, dir: Option<&Path>, now: OffsetDateTime, out: &mut Vec<Located>) {
    let Some(ssl) = d.setting(&["minio", "useSSL"]).filter(is_true) else {
        return;
    };
    let ca_set = d
        .setting(&["minio", "ssl", "tlsCACert"])
        .is_some_and(|s| !s.value.trim().is_empty());
    let bundle_mounted = d.mounts.as_ref().is_some_and(|m| {
        m.iter().any(|m| {
            let t = m.target.trim_end_matches('/');
            t == SYSTEM_BUNDLE || t == "/etc/ssl/certs"
        })
    });
    if !ca_set && !bundle_mounted {
        out.push(Located {
            finding: Finding::MinioCaNotTrusted {
                mounts_known: d.mounts.is_some(),
            },
            at: ssl.at,
        });
    }
    let ca = dep_file(d, &["minio", "ssl", "tlsCACert"], out);
    if let (Some(dir), Some(ca)) = (dir, ca) {
        dep_certificates(
            d,
            dir,
            None,
            None,
            Some(&ca),
            Purpose::Client,
            None,
            now,
            out,
        );
    }
}

/// Kafka over TLS: with `kafka.ssl.enabled`, `kafka.ssl.tlsCert`, `kafka.ssl.tlsKey`,
/// `kafka.ssl.tlsCaCert` (service_param.go, `KafkaConfig`, "Version:
/// 2.3.11"), and the librdkafka properties Milvus passes through from the
/// `kafka.consumer.` and `kafka.producer.` prefixes
/// (`KafkaConsumerConfigPrefix`, `KafkaProducerConfigPrefix`):
/// `ssl.certificate.location`, `ssl.key.location`, `ssl.ca.location`.
fn kafka(d: &Deployment, dir: Option<&Path>, now: OffsetDateTime, out: &mut Vec<Located>) {
    let groups: [[[&str; 3]; 3]; 3] = [
        [
            ["kafka", "ssl", "tlsCert"],
            ["kafka", "ssl", "tlsKey"],
            ["kafka", "ssl", "tlsCaCert"],
        ],
        [
            ["kafka", "consumer", "ssl.certificate.location"],
            ["kafka", "consumer", "ssl.key.location"],
            ["kafka", "consumer", "ssl.ca.location"],
        ],
        [
            ["kafka", "producer", "ssl.certificate.location"],
            ["kafka", "producer", "ssl.key.location"],
            ["kafka", "producer", "ssl.ca.location"],
        ],
    ];
    // The kafka.ssl files are read with kafka.ssl.enabled only (a full
    // milvus.yaml lists the keys with TLS off); the librdkafka properties
    // are passed through whenever they are written.
    let ssl_on = d
        .setting(&["kafka", "ssl", "enabled"])
        .is_some_and(|s| is_true(&s));
    for (i, group) in groups.into_iter().enumerate() {
        if i == 0 && !ssl_on {
            continue;
        }
        let [cert, key, ca] = group.map(|keys| dep_file(d, &keys, out));
        if let Some(dir) = dir {
            dep_certificates(
                d,
                dir,
                cert.as_ref(),
                key.as_ref(),
                ca.as_ref(),
                Purpose::Client,
                None,
                now,
                out,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_keys_and_of_a_block_scalar_inside() {
        let text = "a:\n  b: 1\nvalues:\n  user.yaml: |\n    tls:\n      serverPemPath: x\n";
        let docs = parse(Path::new("f"), text, 0).unwrap();
        let (_, l) = docs[0].path(&["a", "b"]).unwrap();
        assert_eq!(l, 2);
        let (n, _) = docs[0].path(&["values", "user.yaml"]).unwrap();
        let Yaml::Scalar(text) = &n.value else {
            panic!()
        };
        let inner = parse(Path::new("f"), text, n.line - 1).unwrap();
        let (_, l) = inner[0].path(&["tls", "serverPemPath"]).unwrap();
        assert_eq!(l, 6);
    }

    #[test]
    fn compose_interpolation() {
        let vars = |n: &str| (n == "SET").then(|| "/srv".to_string());
        assert_eq!(
            interpolate("${DOCKER_VOLUME_DIRECTORY:-.}/tls:/milvus/tls", &vars),
            "./tls:/milvus/tls"
        );
        assert_eq!(interpolate("${SET:-.}/tls", &vars), "/srv/tls");
        assert_eq!(interpolate("$SET/a/$$x/${UNSET}b", &vars), "/srv/a/$x/b");
        assert_eq!(interpolate("${SET-x}${NO-y}", &vars), "/srvy");
    }

    #[test]
    fn image_tags_before_2_4() {
        assert!(reads_milvus_yaml_only("milvusdb/milvus:v2.3.5"));
        assert!(!reads_milvus_yaml_only("milvusdb/milvus:v2.4.0"));
        assert!(!reads_milvus_yaml_only("milvusdb/milvus:latest"));
        assert!(!reads_milvus_yaml_only("milvusdb/milvus"));
    }
}
