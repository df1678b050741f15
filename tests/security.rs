//! Issue 11: a directory another user can write to, or a file that is not
//! what it seems, never turns milvus-certs against the person running it.
//!
//! The attacker is a second, unprivileged user (uid 65534, through
//! `setpriv`) who plants symlinks, journals and racing renames; the victim is
//! root running milvus-certs, as its daily timer does. Every test hashes the
//! surroundings (the whole temporary tree, outside targets included) before
//! and after, and asserts that nothing outside the certificate directory
//! changed, and that a refused directory is byte-identical.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::*;

const NOBODY: u32 = 65534;

/// Whether these tests can play both users here: root, with setpriv. Where
/// they cannot, they fail under CI=true instead of passing unchecked.
fn two_users() -> bool {
    let root = fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    let setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    if root && setpriv {
        return true;
    }
    skip_unless_ci("these tests need root and setpriv (util-linux) to play a second user");
    false
}

/// A temporary tree any user can enter (tempdir is 0700), root-owned.
fn arena() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("milvus-certs-security")
        .tempdir_in("/tmp")
        .unwrap();
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// Runs a shell script as the attacker.
fn as_attacker(cwd: &Path, script: &str) {
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-ec",
        ])
        .arg(script)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "attacker script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs milvus-certs (as root) with a watchdog: a hang is a failure, never
/// a stuck test run.
fn run_bounded(cwd: &Path, args: &[&str]) -> Output {
    let out = Command::new("timeout")
        .arg("20")
        .arg(BIN)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(124), "milvus-certs {args:?} hung");
    out
}

/// Everything about a tree, without following symlinks and without reading
/// anything that could block or is huge: kind, mode, owner, size, and the
/// contents of small regular files.
fn state(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(base: &Path, dir: &Path, map: &mut BTreeMap<PathBuf, String>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let rel = p.strip_prefix(base).unwrap().to_path_buf();
            let m = fs::symlink_metadata(&p).unwrap();
            let ft = m.file_type();
            let head = format!("{:o} {}:{} {}", m.mode(), m.uid(), m.gid(), m.len());
            let value = if ft.is_symlink() {
                format!("{head} -> {}", fs::read_link(&p).unwrap().display())
            } else if ft.is_dir() {
                walk(base, &p, map);
                head
            } else if ft.is_file() && m.len() <= 1 << 20 {
                let mut h = std::hash::DefaultHasher::new();
                std::hash::Hash::hash(&fs::read(&p).unwrap(), &mut h);
                format!("{head} #{:016x}", std::hash::Hasher::finish(&h))
            } else {
                head
            };
            map.insert(rel, value);
        }
    }
    let mut map = BTreeMap::new();
    walk(root, root, &mut map);
    map
}

/// A gen'd certificate directory at `dir` (ECDSA: fast).
fn gen_at(dir: &Path) {
    run_ok(
        dir.parent().unwrap(),
        &[
            "gen",
            "--dir",
            dir.file_name().unwrap().to_str().unwrap(),
            "--key-type",
            "ecdsa-p256",
        ],
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    if fs::symlink_metadata(path).unwrap().is_dir() {
        for e in fs::read_dir(path).unwrap() {
            chown_tree(&e.unwrap().path(), uid);
        }
    }
}

/// Issue 11, point 1: a staging folder planted in a folder others can write
/// (a sticky /tmp-like one): a journal naming root's file, a `backup` symlink
/// to a root-only folder, the staging folder a symlink. Root's inspect of a
/// loose file, inspect --dir, renew, gen --force and export each leave all of
/// it exactly as it was; inspect --dir reports it, the others refuse.
#[test]
fn a_planted_write_in_a_shared_folder_is_left_alone() {
    if !two_users() {
        return;
    }
    let a = arena();
    let x = a.path().join("x");
    let root_only = a.path().join("root-only");
    fs::create_dir(&root_only).unwrap();
    gen_at(&x);
    fs::copy(x.join("ca.pem"), x.join("ca-bundle.crt")).unwrap();
    fs::write(x.join("victim.txt"), "root's file\n").unwrap();
    fs::set_permissions(&x, fs::Permissions::from_mode(0o1777)).unwrap();

    let plants = [
        // A journal naming a file that is not ours, staged by the attacker.
        "mkdir .milvus-certs-pending; echo evil > .milvus-certs-pending/victim.txt; \
         printf 'milvus-certs journal v1\\nfile victim.txt\\nend\\n' > .milvus-certs-pending/COMMIT",
        // A well-formed journal with a backup, and `backup` a symlink to a
        // root-only folder.
        "mkdir -p .milvus-certs-pending/backup; echo evil > .milvus-certs-pending/server.pem; \
         echo old > .milvus-certs-pending/backup/server.pem; \
         printf 'milvus-certs journal v1\\nbackup backup/evil\\nfile server.pem\\nend\\n' \
           > .milvus-certs-pending/COMMIT; ln -s ../root-only backup",
        // The staging folder itself a symlink.
        "ln -s ../root-only .milvus-certs-pending",
    ];
    for plant in plants {
        as_attacker(&x, plant);
        let before = state(a.path());
        let file = x.join("ca-bundle.crt").display().to_string();
        let out = run_bounded(a.path(), &["inspect", &file]);
        assert_eq!(out.status.code(), Some(0), "{plant}: {}", stderr(&out));
        assert_eq!(
            state(a.path()),
            before,
            "inspect FILE changed something: {plant}"
        );

        let out = run_bounded(a.path(), &["inspect", "--dir", "x"]);
        assert_eq!(out.status.code(), Some(2), "{plant}: {}", stderr(&out));
        assert!(stderr(&out).contains("left"), "{plant}: {}", stderr(&out));
        assert!(stderr(&out).contains("rm -rf -- x/.milvus-certs-pending"));
        assert_eq!(state(a.path()), before, "inspect --dir: {plant}");

        for args in [
            &["renew", "--dir", "x"][..],
            &["gen", "--force", "--dir", "x", "--key-type", "ecdsa-p256"],
            &["renew", "--ca", "--dir", "x"],
        ] {
            let out = run_bounded(a.path(), args);
            // x is sticky, like /tmp: the fix is a private folder in it.
            assert_one_error_line(&out, 1, &["x", "--dir x/milvus-certs"]);
            assert_eq!(state(a.path()), before, "{args:?}: {plant}");
        }
        let out = run_bounded(a.path(), &["export", "k8s-secret", "--dir", "x"]);
        assert_one_error_line(&out, 1, &[".milvus-certs-pending", "left", "rm -rf"]);
        assert_eq!(state(a.path()), before, "export: {plant}");

        // Clean up for the next plant (as root, as the message says).
        for junk in [".milvus-certs-pending", "backup"] {
            let p = x.join(junk);
            if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                fs::remove_dir_all(&p).unwrap();
            } else {
                let _ = fs::remove_file(&p);
            }
        }
    }
    assert_eq!(
        fs::read_to_string(x.join("victim.txt")).unwrap(),
        "root's file\n"
    );
    assert_eq!(fs::read_dir(&root_only).unwrap().count(), 0);
}

/// Point 1 where the attacker owns the certificate directory (root renews
/// a folder another user keeps): the owner is trusted with the files inside,
/// but nothing they plant makes root write outside the folder.
#[test]
fn an_owners_planted_write_never_reaches_outside() {
    if !two_users() {
        return;
    }
    let a = arena();
    let y = a.path().join("y");
    let root_only = a.path().join("root-only");
    fs::create_dir(&root_only).unwrap();
    fs::write(a.path().join("shadow"), "secret\n").unwrap();
    fs::set_permissions(a.path().join("shadow"), fs::Permissions::from_mode(0o600)).unwrap();
    gen_at(&y);
    chown_tree(&y, NOBODY);

    // A staged symlink to a root-only file, and a foreign file.
    for plant in [
        "mkdir .milvus-certs-pending; ln -s ../shadow .milvus-certs-pending/server.key; \
         printf 'milvus-certs journal v1\\nfile server.key\\nend\\n' > .milvus-certs-pending/COMMIT",
        "mkdir .milvus-certs-pending; chmod 777 .milvus-certs-pending; \
         printf 'milvus-certs journal v1\\nend\\n' > .milvus-certs-pending/COMMIT",
        "ln -s ../root-only .milvus-certs-pending",
    ] {
        as_attacker(&y, plant);
        let before = state(a.path());
        let out = run_bounded(a.path(), &["renew", "--dir", "y"]);
        assert_one_error_line(&out, 1, &["y/.milvus-certs-pending", "left", "rm -rf"]);
        assert_eq!(state(a.path()), before, "{plant}");
        as_attacker(&y, "rm -rf .milvus-certs-pending");
    }

    // A committed write with a backup, and `backup` a symlink to a
    // root-only folder: the staged files are the owner's to put in place,
    // but the backup is never moved through the symlink.
    as_attacker(
        &y,
        "mkdir -p .milvus-certs-pending/backup; chmod 700 .milvus-certs-pending; \
         cp server.pem .milvus-certs-pending/server.pem; cp server.pem .milvus-certs-pending/backup/; \
         printf 'milvus-certs journal v1\\nbackup backup/evil\\nfile server.pem\\nend\\n' \
           > .milvus-certs-pending/COMMIT; ln -s ../root-only backup",
    );
    let out = run_bounded(a.path(), &["renew", "--dir", "y"]);
    assert_one_error_line(&out, 1, &["y/backup", "symbolic link"]);
    assert_eq!(fs::read_dir(&root_only).unwrap().count(), 0);
    assert_eq!(
        fs::read_to_string(a.path().join("shadow")).unwrap(),
        "secret\n"
    );
    // Once the owner removes the link, the write completes.
    as_attacker(&y, "rm backup");
    let out = run_bounded(a.path(), &["renew", "--dir", "y"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("completed"), "{}", stderr(&out));
    assert_eq!(fs::read_dir(&root_only).unwrap().count(), 0);
}

/// Point 2: the staging folder swapped for a symlink to a root-owned file
/// while root creates it. Nothing is chmod-ed by path any more, so the
/// racer (another user polling in a tight loop, through 40 renews) can
/// never change the target's mode.
#[test]
fn a_racer_swapping_the_staging_folder_changes_nothing_outside() {
    if !two_users() {
        return;
    }
    let a = arena();
    let z = a.path().join("z");
    let target = a.path().join("target.conf");
    fs::write(&target, "root's config\n").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
    gen_at(&z);
    chown_tree(&z, NOBODY);
    // Perl from perl-base, which every Debian system has (another user may
    // not be able to run a python3 under /root).
    let racer = r#"
my $stop = time + $ARGV[0];
my $n = 0;
while (time < $stop) {
    if (-d ".milvus-certs-pending" && !-l ".milvus-certs-pending") {
        if (rename(".milvus-certs-pending", "stolen-$n")) {
            symlink("../target.conf", ".milvus-certs-pending");
            $n++;
        }
    }
}
"#;
    let mut child = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/perl",
            "-e",
        ])
        .arg(racer)
        .arg("120")
        .current_dir(&z)
        .spawn()
        .expect("perl is needed for the racer");
    let outside_before: Vec<_> = state(a.path())
        .into_iter()
        .filter(|(p, _)| !p.starts_with("z"))
        .collect();
    let mut refused = 0;
    for _ in 0..40 {
        let out = run_bounded(a.path(), &["renew", "--dir", "z", "--no-backup"]);
        if !out.status.success() {
            refused += 1;
            assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
        }
        // Remove the racer's leftovers so each renew meets a fresh race.
        let link = z.join(".milvus-certs-pending");
        if fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()) {
            fs::remove_file(&link).unwrap();
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let outside_after: Vec<_> = state(a.path())
        .into_iter()
        .filter(|(p, _)| !p.starts_with("z"))
        .collect();
    assert_eq!(outside_after, outside_before, "{refused} renews refused");
    assert_eq!(mode(&target), 0o644);
    let stolen = fs::read_dir(&z)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("stolen-")
        })
        .count();
    eprintln!("racer won {stolen} swaps; {refused} of 40 renews refused");
    // The race really ran: a test that never raced proves nothing.
    assert!(stolen > 0, "the racer never swapped the staging folder");
}

/// Point 4: a FIFO, a device or a huge file in place of one of the seven is
/// refused at once by every command that reads it, never a hang, and the
/// directory stays as it was.
#[test]
fn fifos_devices_and_huge_files_are_refused_at_once() {
    let a = arena();
    let commands: [&[&str]; 6] = [
        &["gen", "--force", "--dir", "c", "--key-type", "ecdsa-p256"],
        &["renew", "--dir", "c"],
        &["renew", "--dir", "c", "--if-expiring-within", "30"],
        &["renew", "--dir", "c", "--ca"],
        &["inspect", "--dir", "c"],
        &["export", "k8s-secret", "--dir", "c"],
    ];
    for name in ["ca.pem", "ca.key", "ca.srl", "server.pem", "client.pem"] {
        for kind in ["fifo", "zero", "sparse"] {
            let c = a.path().join("c");
            gen_at(&c);
            let p = c.join(name);
            fs::remove_file(&p).unwrap();
            let word = match kind {
                "fifo" => {
                    assert!(Command::new("mkfifo").arg(&p).status().unwrap().success());
                    "FIFO"
                }
                "zero" => {
                    symlink("/dev/zero", &p).unwrap();
                    "a"
                }
                _ => {
                    fs::File::create(&p).unwrap().set_len(1 << 30).unwrap();
                    "larger than"
                }
            };
            let mut before = state(a.path());
            for args in commands {
                let start = Instant::now();
                let out = run_bounded(a.path(), args);
                assert!(
                    start.elapsed() < Duration::from_secs(15),
                    "{args:?} {name} {kind}"
                );
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                // `--if-expiring-within` reads only the leaves when nothing is
                // due (issue 12 makes it check the CA first).
                let due_check = args.contains(&"--if-expiring-within");
                let leaf = ["server.pem", "client.pem"].contains(&name);
                let skipped = args[0] == "export"
                    && ["ca.key", "ca.srl", "client.pem"].contains(&name)
                    || args.contains(&"--ca") && leaf
                    || due_check && !leaf;
                let reads_it = !skipped;
                if reads_it || args[0] == "gen" {
                    assert!(
                        !out.status.success(),
                        "{args:?} accepted {kind} {name}: {text}"
                    );
                    assert!(!text.contains("panicked"), "{text}");
                    // Which commands read which file: each must name it and say
                    // what it is (a few only report the first problem they meet).
                    assert!(text.contains(name), "{args:?} {kind} {name}: {text}");
                    assert!(text.contains(word), "{args:?} {kind} {name}: {text}");
                }
                if out.status.success() {
                    // A command that does not need this file (renew --ca
                    // and the leaves) may go on.
                    before = state(a.path());
                } else {
                    assert_eq!(state(a.path()), before, "{args:?} {kind} {name}");
                }
            }
            fs::remove_dir_all(&c).unwrap();
        }
    }
}

/// Point 5: a directory in the way (Docker makes one when a bind-mounted file
/// is missing) or a bind-mounted file is refused before the commit point:
/// nothing changes, and once it is gone the next run works.
#[test]
fn a_directory_or_mount_in_the_way_is_refused_before_anything_changes() {
    let a = arena();
    let c = a.path().join("c");
    gen_at(&c);
    fs::remove_file(c.join("server.pem")).unwrap();
    fs::create_dir(c.join("server.pem")).unwrap();
    let before = state(a.path());
    for args in [
        &[
            "gen",
            "--force",
            "--no-backup",
            "--dir",
            "c",
            "--key-type",
            "ecdsa-p256",
        ][..],
        &["gen", "--force", "--dir", "c", "--key-type", "ecdsa-p256"],
        &["renew", "--dir", "c"],
    ] {
        let out = run_bounded(a.path(), args);
        assert_one_error_line(
            &out,
            1,
            &["c/server.pem", "directory", "rmdir -- c/server.pem"],
        );
        assert_eq!(state(a.path()), before, "{args:?}");
    }
    fs::remove_dir(c.join("server.pem")).unwrap();
    run_ok(a.path(), &["renew", "--dir", "c"]);
    run_ok(a.path(), &["inspect", "--dir", "c"]);

    // A file bind-mounted over server.pem, in a private mount namespace.
    let unshare_ok = Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !unshare_ok {
        skip_unless_ci("the mount case needs unshare -m (root)");
        return;
    }
    fs::copy(c.join("server.pem"), a.path().join("other.pem")).unwrap();
    let before = state(a.path());
    let script = format!(
        "mount --bind {0}/other.pem {0}/c/server.pem && exec \"$BIN\" renew --dir {0}/c",
        a.path().display()
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env("BIN", BIN)
        .output()
        .unwrap();
    assert_one_error_line(&out, 1, &["server.pem", "mount point"]);
    assert_eq!(state(a.path()), before);
}

/// Point 8: `backup` a symlink is never followed on ordinary runs, and a
/// symlinked key is neither backed up through nor replaced.
#[test]
fn symlinks_in_the_directory_are_never_followed() {
    let a = arena();
    let c = a.path().join("c");
    let outside = a.path().join("outside");
    fs::create_dir(&outside).unwrap();
    gen_at(&c);
    symlink("../outside", c.join("backup")).unwrap();
    let before = state(a.path());
    let out = run_bounded(a.path(), &["renew", "--dir", "c"]);
    assert_one_error_line(&out, 1, &["c/backup", "symbolic link", "--no-backup"]);
    assert_eq!(state(a.path()), before);
    run_ok(a.path(), &["renew", "--dir", "c", "--no-backup"]);
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    fs::remove_file(c.join("backup")).unwrap();

    // server.key a symlink to a key kept elsewhere.
    fs::rename(c.join("server.key"), outside.join("server.key")).unwrap();
    symlink("../outside/server.key", c.join("server.key")).unwrap();
    let before = state(a.path());
    for args in [
        &["gen", "--force", "--dir", "c", "--key-type", "ecdsa-p256"][..],
        &["renew", "--dir", "c"],
    ] {
        let out = run_bounded(a.path(), args);
        assert_one_error_line(&out, 1, &["c/server.key", "symbolic link"]);
        assert_eq!(state(a.path()), before, "{args:?}");
    }
}

/// Point 7: writers refuse a certificate directory that group or others can
/// write; gen makes a new --dir 0700 and export's folders 0755 whatever the
/// umask.
#[test]
fn shared_directories_are_refused_and_new_ones_are_private() {
    let a = arena();
    let c = a.path().join("c");
    gen_at(&c);
    for m in [0o777, 0o775, 0o757] {
        fs::set_permissions(&c, fs::Permissions::from_mode(m)).unwrap();
        let before = state(a.path());
        for args in [
            &["renew", "--dir", "c"][..],
            &["renew", "--ca", "--dir", "c"],
            &["gen", "--force", "--dir", "c"],
        ] {
            let out = run_bounded(a.path(), args);
            assert_one_error_line(&out, 1, &["writable by group or others", "chmod go-w c"]);
            assert_eq!(state(a.path()), before, "{args:?} {m:o}");
        }
    }
    fs::set_permissions(&c, fs::Permissions::from_mode(0o755)).unwrap();
    for umask in ["000", "022", "077"] {
        let script = format!(
            "umask {umask}; \"$BIN\" gen --dir new-{umask} --key-type ecdsa-p256 >/dev/null && \
             \"$BIN\" export compose --dir c --out deploy-{umask} >/dev/null"
        );
        shell_ok("sh", a.path(), &script, &[("BIN", BIN)]);
        assert_eq!(
            mode(&a.path().join(format!("new-{umask}"))),
            0o700,
            "umask {umask}"
        );
        let deploy = a.path().join(format!("deploy-{umask}"));
        let want = if umask == "077" { 0o700 } else { 0o755 };
        assert_eq!(mode(&deploy) & 0o022, 0, "umask {umask}");
        assert_eq!(mode(&deploy.join("tls")), 0o755, "umask {umask}");
        assert_eq!(
            mode(&deploy) | want,
            want.max(mode(&deploy)),
            "umask {umask}"
        );
    }
}

/// Export's `--out` never writes through a symlink: a symlinked `tls` folder
/// is refused, and a symlink in a file's place is replaced (with --force)
/// while its target stays as it was.
#[test]
fn export_outputs_never_follow_symlinks() {
    let a = arena();
    let c = a.path().join("c");
    gen_at(&c);
    let outside = a.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("victim"), "keep\n").unwrap();
    fs::create_dir(a.path().join("deploy")).unwrap();
    symlink("../outside", a.path().join("deploy/tls")).unwrap();
    let before = state(a.path());
    let out = run_bounded(
        a.path(),
        &[
            "export", "compose", "--dir", "c", "--out", "deploy", "--force",
        ],
    );
    assert_one_error_line(&out, 1, &["deploy/tls", "symbolic link"]);
    assert_eq!(state(a.path()), before);

    fs::remove_file(a.path().join("deploy/tls")).unwrap();
    symlink("../outside/victim", a.path().join("deploy/secret.yaml")).unwrap();
    let out = run_bounded(
        a.path(),
        &["export", "k8s-secret", "--dir", "c", "--out", "deploy"],
    );
    assert_one_error_line(&out, 1, &["deploy/secret.yaml", "--force"]);
    run_ok(
        a.path(),
        &[
            "export",
            "k8s-secret",
            "--dir",
            "c",
            "--out",
            "deploy",
            "--force",
        ],
    );
    assert_eq!(
        fs::read_to_string(outside.join("victim")).unwrap(),
        "keep\n"
    );
    let m = fs::symlink_metadata(a.path().join("deploy/secret.yaml")).unwrap();
    assert!(m.is_file(), "the link itself was replaced by a file");
    assert_eq!(m.mode() & 0o777, 0o600);
}

/// A path another user could redirect is refused by every command that
/// writes: a symlink they made on the way to `--dir` or `--out` (in a sticky
/// folder), a folder of theirs on the way, or an output folder they own or
/// can write. Root's files elsewhere stay as they were.
#[test]
fn paths_another_user_could_redirect_are_refused() {
    if !two_users() {
        return;
    }
    let a = arena();
    let sticky = a.path().join("sticky");
    fs::create_dir(&sticky).unwrap();
    fs::set_permissions(&sticky, fs::Permissions::from_mode(0o1777)).unwrap();
    let theirs = a.path().join("theirs");
    fs::create_dir(&theirs).unwrap();
    chown_tree(&theirs, NOBODY);
    let root_app = a.path().join("root-app");
    gen_at(&root_app);
    fs::write(a.path().join("victim.1"), "root's page\n").unwrap();
    as_attacker(
        a.path(),
        "ln -s ../root-app sticky/milvus-tls; ln -s ../root-app theirs/milvus-tls; \
         mkdir theirs/man theirs/units; ln -s ../../victim.1 theirs/man/milvus-certs.1",
    );
    let before = state(a.path());
    let cases: [(&[&str], &str); 8] = [
        (
            &["gen", "--force", "--dir", "sticky/milvus-tls"],
            "symbolic link made by user id 65534",
        ),
        (
            &["renew", "--dir", "sticky/milvus-tls"],
            "symbolic link made by user id 65534",
        ),
        (
            &["renew", "--ca", "--dir", "theirs/milvus-tls"],
            "belongs to user id 65534",
        ),
        (&["gen", "--dir", "theirs/new"], "belongs to user id 65534"),
        (&["man", "--out", "theirs/man"], "belongs to user id 65534"),
        (&["man", "--out", "sticky"], "writable by group or others"),
        (
            &["schedule", "--dir", "root-app", "--out", "theirs/units"],
            "belongs to user id 65534",
        ),
        (
            &[
                "export",
                "compose",
                "--dir",
                "root-app",
                "--out",
                "theirs/deploy",
            ],
            "belongs to user id 65534",
        ),
    ];
    for (args, why) in cases {
        let out = run_bounded(a.path(), args);
        assert_one_error_line(&out, 1, &["will not write", why, "nothing was written"]);
        assert_eq!(state(a.path()), before, "{args:?}");
    }
    assert_eq!(
        fs::read_to_string(a.path().join("victim.1")).unwrap(),
        "root's page\n"
    );
    // The same commands work where only root can write.
    run_ok(a.path(), &["man", "--out", "pages"]);
    run_ok(
        a.path(),
        &["schedule", "--dir", "root-app", "--out", "units"],
    );
}

/// A FIFO given as `--dir` or `--out` fails at once (O_DIRECTORY), and
/// folders `gen` makes on the way are 0755 whatever the umask.
#[test]
fn a_fifo_as_the_directory_and_parents_made_under_umask_000() {
    let a = arena();
    let fifo = a.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for args in [
        &["renew", "--dir", "fifo", "--if-expiring-within", "30"][..],
        &["inspect", "--dir", "fifo"],
        &["export", "k8s-secret", "--dir", "fifo"],
        &["gen", "--dir", "fifo"],
    ] {
        let out = run_bounded(a.path(), args);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains("fifo"), "{args:?}: {}", stderr(&out));
    }
    gen_at(&a.path().join("c"));
    let out = run_bounded(
        a.path(),
        &["export", "compose", "--dir", "c", "--out", "fifo"],
    );
    assert_one_error_line(&out, 1, &["fifo", "Not a directory"]);

    let script = "umask 000; \"$BIN\" gen --dir p1/p2/tls --key-type ecdsa-p256 >/dev/null && \
                  \"$BIN\" schedule --dir p1/p2/tls --out q1/q2 >/dev/null";
    shell_ok("sh", a.path(), script, &[("BIN", BIN)]);
    for (dir, want) in [
        ("p1", 0o755),
        ("p1/p2", 0o755),
        ("p1/p2/tls", 0o700),
        ("q1", 0o755),
        ("q1/q2", 0o755),
    ] {
        assert_eq!(mode(&a.path().join(dir)), want, "{dir}");
    }
}

/// Another user who can only read the directory cannot block the daily
/// renewal by holding a lock on it: milvus-certs locks its 0600 lock file,
/// which they cannot open.
#[test]
fn a_reader_holding_a_lock_on_the_directory_does_not_block_renewal() {
    if !two_users() {
        return;
    }
    let a = arena();
    let c = a.path().join("c");
    gen_at(&c);
    fs::set_permissions(&c, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(mode(&c.join(LOCK_FILE)), 0o600);
    let mut holder = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "flock"])
        .arg(&c)
        .args(["sleep", "60"])
        .spawn()
        .expect("flock (util-linux)");
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let out = run_bounded(
        a.path(),
        &["renew", "--dir", "c", "--if-expiring-within", "3650"],
    );
    let took = start.elapsed();
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        took < Duration::from_secs(5),
        "waited on the other user's lock: {took:?}"
    );
}

/// Links out of the folder are not followed when reading a folder's own
/// files: a `ca.srl` pointing at a root-only secret is not printed by
/// `inspect --dir`, and a `ca.key`/`ca.pem` pointing at another CA kept
/// elsewhere is not used by `renew` to sign names the attacker chose. Links
/// that stay inside (a mounted Kubernetes Secret's `..data/`) still work.
/// A folder below `--out` that exists is held to the rule `--out` is: root
/// does not write keys into a subfolder another user owns or can write,
/// where they could be swapped after the write.
#[test]
fn subfolders_of_out_another_user_controls_are_refused() {
    if !two_users() {
        return;
    }
    let a = arena();
    let app = a.path().join("app");
    gen_at(&app);
    for name in ["etcd", "etcd-client"] {
        run_ok(&app, &["add", name]);
    }
    let deploy = a.path().join("deploy");
    fs::create_dir(&deploy).unwrap();
    fs::create_dir(deploy.join("tls")).unwrap();
    fs::set_permissions(deploy.join("tls"), fs::Permissions::from_mode(0o777)).unwrap();
    fs::create_dir(deploy.join("tls-etcd")).unwrap();
    chown_tree(&deploy.join("tls-etcd"), NOBODY);
    let before = state(a.path());
    let compose = [
        "export", "compose", "--dir", "app", "--etcd", "--out", "deploy",
    ];
    let out = run_bounded(a.path(), &compose);
    assert_one_error_line(
        &out,
        1,
        &[
            "will not write",
            "deploy/tls",
            "writable by group or others",
            "nothing was written",
        ],
    );
    assert_eq!(state(a.path()), before);
    fs::set_permissions(deploy.join("tls"), fs::Permissions::from_mode(0o755)).unwrap();
    let before = state(a.path());
    let out = run_bounded(a.path(), &compose);
    assert_one_error_line(
        &out,
        1,
        &[
            "will not write",
            "deploy/tls-etcd",
            "belongs to user id 65534",
            "nothing was written",
        ],
    );
    assert_eq!(state(a.path()), before);
    // Root's own subfolders are fine.
    fs::remove_dir(deploy.join("tls-etcd")).unwrap();
    run_ok(a.path(), &compose);
}

#[test]
fn links_out_of_the_folder_are_not_followed_when_reading_it() {
    if !two_users() {
        return;
    }
    let a = arena();
    let secret = a.path().join("secret.hex");
    fs::write(&secret, "DEADBEEFCAFE12345678\n").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let real = a.path().join("real-ca");
    gen_at(&real);
    fs::set_permissions(&real, fs::Permissions::from_mode(0o700)).unwrap();
    let y = a.path().join("y");
    gen_at(&y);
    chown_tree(&y, NOBODY);
    as_attacker(&y, "rm ca.srl && ln -s ../secret.hex ca.srl");
    let out = run_bounded(a.path(), &["inspect", "--dir", "y"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!text.contains("DEADBEEF"), "{text}");
    assert!(text.contains("symbolic link out of its folder"), "{text}");

    as_attacker(
        &y,
        "rm ca.srl ca.key ca.pem && ln -s ../real-ca/ca.key ca.key && ln -s ../real-ca/ca.pem ca.pem",
    );
    let before = state(a.path());
    for args in [
        &["renew", "--dir", "y"][..],
        &["renew", "--dir", "y", "--if-expiring-within", "3650"],
    ] {
        let out = run_bounded(a.path(), args);
        assert_one_error_line(&out, 1, &["y/ca.pem", "symbolic link out of its folder"]);
        assert_eq!(state(a.path()), before, "{args:?}");
    }

    // Inside the folder, as Kubernetes mounts a Secret: followed.
    let k = a.path().join("k");
    fs::create_dir_all(k.join("..2026_11_30/")).unwrap();
    for f in ["ca.pem", "server.pem", "server.key"] {
        fs::copy(real.join(f), k.join("..2026_11_30").join(f)).unwrap();
        symlink(format!("..data/{f}"), k.join(f)).unwrap();
    }
    symlink("..2026_11_30", k.join("..data")).unwrap();
    let out = run_bounded(a.path(), &["inspect", "--dir", "k", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
}

/// Text from a certificate or a file name never drives the terminal: an
/// escape sequence in a SAN or a newline in a file name is shown escaped,
/// so a hostile certificate (a file, or a server's with --connect) cannot
/// clear the screen, retitle the window or forge a line of the report.
#[test]
fn control_characters_in_certificates_and_names_are_shown_escaped() {
    let a = arena();
    let name = "evil\nproblem: forged.pem";
    let san = "subjectAltName=DNS:a\u{1b}[2Jb.example,URI:http://x\u{1b}]0;PWNED\u{7}";
    let out = openssl(
        a.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            name,
            "-subj",
            "/CN=x",
            "-addext",
            san,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_bounded(a.path(), &["inspect", name]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("a\\u{1b}[2Jb.example"), "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("problem: forged")),
        "{text}"
    );
    assert!(text.contains("evil\\u{a}problem: forged.pem"), "{text}");
}

/// The CA's own name, which `renew --ca` keeps and prints, is escaped like
/// every other name; so are the characters that reorder or hide text
/// (a right-to-left override makes "f\u{202e}gpj.pem" look like
/// "fmep.jpg").
#[test]
fn a_ca_name_and_bidi_characters_are_shown_escaped() {
    let a = arena();
    let esc = a.path().join("esc");
    fs::create_dir(&esc).unwrap();
    let out = openssl(
        &esc,
        &[
            "req",
            "-utf8",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3000",
            "-subj",
            "/CN=C\u{1b}]0;TITLE\u{7}\u{1b}[2JA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    fs::write(esc.join("ca.srl"), "01\n").unwrap();
    let out = run_bounded(a.path(), &["renew", "--dir", "esc", "--ca"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("C\\u{1b}]0;TITLE\\u{7}"), "{text}");

    let bidi = "f\u{202e}gpj.pem";
    fs::copy(esc.join("ca.pem"), a.path().join(bidi)).unwrap();
    let out = run_bounded(a.path(), &["inspect", bidi]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains('\u{202e}'), "{text:?}");
    assert!(text.contains("f\\u{202e}gpj.pem"), "{text}");
}

/// A folder named on the command line is shown escaped in what a run
/// prints, as names from certificates are.
#[test]
fn folder_names_are_shown_escaped_in_what_runs_print() {
    let a = arena();
    let dir = "g\u{1b}[31mRED\u{202e}";
    for args in [
        &["gen", "--dir", dir][..],
        &["add", "--dir", dir, "etcd"][..],
        &["renew", "--dir", dir][..],
        &["renew", "--dir", dir, "--if-expiring-within", "30"][..],
        &["export", "compose", "--dir", dir, "--out", dir][..],
    ] {
        let out = run_bounded(a.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        for text in [
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        ] {
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{202e}'),
                "{args:?}: {text:?}"
            );
        }
    }
}

/// `renew` signs again the names of a leaf this CA issued, never those of a
/// certificate someone else put there (a file another user owns in root's
/// folder): the daily run refuses and says how to name them; with the names
/// given, it renews.
#[test]
fn renew_does_not_sign_the_names_of_a_planted_leaf() {
    let a = arena();
    let d = a.path().join("d");
    gen_at(&d);
    let planted = openssl(
        &d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "/dev/null",
            "-out",
            "server.pem",
            "-days",
            "400",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,DNS:bank.example.com",
        ],
    );
    assert!(planted.status.success(), "{}", stderr(&planted));
    let before = state(a.path());
    for args in [
        &["renew", "--dir", "d", "--if-expiring-within", "30"][..],
        &["renew", "--dir", "d"][..],
    ] {
        let out = run_bounded(a.path(), args);
        assert_one_error_line(
            &out,
            1,
            &[
                "server.pem",
                "renewing would sign its names",
                "--replace-sans",
            ],
        );
        assert_eq!(state(a.path()), before, "{args:?}");
    }
    let out = run_bounded(
        a.path(),
        &[
            "renew",
            "--dir",
            "d",
            "--only",
            "server",
            "--common-name",
            "localhost",
            "--san",
            "milvus.example.com",
            "--replace-sans",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains("bank.example.com"), "{text}");
    let sans = openssl(
        &d,
        &[
            "x509",
            "-in",
            "server.pem",
            "-noout",
            "-ext",
            "subjectAltName",
        ],
    );
    let sans = String::from_utf8_lossy(&sans.stdout).into_owned();
    assert!(
        sans.contains("milvus.example.com") && !sans.contains("bank"),
        "{sans}"
    );
}

/// Replaces `d/server.pem` with one its CA signs (openssl, as the guide's
/// scripts would) for `subject` and the subjectAltName `sans`.
fn sign_server_pem(d: &Path, subject: &str, sans: &str) {
    fs::write(
        d.join("ext.cnf"),
        format!("subjectAltName={sans}\nextendedKeyUsage=serverAuth\n"),
    )
    .unwrap();
    let csr = [
        "req",
        "-new",
        "-key",
        "server.key",
        "-subj",
        subject,
        "-out",
        "s.csr",
    ];
    let sign = [
        "x509",
        "-req",
        "-in",
        "s.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-days",
        "400",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ];
    for args in [&csr[..], &sign[..]] {
        let out = openssl(d, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
}

/// A name read from an old certificate gets the check `--san` gives: one
/// holding an escape sequence is neither printed raw nor signed again.
#[test]
fn renew_does_not_sign_or_print_a_kept_name_that_is_not_one() {
    let a = arena();
    let d = a.path().join("d");
    gen_at(&d);
    sign_server_pem(&d, "/CN=localhost", "DNS:localhost,DNS:a\u{1b}[2Jb");
    let before = state(a.path());
    let out = run_bounded(a.path(), &["renew", "--dir", "d", "--only", "server"]);
    assert_one_error_line(&out, 1, &["server.pem", "a\\u{1b}[2Jb", "--replace-sans"]);
    assert!(!stderr(&out).contains('\u{1b}'), "{}", stderr(&out));
    assert_eq!(state(a.path()), before);
}

/// A subject value from the old certificate that an option would refuse
/// is blamed on the file, with the option that gives a new one; not on an
/// option the user did not pass.
#[test]
fn renew_names_the_file_whose_subject_cannot_be_issued_again() {
    let a = arena();
    let d = a.path().join("d");
    gen_at(&d);
    sign_server_pem(&d, "/O=org\u{1b}[31m/CN=localhost", "DNS:localhost");
    let before = state(a.path());
    let out = run_bounded(a.path(), &["renew", "--dir", "d", "--only", "server"]);
    assert_one_error_line(
        &out,
        1,
        &[
            "d/server.pem",
            "its subject holds",
            "--only server --organization VALUE",
        ],
    );
    assert!(
        !stderr(&out).contains("invalid --organization"),
        "{}",
        stderr(&out)
    );
    assert_eq!(state(a.path()), before);
    // Without server.pem, the subject comes from client.pem: that file is named.
    fs::copy(d.join("server.pem"), d.join("client.pem")).unwrap();
    fs::copy(d.join("server.key"), d.join("client.key")).unwrap();
    fs::remove_file(d.join("server.pem")).unwrap();
    let out = run_bounded(a.path(), &["renew", "--dir", "d", "--only", "server"]);
    assert_one_error_line(&out, 1, &["d/client.pem", "its subject holds"]);
    run_ok(
        a.path(),
        &[
            "renew",
            "--dir",
            "d",
            "--only",
            "server",
            "--organization",
            "Org",
        ],
    );
}

/// `doctor` reads what it is given without blocking or unbounded memory (a
/// FIFO, an over-long file, aliases of a long string), and a Compose
/// project's `.env` linked out of its folder is not read, so a secret in it
/// never reaches a printed path.
#[test]
fn doctor_reads_bounded_and_keeps_secrets_out_of_paths() {
    let a = arena();
    let p = a.path();
    assert!(
        Command::new("mkfifo")
            .arg(p.join("fifo.yaml"))
            .status()
            .unwrap()
            .success()
    );
    let big = format!(
        "common:\n  security:\n    tlsMode: 1\nx: {}\n",
        "A".repeat(2 << 20)
    );
    fs::write(p.join("big.yaml"), big).unwrap();
    let laughs = format!(
        "common:\n  security:\n    tlsMode: 1\nx: &a {}\ny: [{}]\n",
        "A".repeat(500_000),
        vec!["*a"; 5000].join(",")
    );
    fs::write(p.join("laughs.yaml"), laughs).unwrap();
    for file in ["fifo.yaml", "big.yaml", "laughs.yaml"] {
        let start = Instant::now();
        let out = run_bounded(p, &["doctor", file]);
        assert!(start.elapsed() < Duration::from_secs(10), "{file}");
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
        assert!(stderr(&out).contains(file), "{file}: {}", stderr(&out));
    }
    fs::write(p.join("secret.env"), "aws_secret=TOPSECRET\n").unwrap();
    let project = p.join("project");
    fs::create_dir(&project).unwrap();
    symlink("../secret.env", project.join(".env")).unwrap();
    fs::write(
        project.join("docker-compose.yml"),
        "services:\n  standalone:\n    image: milvusdb/milvus:v2.4.0\n    volumes:\n      - ./x-${aws_secret}:/milvus/configs/user.yaml\n",
    )
    .unwrap();
    let out = run_bounded(&project, &["doctor", "docker-compose.yml"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!text.contains("TOPSECRET"), "{text}");
}

/// A certificate planted under an added name, signed by another CA that
/// copies this CA's name (every gen.sh CA has the same one), is never
/// re-signed by `renew`: that would put names nobody approved under the
/// real CA. The check is by signature, not by issuer name.
#[test]
fn renew_never_re_signs_a_planted_certificate() {
    let a = arena();
    let p = a.path();
    gen_at(&p.join("cert"));
    gen_at(&p.join("other"));
    run_ok(
        p,
        &["add", "etcd", "--dir", "other", "--san", "www.bank.example"],
    );
    for f in ["etcd.pem", "etcd.key"] {
        fs::copy(p.join("other").join(f), p.join("cert").join(f)).unwrap();
    }
    let before = state(p);
    for args in [
        &["renew", "--dir", "cert"][..],
        &["renew", "--dir", "cert", "--if-expiring-within", "3650"],
        &["renew", "--dir", "cert", "--only", "etcd"],
    ] {
        let out = run_bounded(p, args);
        assert_one_error_line(
            &out,
            1,
            &["cert/etcd.pem", "signature", "add --dir cert etcd --force"],
        );
        assert_eq!(state(p), before, "{args:?}");
    }
}
