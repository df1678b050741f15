//! The `--then` hook: the user's command that makes Milvus load the new
//! files, run once after a renewal (certbot's `--deploy-hook`), and how its
//! failure is reported.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::RenewReport;
use crate::error::{Error, Result};

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
    pub(crate) fn succeeded(&self) -> bool {
        self.code == Some(0)
    }

    /// `Err` with what to tell the user when the hook did not exit 0.
    pub fn result(&self) -> std::result::Result<(), HookFailed> {
        if self.succeeded() {
            return Ok(());
        }
        Err(HookFailed {
            command: self.command.clone(),
            code: self.code,
        })
    }
}

/// A hook that did not exit 0. The renewal stands: the new files are in
/// place and valid (the hook's failure says nothing about them), so the
/// user fixes the hook and runs it by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookFailed {
    /// The command as given.
    pub command: String,
    /// Its exit code (None when killed by a signal).
    pub code: Option<i32>,
}

impl fmt::Display for HookFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.code.map_or("was killed by a signal".to_string(), |c| {
            format!("exited {c}")
        });
        write!(
            f,
            "the --then hook `{}` {status}; the new certificates are in place and valid \
             (they were not rolled back): fix the hook, then run it by hand",
            self.command
        )
    }
}

impl std::error::Error for HookFailed {}

/// Refuses a `--then` command that would do nothing (empty or blank)
/// before anything is renewed: the hook is what makes Milvus load the new
/// files, and a blank one would pass in silence.
pub fn check_hook(command: &str) -> Result<()> {
    if command.trim().is_empty() {
        return Err(Error::invalid(
            "--then",
            command,
            "is empty: give the command that makes Milvus load the new files, \
             e.g. --then 'systemctl restart milvus'",
        ));
    }
    Ok(())
}

/// Runs `command` after the renewal `report` describes, with its directory
/// and what it renewed in the environment (see `run_hook`).
pub fn run_after(command: &str, report: &RenewReport) -> Result<HookOutcome> {
    let renewed: Vec<&str> = report.renewed.iter().map(|r| r.new.label()).collect();
    run_hook(command, &report.dir, &renewed)
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
pub(super) fn run_hook(command: &str, dir: &Path, renewed: &[&str]) -> Result<HookOutcome> {
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

    #[test]
    fn a_failed_hook_says_how_it_ended() {
        let dir = std::env::temp_dir();
        let failed = run_hook("exit 3", &dir, &[]).unwrap().result().unwrap_err();
        assert_eq!(
            failed.to_string(),
            "the --then hook `exit 3` exited 3; the new certificates are in place and valid \
             (they were not rolled back): fix the hook, then run it by hand"
        );
        let killed = run_hook("kill -9 $$", &dir, &[])
            .unwrap()
            .result()
            .unwrap_err();
        assert!(
            killed
                .to_string()
                .contains("`kill -9 $$` was killed by a signal;")
        );
        assert!(run_hook("true", &dir, &[]).unwrap().result().is_ok());
    }
}
