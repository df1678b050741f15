//! Recognising what a file is (a `milvus.yaml`/`user.yaml`, Helm values, a
//! Milvus operator resource, or a Compose file, read in `compose`) and
//! reading the first three as a [`Deployment`]: their configuration layers,
//! their Kubernetes volumes and mounts, their Milvus image.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::deployment::{Deployment, Layer, Mount, Source};
use super::node::{Node, Yaml, parse};
use super::{EXPECTED, Shape};
use crate::error::{Error, Result};

/// What `file` (its YAML documents `docs`) is; an error says why it is none
/// of what `doctor` reads.
pub(super) fn detect(file: &Path, docs: &[Node]) -> Result<Shape> {
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

/// A `milvus.yaml` or `user.yaml`: one layer, and nothing known of mounts.
pub(super) fn milvus_config(file: &Path, docs: &[Node]) -> Result<Deployment> {
    let root = docs
        .iter()
        .find(|d| d.is_map())
        .cloned()
        .ok_or_else(|| Error::bad_file(file, EXPECTED, "it holds no mapping of settings"))?;
    let layer = Layer {
        file: file.to_path_buf(),
        root,
        prefix: String::new(),
    };
    Ok(Deployment::of_file(file, vec![layer], None, None))
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

/// Helm values of the milvus chart: each `extraConfigFiles` entry a layer
/// (its lines counted in the values file), the volumes of the chart and of
/// its components, and `image.all`.
pub(super) fn helm(file: &Path, docs: &[Node]) -> Result<Deployment> {
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
    Ok(Deployment::of_file(
        file,
        layers,
        Some(k8s_mounts(&volumes, &mounts)),
        tag.map(|t| format!("{repo}:{t}")),
    ))
}

/// A Milvus operator resource: `spec.config` is the layer, the volumes are
/// its components', the image `spec.components.image`.
pub(super) fn operator(file: &Path, docs: &[Node]) -> Result<Deployment> {
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
    Ok(Deployment::of_file(
        file,
        layers,
        Some(k8s_mounts(&volumes, &mounts)),
        image,
    ))
}
