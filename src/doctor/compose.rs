//! Docker Compose files: several given together are one project, merged
//! as `docker compose -f A -f B` merges them, with Compose's variable
//! interpolation (the environment, then the project's `.env`). Each Milvus
//! service is a [`Deployment`] whose layers are the configuration files it
//! mounts; the project's etcd and MinIO services are the servers checked
//! with a certificate folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::deployment::{DepServer, Deployment, Layer, Mount, Source, base_of, before, resolve};
use super::mounts::TlsFile;
use super::node::{Node, parse};
use super::{
    CONFIG_DIR, CONFIG_MILVUS_YAML, CONFIG_USER_YAML, EXPECTED, Located, Location, Report, Shape,
    read_text,
};
use crate::checks::Finding;
use crate::error::{Error, Result};

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

/// The Milvus services of a Compose project (`files`, merged in order),
/// each a deployment; the config files they mount are added to
/// `report.files`, and a `user.yaml` an old Milvus ignores is a finding.
pub(super) fn deployments(
    files: &[(PathBuf, Vec<Node>)],
    report: &mut Report,
) -> Result<Vec<Deployment>> {
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
        .filter_map(|(name, svc)| dep_server(name, svc, first))
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

/// etcd's `--cert-file`, `--key-file` and `--trusted-ca-file` flags (in
/// its `command`), or MinIO's certificate folder (`/root/.minio/certs`,
/// holding `public.crt` and `private.key`).
fn dep_server(name: &str, svc: &Service, file: &Path) -> Option<DepServer> {
    let mounts = svc.volumes.iter().map(|(_, m, _, _)| m.clone()).collect();
    let service = Deployment::of_file(file, Vec::new(), Some(mounts), None);
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

#[cfg(test)]
mod tests {
    use super::*;

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
