//! Crash safety: SIGKILL `renew`, `renew --ca` and `gen --force` at random
//! points, let the next command recover, and check that no file was lost, every
//! key matches its certificate, every certificate chains to the CA, and no
//! serial was issued twice (issue "renew": crash safety).

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::*;
use milvus_certs::CertInfo;
use milvus_certs::Serial;

/// xorshift64*: enough randomness for kill points, and a seed to replay.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn info(path: &Path) -> CertInfo {
    CertInfo::from_der(&cert_der(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Checks a complete set in `dir`; records every (issuer, serial) seen and
/// fails if one appears on two different certificates.
fn check_set(dir: &Path, seen: &mut HashMap<(Vec<u8>, Serial), Vec<u8>>, ctx: &str) {
    let ca = info(&dir.join("ca.pem"));
    for role in ["ca", "server", "client"] {
        let cert = info(&dir.join(format!("{role}.pem")));
        let key_pem = fs::read_to_string(dir.join(format!("{role}.key")))
            .unwrap_or_else(|e| panic!("{ctx}: {role}.key: {e}"));
        let key = rcgen::KeyPair::from_pem(&key_pem).unwrap();
        assert_eq!(
            key.public_key_raw(),
            cert.public_key_bits.as_slice(),
            "{ctx}: {role}.key does not match {role}.pem"
        );
        assert!(
            cert.signed_by(&ca),
            "{ctx}: {role}.pem is not signed by ca.pem"
        );
        if role != "ca" {
            assert_eq!(mode(&dir.join(format!("{role}.key"))), 0o600, "{ctx}");
            let srl = Serial::parse_srl(&fs::read(dir.join("ca.srl")).unwrap()).unwrap();
            assert!(
                srl >= cert.serial,
                "{ctx}: ca.srl {srl} is below {role}.pem's serial {}",
                cert.serial
            );
        }
        let id = (cert.issuer_raw.clone(), cert.serial.clone());
        if let Some(other) = seen.insert(id, cert.der.clone()) {
            assert_eq!(
                other, cert.der,
                "{ctx}: serial {} issued twice",
                cert.serial
            );
        }
    }
}

#[test]
fn sigkill_at_random_points_loses_nothing() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let mut seen = HashMap::new();
    check_set(dir, &mut seen, "start");
    let (mut rolled_back, mut completed, mut clean_kill, mut finished) = (0, 0, 0, 0);
    let commands: [&[&str]; 5] = [
        &["renew"],
        &["renew", "--key-type", "ecdsa-p256"],
        &["renew", "--no-backup", "--key-type", "ed25519"],
        &["renew", "--ca"],
        &["gen", "--force", "--key-type", "ecdsa-p256"],
    ];
    // How long each command takes here when not killed: the writes happen at
    // the end, so most kill points are aimed at the last part of the run.
    let mut durations: Vec<u64> = commands
        .iter()
        .map(|args| {
            let start = std::time::Instant::now();
            for _ in 0..3 {
                run_ok(dir, args);
            }
            start.elapsed().as_micros() as u64 / 3
        })
        .collect();
    check_set(dir, &mut seen, "after calibration");
    // At least ROUNDS kills; more rounds while fewer than MID_RUN of them
    // landed mid-run (a loaded machine makes the calibration stale: a run
    // that finished before its kill shortens that command's estimate).
    const ROUNDS: usize = 100;
    const MID_RUN: usize = 60;
    let mut round = 0;
    while round < ROUNDS || (rolled_back + completed + clean_kill < MID_RUN && round < 5 * ROUNDS) {
        round += 1;
        let which = round % commands.len();
        let args = commands[which];
        let t = durations[which].max(1000);
        let delay = if round % 3 == 0 {
            rng.below(t)
        } else {
            t / 2 + rng.below(t * 6 / 10)
        };
        let mut child = Command::new(BIN)
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        sleep(Duration::from_micros(delay));
        let exited_before = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let ctx = format!("round {round} ({args:?}, killed after {delay} us, seed {seed})");
        if exited_before {
            finished += 1;
            assert!(status.success(), "{ctx}: exited with {status}");
            durations[which] = durations[which] * 4 / 5;
        }

        // The next command, whatever it is (here `inspect`), first completes
        // or rolls back the interrupted change, and says so.
        let next = run(dir, &["inspect", "--json"]);
        let note = String::from_utf8_lossy(&next.stderr).to_string();
        if note.contains("before it committed") {
            rolled_back += 1;
        } else if note.contains("after it committed") {
            completed += 1;
        } else if !exited_before {
            assert!(note.is_empty(), "{ctx}: {note}");
            clean_kill += 1;
        }
        let report: serde_json::Value = serde_json::from_slice(&next.stdout).unwrap();
        assert_eq!(
            report["status"], "ok",
            "{ctx}: inspect after recovery: {report:#}"
        );
        assert!(!dir.join(STAGING_DIR).exists(), "{ctx}");
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.retain(|n| n != "backup" && n != LOCK_FILE);
        names.sort();
        let mut want: Vec<String> = SEVEN.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(
            names, want,
            "{ctx}: a file was lost or a temporary file left behind"
        );
        check_set(dir, &mut seen, &ctx);
        // Every backup holds whole files: each key in it matches its certificate.
        if let Ok(entries) = fs::read_dir(dir.join("backup")) {
            for b in entries {
                let b = b.unwrap().path();
                assert_eq!(mode(&b), 0o700, "{ctx}");
                for role in ["server", "client"] {
                    let (k, c) = (b.join(format!("{role}.key")), b.join(format!("{role}.pem")));
                    if k.exists() {
                        let key =
                            rcgen::KeyPair::from_pem(&fs::read_to_string(&k).unwrap()).unwrap();
                        assert_eq!(
                            key.public_key_raw(),
                            info(&c).public_key_bits.as_slice(),
                            "{ctx}: {}",
                            b.display()
                        );
                        assert_eq!(mode(&k), 0o600, "{ctx}");
                    }
                }
            }
        }
    }
    eprintln!(
        "{round} SIGKILLs: {rolled_back} rolled back, {completed} completed by recovery, \
         {clean_kill} killed with nothing staged, {finished} had finished"
    );
    assert!(
        rolled_back + completed + clean_kill >= MID_RUN,
        "at least {MID_RUN} kills must land mid-run ({round} rounds)"
    );
}
