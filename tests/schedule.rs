//! Renewing on a schedule: `renew --if-expiring-within`, `--then`,
//! `--dry-run`, and the units `schedule` writes.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::*;
use milvus_certs::CertInfo;

fn info(path: &Path) -> CertInfo {
    CertInfo::from_der(&cert_der(path)).unwrap()
}

/// A hook that appends its environment to `log` (outside the certificate
/// directory, so it does not change what we hash).
fn recording_hook(log: &Path) -> String {
    format!(
        "echo \"dir=$MILVUS_CERTS_DIR renewed=$MILVUS_CERTS_RENEWED\" >> '{}'",
        log.display()
    )
}

fn hook_runs(log: &Path) -> Vec<String> {
    fs::read_to_string(log)
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

#[test]
fn nothing_due_changes_nothing_and_runs_no_hook() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("hook.log");
    let before = snapshot(d.path());
    let out = run(
        d.path(),
        &[
            "renew",
            "--if-expiring-within",
            "30",
            "--then",
            &recording_hook(&log),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(snapshot(d.path()), before);
    assert!(hook_runs(&log).is_empty(), "the hook must not run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Nothing to renew") && stdout.contains("Next renewal:"),
        "{stdout}"
    );
}

#[test]
fn due_certificates_are_renewed_and_the_hook_runs_once() {
    let d = gen_dir(&["--days", "10", "--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("hook.log");
    let old = info(&dir.join("server.pem"));
    let out = run(
        dir,
        &[
            "renew",
            "--if-expiring-within",
            "30",
            "--then",
            &recording_hook(&log),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = info(&dir.join("server.pem"));
    assert_ne!(new.serial, old.serial);
    // The renewed leaves keep their 10-day lifetime (the timer has no --days).
    assert_eq!((new.not_after - new.not_before).whole_days(), 10);
    let client = info(&dir.join("client.pem"));
    assert_eq!((client.not_after - client.not_before).whole_days(), 10);
    assert_ne!(client.serial, old.serial);
    let canonical = dir.canonicalize().unwrap();
    assert_eq!(
        hook_runs(&log),
        [format!("dir={} renewed=server client", canonical.display())]
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("it expires in"));
    // A 10-day life is due again at once within 30 days: said, with the fix.
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --days N (more than 30)"));
    run_ok(dir, &["renew", "--days", "365", "--no-backup"]);

    // Now nothing is due: a second run does nothing.
    let before = snapshot(dir);
    assert_eq!(
        run(
            dir,
            &[
                "renew",
                "--if-expiring-within",
                "30",
                "--then",
                &recording_hook(&log)
            ]
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(snapshot(dir), before);
    assert_eq!(hook_runs(&log).len(), 1);
}

#[test]
fn only_limits_the_candidates_and_a_broken_leaf_is_due() {
    let d = gen_dir(&["--days", "10", "--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("hook.log");
    let client_before = fs::read(dir.join("client.pem")).unwrap();
    run_ok(
        dir,
        &[
            "renew",
            "--if-expiring-within",
            "30",
            "--only",
            "server",
            "--then",
            &recording_hook(&log),
        ],
    );
    assert_eq!(fs::read(dir.join("client.pem")).unwrap(), client_before);
    assert!(hook_runs(&log)[0].ends_with("renewed=server"));

    // Not expiring but mismatched: due too.
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let dir = d.path();
    fs::copy(dir.join("server.key"), dir.join("client.key")).unwrap();
    let out = run_ok(dir, &["renew", "--if-expiring-within", "30"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("client.pem: client.key does not belong"),
        "{stdout}"
    );
    let key =
        rcgen::KeyPair::from_pem(&fs::read_to_string(dir.join("client.key")).unwrap()).unwrap();
    assert_eq!(
        key.public_key_raw(),
        info(&dir.join("client.pem")).public_key_bits.as_slice()
    );
}

#[test]
fn a_failing_hook_keeps_the_new_files_and_exits_non_zero() {
    let d = gen_dir(&["--days", "10", "--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let old = info(&dir.join("server.pem"));
    let out = run(
        dir,
        &[
            "renew",
            "--if-expiring-within",
            "30",
            "--then",
            "echo reload failed >&2; exit 7",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the --then hook `echo reload failed >&2; exit 7` exited 7"),
        "{stderr}"
    );
    assert!(stderr.contains("not rolled back"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("  ! reload failed"));
    assert_ne!(
        info(&dir.join("server.pem")).serial,
        old.serial,
        "renewed files stay"
    );
}

#[test]
fn dry_run_changes_nothing() {
    let d = gen_dir(&["--days", "10", "--key-type", "ecdsa-p256"]);
    let dir = d.path();
    // Even an interrupted write is left for the next real run.
    let staging = dir.join(STAGING_DIR);
    fs::create_dir(&staging).unwrap();
    fs::write(staging.join("server.pem"), "half").unwrap();
    let before = snapshot(dir);
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("hook.log");
    for args in [
        &[
            "renew",
            "--dry-run",
            "--if-expiring-within",
            "30",
            "--then",
            &recording_hook(&log),
        ][..],
        &["renew", "--dry-run"],
        &["renew", "--dry-run", "--ca"],
    ] {
        let out = run(dir, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("nothing was changed"));
        assert_eq!(snapshot(dir), before, "{args:?}");
    }
    assert!(hook_runs(&log).is_empty());
}

#[test]
fn schedule_writes_units_systemd_accepts_and_a_crontab_line_that_works() {
    let d = gen_dir(&["--days", "10", "--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let out_dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("hook 100%.log");
    let hook = recording_hook(&log);
    let out = run_ok(
        dir,
        &[
            "schedule",
            "--dir",
            ".",
            "--days",
            "3650",
            "--then",
            &hook,
            "--out",
            &out_dir.path().display().to_string(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("systemctl enable --now milvus-certs-renew.timer")
    );
    let service = out_dir.path().join("milvus-certs-renew.service");
    let timer = out_dir.path().join("milvus-certs-renew.timer");
    let cron = fs::read_to_string(out_dir.path().join("milvus-certs-renew.cron")).unwrap();
    let timer_text = fs::read_to_string(&timer).unwrap();
    for want in [
        "OnCalendar=daily",
        "RandomizedDelaySec=",
        "Persistent=true",
        "WantedBy=timers.target",
    ] {
        assert!(timer_text.contains(want), "{want}");
    }
    let exec = fs::read_to_string(&service).unwrap();
    let canonical = dir.canonicalize().unwrap().display().to_string();
    assert!(
        exec.contains(&format!(
            "--dir {canonical} --if-expiring-within 30 --days 3650"
        )),
        "absolute paths: {exec}"
    );

    systemd_verify(&[&timer, &service]);

    // The crontab line: five time fields, then a command...
    let line = cron.trim_end();
    let fields: Vec<&str> = line.splitn(6, ' ').collect();
    assert_eq!(fields.len(), 6);
    let minute: u32 = fields[0].parse().unwrap();
    assert!(minute < 60);
    assert_eq!(&fields[1..5], ["3", "*", "*", "*"]);
    assert!(fields[5].starts_with('/'), "an absolute path to the binary");
    // ... which, run as cron runs it (sh, after turning `\%` into `%`),
    // renews the due certificates and runs the hook.
    let command = fields[5].replace(r"\%", "%");
    let ran = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir("/")
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert_eq!(
        hook_runs(&log),
        [format!("dir={canonical} renewed=server client")]
    );
    assert!((info(&dir.join("server.pem")).not_after - time_now()).whole_days() > 3000);

    // --out refuses to replace without --force.
    let again = run(
        dir,
        &["schedule", "--out", &out_dir.path().display().to_string()],
    );
    assert_one_error_line(&again, 1, &["already exist", "--force"]);
}

fn time_now() -> ::time::OffsetDateTime {
    ::time::OffsetDateTime::now_utc()
}

#[test]
fn absurd_windows_are_refused() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let before = snapshot(d.path());
    assert_one_error_line(
        &run(d.path(), &["renew", "--if-expiring-within", "4000000000"]),
        2,
        &["--if-expiring-within", "at most 36500"],
    );
    assert_one_error_line(
        &run(d.path(), &["schedule", "--within", "0"]),
        2,
        &["--within"],
    );
    assert_eq!(snapshot(d.path()), before);
}

/// Many deployments append the CA to server.pem (a chain): the leaf in it is
/// still the one judged and renewed.
#[test]
fn a_server_pem_holding_a_chain_is_still_renewed_when_due() {
    let d = gen_dir(&["--days", "10", "--key-type", "ecdsa-p256"]);
    let dir = d.path();
    let chain = [
        fs::read_to_string(dir.join("server.pem")).unwrap(),
        fs::read_to_string(dir.join("ca.pem")).unwrap(),
    ]
    .concat();
    fs::write(dir.join("server.pem"), chain).unwrap();
    let old = info(&dir.join("client.pem")).serial;
    let out = run_ok(dir, &["renew", "--if-expiring-within", "30"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("server.pem: it expires in"), "{stdout}");
    assert!(stdout.contains("client.pem: it expires in"), "{stdout}");
    let server = info(&dir.join("server.pem"));
    assert_eq!((server.not_after - server.not_before).whole_days(), 10);
    assert!(server.not_after > time_now() + ::time::Duration::days(9));
    assert_ne!(info(&dir.join("client.pem")).serial, old);
}

/// Issue 11: an attacker who can write the --out directory leaves a dangling
/// `milvus-certs-renew.service` symlink pointing outside it, hoping a root
/// run creates the target. Without --force nothing is written anywhere;
/// with --force the link itself is replaced, its target is never written.
#[test]
fn schedule_out_does_not_follow_a_planted_symlink() {
    let d = gen_dir(&["--key-type", "ecdsa-p256"]);
    let out_dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("planted.service");
    let link = out_dir.path().join("milvus-certs-renew.service");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let before = snapshot(out_dir.path());
    let out_arg = out_dir.path().display().to_string();

    let refused = run(d.path(), &["schedule", "--out", &out_arg]);
    assert_one_error_line(
        &refused,
        1,
        &["milvus-certs-renew.service already exist", "--force"],
    );
    assert!(!target.exists(), "the symlink's target was created");
    assert_eq!(snapshot(out_dir.path()), before, "nothing written to --out");

    // With --force, and a target that exists: it keeps its contents.
    fs::write(&target, "precious\n").unwrap();
    run_ok(d.path(), &["schedule", "--out", &out_arg, "--force"]);
    assert_eq!(fs::read_to_string(&target).unwrap(), "precious\n");
    let meta = fs::symlink_metadata(&link).unwrap();
    assert!(meta.file_type().is_file(), "the link itself was replaced");
    assert!(fs::read_to_string(&link).unwrap().contains("ExecStart="));
}

/// Kills the process whose pid a hook wrote to a file, when dropped (so a
/// failed assertion does not leave it running).
struct KillOnDrop(std::path::PathBuf);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(pid) = fs::read_to_string(&self.0) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// Issue 11: a hook that starts a background child (which inherits the
/// output pipes) returns when `sh` exits, with its output, instead of
/// blocking `renew` until the child ends.
#[test]
fn a_hook_that_leaves_a_background_child_does_not_block_renew() {
    let d = gen_dir(&["--days", "10", "--key-type", "ecdsa-p256"]);
    let logs = tempfile::tempdir().unwrap();
    let pid_file = logs.path().join("sleep.pid");
    let _kill = KillOnDrop(pid_file.clone());
    let hook = format!(
        "sleep 20 & echo $! > '{}'; echo started",
        pid_file.display()
    );
    let start = std::time::Instant::now();
    let out = run(
        d.path(),
        &["renew", "--if-expiring-within", "30", "--then", &hook],
    );
    // A hang guard: the child sleeps 20 s.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "renew waited for the hook's background child: {:?}",
        start.elapsed()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("  | started"), "{stdout}");
    assert!(stdout.contains("The hook exited 0."), "{stdout}");
    assert!(pid_file.exists(), "the hook wrote its child's pid");
}

/// Issue 11: a value holding a control character would add lines to the
/// unit (a newline in --dir makes a working `ExecStartPre=`) or to the
/// crontab (a newline in --then makes a job of its own). Each is refused
/// with one line naming the option, and nothing is written or printed.
#[test]
fn schedule_refuses_control_characters_in_what_it_writes() {
    let base = tempfile::tempdir().unwrap();
    // A real directory, as an attacker who may name directories would make.
    let evil_dir = base.path().join("tls\nExecStartPre=/bin/touch /tmp/pwned");
    fs::create_dir_all(&evil_dir).unwrap();
    let evil_dir = evil_dir.display().to_string();
    let out_dir = base.path().join("units");
    let out_arg = out_dir.display().to_string();
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["--dir", &evil_dir],
            &[
                "invalid --dir",
                "a newline (U+000A)",
                "no control characters",
            ],
        ),
        (
            &["--dir", ".", "--then", "x\n* * * * * touch /tmp/pwned #"],
            &[
                "invalid --then",
                "a newline (U+000A)",
                "script file",
                "--then /path/to/script",
            ],
        ),
        (
            &["--dir", ".", "--then", "systemctl\trestart milvus"],
            &["invalid --then", "a tab (U+0009)", "--then /path/to/script"],
        ),
        (
            &["--dir", ".", "--then", "echo \x1b[2Khidden"],
            &["invalid --then", "ESC", "--then /path/to/script"],
        ),
        (
            &["--dir", ".", "--then", "true\r0 * * * * evil"],
            &["invalid --then", "a carriage return (U+000D)"],
        ),
        (
            &["--dir", ".", "--then", "true\x7f"],
            &["invalid --then", "DEL"],
        ),
    ];
    for (args, needles) in cases {
        for out in [true, false] {
            let mut all = vec!["schedule"];
            all.extend_from_slice(args);
            if out {
                all.extend(["--out", &out_arg]);
            }
            let ran = run(base.path(), &all);
            // An invalid value is a usage error: exit 2 (issue 12).
            assert_one_error_line(&ran, 2, needles);
            assert!(ran.stdout.is_empty(), "{all:?} printed units");
            assert!(!out_dir.exists(), "{all:?} wrote to --out");
        }
    }
}

/// docs/deploy.md's Kubernetes example (a hook script written with a heredoc,
/// then `schedule`), run as written: the crontab is one line and systemd
/// accepts the units. The hook script itself then runs the way cron would
/// run it, with stand-ins for kubectl.
#[test]
fn the_readme_kubernetes_schedule_example_works_as_written() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deploy.md")).unwrap();
    let section = readme
        .split("### Kubernetes")
        .nth(1)
        .expect("docs/deploy.md has a Kubernetes section");
    let script = section
        .split("```sh\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .expect("its sh block");
    assert!(
        script.contains("milvus-certs schedule ") && script.contains("<<"),
        "{script}"
    );

    let d = tempfile::tempdir().unwrap();
    let cert = d.path().join("cert");
    fs::create_dir(&cert).unwrap();
    run_ok(&cert, &["gen", "--days", "10", "--key-type", "ecdsa-p256"]);
    // milvus-certs, and a kubectl that records what it was given.
    let bin_dir = d.path().join("bin");
    fs::create_dir(&bin_dir).unwrap();
    std::os::unix::fs::symlink(BIN, bin_dir.join("milvus-certs")).unwrap();
    let log = d.path().join("kubectl.log");
    let kubectl = bin_dir.join("kubectl");
    write_executable(
        &kubectl,
        format!(
            "#!/bin/sh\necho \"kubectl $*\" >> '{0}'\n[ \"$1\" = apply ] && cat >> '{0}'\nexit 0\n",
            log.display()
        )
        .as_bytes(),
    );
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    shell_ok("sh", d.path(), script, &[("PATH", &path)]);

    let cron = fs::read_to_string(d.path().join("milvus-certs-renew.cron")).unwrap();
    assert_eq!(cron.lines().count(), 1, "{cron}");
    assert!(cron.ends_with('\n'), "{cron}");
    let service = d.path().join("milvus-certs-renew.service");
    systemd_verify(&[&d.path().join("milvus-certs-renew.timer"), &service]);

    // The cron job, run as cron does (sh, `\%` back to `%`, from /): the
    // leaves are due, so they are renewed and the hook applies the Secret.
    let command = cron
        .trim_end()
        .splitn(6, ' ')
        .nth(5)
        .unwrap()
        .replace(r"\%", "%");
    let ran = Command::new("sh")
        .args(["-c", &command])
        .current_dir("/")
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{command}: {}{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    let applied = fs::read_to_string(&log).unwrap();
    assert!(
        applied.starts_with("kubectl apply -f -\n") && applied.contains("kind: \"Secret\""),
        "{applied}"
    );
    assert!(
        applied.contains("kubectl rollout restart deployment"),
        "{applied}"
    );
}

/// A CA that expires inside the renewal window caps every new leaf inside
/// it, so the timer would renew (and restart Milvus) every day: the daily
/// run refuses with exit 1 and the `renew --ca` that ends the loop, and
/// changes nothing; after that command, it renews as usual.
#[test]
fn a_ca_expiring_within_the_window_is_renewed_first() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    run_ok(
        w,
        &[
            "gen",
            "--dir",
            "short ca",
            "--ca-days",
            "20",
            "--days",
            "10",
            "--key-type",
            "ecdsa-p256",
        ],
    );
    let before = snapshot(&w.join("short ca"));
    let out = run(
        w,
        &[
            "renew",
            "--dir",
            "short ca",
            "--if-expiring-within",
            "30",
            "--then",
            "echo RESTART",
        ],
    );
    let line = assert_one_error_line(
        &out,
        1,
        &[
            "expires in 19 days",
            "30-day renewal window",
            "milvus-certs renew --dir 'short ca' --ca",
        ],
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("RESTART"),
        "{line}"
    );
    assert_eq!(snapshot(&w.join("short ca")), before);
    // The command, as printed.
    shell_ok(
        "sh",
        w,
        "\"$BIN\" renew --dir 'short ca' --ca --ca-days 3650",
        &[("BIN", BIN)],
    );
    let out = run_ok(
        w,
        &[
            "renew",
            "--dir",
            "short ca",
            "--if-expiring-within",
            "30",
            "--days",
            "365",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("server.pem"));
    let out = run_ok(
        w,
        &["renew", "--dir", "short ca", "--if-expiring-within", "30"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Nothing to renew"));
}
