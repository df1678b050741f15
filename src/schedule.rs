//! Renewing on a schedule (certbot's model): decide what is due, run the
//! user's reload hook after a renewal, and write the systemd timer and the
//! crontab line that run `renew --if-expiring-within` every day.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::inspect::{self, InspectOptions, Status};
use crate::leaf::Target;

/// A leaf that must be renewed now, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    /// Server, client, or a certificate `add` made.
    pub target: Target,
    /// Why, as a short sentence.
    pub reason: String,
}

/// A leaf that is not due yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotDue {
    /// Server, client, or a certificate `add` made.
    pub target: Target,
    /// Its notAfter.
    pub not_after: OffsetDateTime,
    /// When it becomes due: `within` days before notAfter.
    pub due_on: OffsetDateTime,
}

/// What `renew --if-expiring-within` found.
#[derive(Clone, Debug, Default)]
pub struct DueReport {
    /// Leaves to renew now.
    pub due: Vec<Due>,
    /// Leaves that are fine for now, soonest due first.
    pub not_due: Vec<NotDue>,
}

/// Which of `candidates` are due at `now`: those expiring within `within`
/// days, and (the same checks as `inspect`) any that is expired, not yet
/// valid, missing, mismatched with its key, not issued by `ca.pem`, or
/// lacking its purpose. With `read_only`, an interrupted write is left alone.
pub fn due(
    dir: &Path,
    within: u32,
    candidates: &[Target],
    now: OffsetDateTime,
    read_only: bool,
) -> Result<DueReport> {
    if within > crate::validity::MAX_DAYS {
        return Err(Error::invalid(
            "--if-expiring-within",
            &within.to_string(),
            format!("must be at most {} days", crate::validity::MAX_DAYS),
        ));
    }
    let opts = InspectOptions {
        dir: Some(dir.to_path_buf()),
        warn_days: within,
        read_only,
        ..InspectOptions::default()
    };
    let report = inspect::inspect(&opts, now)?;
    let mut out = DueReport::default();
    for target in candidates {
        let file = target.cert_file();
        // The file's first certificate is the leaf (a server.pem may carry
        // its chain after it).
        let Some(e) = report.entries.iter().find(|e| {
            e.role.is_some_and(|r| r.is(target))
                && e.file.as_deref().and_then(Path::file_name) == Some(file.as_ref())
        }) else {
            // Never silently skipped: what cannot be judged is renewed.
            out.due.push(Due {
                target: target.clone(),
                reason: format!("{file} could not be inspected"),
            });
            continue;
        };
        let role = target.clone();
        match (e.status, &e.cert) {
            (Status::Ok, Some(c)) => out.not_due.push(NotDue {
                target: role,
                not_after: c.not_after,
                due_on: c.not_after - time::Duration::days(i64::from(within)),
            }),
            (Status::Expiring, _) => out.due.push(Due {
                target: role,
                reason: format!(
                    "it expires in {} days, within {within}",
                    e.days_left.unwrap_or(0)
                ),
            }),
            _ => out.due.push(Due {
                target: role,
                reason: e
                    .problems()
                    .next()
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| e.status.name().into()),
            }),
        }
    }
    out.not_due.sort_by_key(|n| n.due_on);
    Ok(out)
}

/// What the `--then` hook did.
#[derive(Clone, Debug)]
pub struct HookOutcome {
    /// The command as given.
    pub command: String,
    /// Its exit code (None when killed by a signal).
    pub code: Option<i32>,
    /// What it wrote to standard output.
    pub stdout: Vec<u8>,
    /// What it wrote to standard error.
    pub stderr: Vec<u8>,
}

impl HookOutcome {
    /// Whether it exited 0.
    pub fn succeeded(&self) -> bool {
        self.code == Some(0)
    }
}

/// How long the hook's output is still read after `sh` exited: what its
/// last commands wrote is in the pipe by then; a background child it
/// started may hold the pipe open for hours, and is not waited for.
const OUTPUT_GRACE: Duration = Duration::from_millis(100);

/// What a reader thread has read from one of the hook's pipes so far;
/// `None` once it was taken: what comes later is read and dropped, so a
/// chatty background child neither blocks on a full pipe nor fills memory.
type Captured = Arc<Mutex<Option<Vec<u8>>>>;

/// Reads `pipe` on a thread into the returned buffer, until end of file.
fn capture(mut pipe: impl Read + Send + 'static) -> std::io::Result<(Captured, JoinHandle<()>)> {
    let buf: Captured = Arc::new(Mutex::new(Some(Vec::new())));
    let sink = Arc::clone(&buf);
    let reader = std::thread::Builder::new()
        .name("hook-output".into())
        .spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        if let Ok(mut b) = sink.lock()
                            && let Some(b) = b.as_mut()
                        {
                            b.extend_from_slice(&chunk[..n]);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        })?;
    Ok((buf, reader))
}

/// Runs `command` through `sh -c`, with `MILVUS_CERTS_DIR` (absolute) and
/// `MILVUS_CERTS_RENEWED` (e.g. `server client`) in its environment.
///
/// Returns once `sh` has exited, with what the hook wrote until then (and
/// within 100 ms after): a background child it started
/// (`restart-later &`) inherits the output pipes, and waiting for their end
/// would block the renewal for as long as that child runs.
pub fn run_hook(command: &str, dir: &Path, renewed: &[&str]) -> Result<HookOutcome> {
    let dir = crate::shell::absolute(dir);
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("MILVUS_CERTS_DIR", &dir)
        .env("MILVUS_CERTS_RENEWED", renewed.join(" "))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Error::io("run the --then hook with", "/bin/sh"))?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let readers = match (stdout.map(capture), stderr.map(capture)) {
        (Some(Ok(out)), Some(Ok(err))) => [out, err],
        (out, err) => {
            // No thread to read with (or no pipe): do not leave the hook
            // blocked on a full pipe nobody reads.
            let _ = child.kill();
            let _ = child.wait();
            let e = [out, err]
                .into_iter()
                .find_map(|r| r.and_then(Result::err))
                .unwrap_or_else(|| std::io::ErrorKind::BrokenPipe.into());
            return Err(Error::io(
                "read the output of the --then hook run by",
                "/bin/sh",
            )(e));
        }
    };
    let status = child
        .wait()
        .map_err(Error::io("wait for the --then hook run by", "/bin/sh"))?;
    // The readers still running after the grace period are left to end on
    // their own (at the pipe's end, or with this process), dropping what
    // they read from now on.
    let grace_end = Instant::now() + OUTPUT_GRACE;
    while readers.iter().any(|(_, r)| !r.is_finished()) && Instant::now() < grace_end {
        std::thread::sleep(Duration::from_millis(5));
    }
    let [stdout, stderr] = readers.map(|(buf, _)| {
        buf.lock()
            .ok()
            .and_then(|mut b| b.take())
            .unwrap_or_default()
    });
    Ok(HookOutcome {
        command: command.to_string(),
        code: status.code(),
        stdout,
        stderr,
    })
}

/// What `schedule` writes.
#[derive(Clone, Debug)]
pub struct ScheduleOptions {
    /// The milvus-certs binary (absolute).
    pub bin: PathBuf,
    /// The certificate directory (absolute).
    pub dir: PathBuf,
    /// Renew when a leaf expires within this many days.
    pub within: u32,
    /// `--days` for renew, if given (else renew keeps each lifetime).
    pub days: Option<u32>,
    /// The reload command, if any.
    pub then: Option<String>,
    /// The base name of the units, e.g. `milvus-certs-renew`.
    pub name: String,
}

/// A systemd service + timer pair and the equivalent crontab line.
#[derive(Clone, Debug)]
pub struct Units {
    /// `<name>.service`.
    pub service: String,
    /// `<name>.timer`.
    pub timer: String,
    /// One crontab line (for `crontab -e` or `/etc/cron.d`, without the user field).
    pub crontab: String,
}

/// The `renew` command line the schedule runs, as words.
fn renew_words(o: &ScheduleOptions) -> Vec<String> {
    let mut words = vec![
        o.bin.display().to_string(),
        "renew".into(),
        "--dir".into(),
        o.dir.display().to_string(),
        "--if-expiring-within".into(),
        o.within.to_string(),
    ];
    if let Some(days) = o.days {
        words.push("--days".into());
        words.push(days.to_string());
    }
    if let Some(cmd) = &o.then {
        words.push("--then".into());
        words.push(cmd.clone());
    }
    words
}

/// A word for systemd's ExecStart (systemd.service "Command lines"): double
/// quotes with C-style escapes, and `%` doubled (specifiers, systemd.unit).
fn systemd_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=,+@".contains(c));
    let w = w.replace('%', "%%");
    if plain {
        return w;
    }
    let mut q = String::from("\"");
    for c in w.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '$' => q.push_str("$$"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// A word for a POSIX shell (cron runs its command with `sh`): single quotes,
/// and `%` escaped, which cron would otherwise turn into a newline (crontab(5)).
fn cron_word(w: &str) -> String {
    crate::shell::quote(w).replace('%', r"\%")
}

/// A control character named for an error message.
fn control_name(c: char) -> String {
    let name = match c {
        '\n' => "a newline",
        '\r' => "a carriage return",
        '\t' => "a tab",
        '\x1b' => "an escape character (ESC)",
        '\x7f' => "a delete character (DEL)",
        _ => "a control character",
    };
    format!("{name} (U+{:04X})", u32::from(c))
}

/// Refuses a value that cannot be written as is into the unit files and the
/// crontab line. Both are line-based: a newline in a value would end its
/// line and start a directive (`ExecStartPre=`) or a cron job of the
/// value's choosing, and the file runs as root. Other control characters
/// (carriage return, tab, ESC, DEL) are refused too: no path or command
/// needs them, and they hide what a file says when it is read.
fn writable(option: &'static str, value: &str, fix: &str) -> Result<()> {
    match value.chars().find(|&c| c < ' ' || c == '\x7f') {
        None => Ok(()),
        Some(c) => Err(Error::invalid(
            option,
            value,
            format!(
                "it holds {}, which `schedule` cannot write into a systemd unit or a crontab line \
                 (a newline would start a new directive or cron job); nothing was written: {fix}",
                control_name(c)
            ),
        )),
    }
}

/// A path for [`writable`]: also refused when it is not UTF-8, since the
/// unit would then name another path (its lossy spelling).
fn writable_path<'a>(option: &'static str, path: &'a Path, fix: &str) -> Result<&'a str> {
    let text = path.to_str().ok_or_else(|| {
        Error::invalid(
            option,
            &path.to_string_lossy(),
            format!(
                "it is not valid UTF-8, so the systemd unit and the crontab line cannot name it \
                 exactly; nothing was written: {fix}"
            ),
        )
    })?;
    writable(option, text, fix)?;
    Ok(text)
}

/// Checks every value [`units`] writes (see [`writable`]).
fn check_writable(o: &ScheduleOptions) -> Result<()> {
    writable_path(
        "binary path",
        &o.bin,
        "install milvus-certs at a path without control characters \
         (e.g. /usr/local/bin/milvus-certs) and run `schedule` from there",
    )?;
    writable_path(
        "--dir",
        &o.dir,
        "move the certificates to a directory whose path has no control characters \
         and pass it as --dir",
    )?;
    if let Some(then) = &o.then {
        writable(
            "--then",
            then,
            "put the commands (a multi-line hook too) in a script file and pass \
             --then /path/to/script",
        )?;
    }
    writable(
        "--name",
        &o.name,
        "use letters, digits, '-', '_', '.' or '@'",
    )
}

/// Renders the units. The crontab minute is spread by the directory's name
/// so that many hosts do not all renew at the same minute.
///
/// Fails, before anything is written, when a value would have to be written
/// with a control character in it (a newline would add a line of its own).
pub fn units(o: &ScheduleOptions) -> Result<Units> {
    check_writable(o)?;
    let words = renew_words(o);
    let exec: Vec<String> = words.iter().map(|w| systemd_word(w)).collect();
    let cron: Vec<String> = words.iter().map(|w| cron_word(w)).collect();
    let dir = o.dir.display().to_string();
    let service = format!(
        "[Unit]\n\
         Description=Renew the Milvus TLS certificates in {} when due\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         ExecStart={}\n",
        dir.replace('%', "%%"),
        exec.join(" ")
    );
    let timer = format!(
        "[Unit]\n\
         Description=Check the Milvus TLS certificates in {} daily\n\
         \n\
         [Timer]\n\
         OnCalendar=daily\n\
         RandomizedDelaySec=1h\n\
         Persistent=true\n\
         Unit={}.service\n\
         \n\
         [Install]\n\
         WantedBy=timers.target\n",
        dir.replace('%', "%%"),
        o.name
    );
    let minute = dir
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 60;
    let crontab = format!("{minute} 3 * * * {}\n", cron.join(" "));
    Ok(Units {
        service,
        timer,
        crontab,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_output_larger_than_a_pipe_and_its_status_are_kept() {
        let dir = std::env::temp_dir();
        let h = run_hook(
            "head -c 200000 /dev/zero; echo \"$MILVUS_CERTS_RENEWED\" >&2; exit 4",
            &dir,
            &["server", "client"],
        )
        .unwrap();
        assert_eq!(h.stdout.len(), 200_000);
        assert_eq!(h.stderr, b"server client\n");
        assert_eq!(h.code, Some(4));
        assert!(!h.succeeded());
    }

    fn options(dir: &str, then: &str) -> ScheduleOptions {
        ScheduleOptions {
            bin: "/usr/local/bin/milvus-certs".into(),
            dir: dir.into(),
            within: 30,
            days: None,
            then: Some(then.into()),
            name: "milvus-certs-renew".into(),
        }
    }

    #[test]
    fn control_characters_are_refused_in_every_written_value() {
        let ok = options("/etc/milvus/tls", "systemctl restart milvus");
        assert!(units(&ok).is_ok());
        for c in ['\n', '\r', '\t', '\x1b', '\x7f', '\0', '\x1f'] {
            let bad = format!("a{c}b");
            let refused = [
                ("--dir", options(&format!("/etc/{bad}"), "true")),
                ("--then", options("/etc/milvus/tls", &bad)),
                (
                    "binary path",
                    ScheduleOptions {
                        bin: format!("/usr/{bad}").into(),
                        ..ok.clone()
                    },
                ),
                (
                    "--name",
                    ScheduleOptions {
                        name: bad.clone(),
                        ..ok.clone()
                    },
                ),
            ];
            for (option, o) in refused {
                let message = units(&o).unwrap_err().to_string();
                assert!(
                    message.starts_with(&format!("invalid {option} ")),
                    "{message}"
                );
                assert!(
                    message.contains(&format!("U+{:04X}", u32::from(c))),
                    "{message}"
                );
                assert!(
                    !message.contains(c),
                    "shown escaped, on one line: {message}"
                );
            }
        }
        // Not control characters: kept (and quoted) as before.
        assert!(units(&options("/srv/tls ü %", "echo 'ü' \"$X\" ; x")).is_ok());
    }

    #[test]
    fn a_path_that_is_not_utf8_is_refused() {
        use std::os::unix::ffi::OsStrExt;
        let dir = std::ffi::OsStr::from_bytes(b"/srv/\xff");
        let o = ScheduleOptions {
            dir: dir.into(),
            ..options("/", "true")
        };
        let message = units(&o).unwrap_err().to_string();
        assert!(
            message.starts_with("invalid --dir ") && message.contains("UTF-8"),
            "{message}"
        );
    }

    #[test]
    fn systemd_quoting() {
        assert_eq!(systemd_word("/usr/bin/x"), "/usr/bin/x");
        assert_eq!(systemd_word("a b"), "\"a b\"");
        assert_eq!(systemd_word("say \"hi\" 100%"), "\"say \\\"hi\\\" 100%%\"");
        assert_eq!(systemd_word("$HOME"), "\"$$HOME\"");
    }

    #[test]
    fn cron_quoting() {
        assert_eq!(cron_word("/usr/bin/x"), "/usr/bin/x");
        assert_eq!(
            cron_word("docker compose restart"),
            "'docker compose restart'"
        );
        assert_eq!(cron_word("it's 100%"), r"'it'\''s 100\%'");
    }

    #[test]
    fn units_run_the_renew_command_with_absolute_paths() {
        let u = units(&ScheduleOptions {
            bin: "/usr/local/bin/milvus-certs".into(),
            dir: "/etc/milvus/tls".into(),
            within: 30,
            days: None,
            then: Some("systemctl restart milvus".into()),
            name: "milvus-certs-renew".into(),
        })
        .unwrap();
        assert!(u.service.contains(
            "ExecStart=/usr/local/bin/milvus-certs renew --dir /etc/milvus/tls --if-expiring-within 30 --then \"systemctl restart milvus\"\n"
        ));
        assert!(u.timer.contains("Persistent=true") && u.timer.contains("RandomizedDelaySec="));
        let fields: Vec<&str> = u.crontab.split_whitespace().collect();
        assert_eq!(&fields[1..5], ["3", "*", "*", "*"]);
        assert!(u.crontab.ends_with("--then 'systemctl restart milvus'\n"));
    }
}
