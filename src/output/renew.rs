//! What `renew` prints: the renewal, a dry run, "nothing due", the hook.

use std::io::{self, Write};
use std::path::Path;

use milvus_certs::renew::{DueReport, HookOutcome, Reason, RenewOutcome, RenewReport};
use milvus_certs::{CA_PEM, CertRole, Issued, SerialSource, date};

use super::issue::{print_issued, print_names, print_notes, print_serial_line};
use super::{clean, terminal_path};

/// What [`milvus_certs::renew::run`] did, in `dir`; `then` is the hook a
/// real run would run next.
pub(crate) fn print_outcome(o: &RenewOutcome, dir: &Path, then: Option<&str>) -> io::Result<()> {
    match o {
        RenewOutcome::NotDue(found) => print_not_due(dir, found),
        RenewOutcome::DryRun {
            report,
            reasons,
            pending_write,
        } => print_dry_run(report, reasons, then, *pending_write),
        RenewOutcome::Renewed { report, reasons } => print_renew(report, reasons, then),
    }
}

/// With a `--then` hook, the hook is the restart: no "Next" line.
fn print_renew(r: &RenewReport, reasons: &[Reason], then: Option<&str>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    print_notes(
        &r.recovery,
        r.serial_source == SerialSource::Random,
        &r.dir,
        &r.warnings,
    )?;
    writeln!(out, "Renewed in {}/", terminal_path(&r.dir))?;
    for Reason { file, why } in reasons {
        writeln!(out, "  {file}: {why}")?;
    }
    writeln!(out)?;
    for rn in &r.renewed {
        if rn.new.role == CertRole::Ca {
            let was = rn
                .old_not_after
                .map(|w| format!(" (was {})", date(w)))
                .unwrap_or_default();
            writeln!(
                out,
                "  {:<11} CA certificate \"{}\" re-signed with the same key, serial {}, expires {}{was}",
                rn.new.cert_file,
                clean(&rn.new.common_name),
                rn.new.serial,
                date(rn.new.not_after)
            )?;
        } else {
            print_issued(&mut out, &rn.new, rn.old_not_after)?;
        }
    }
    for added in &r.ca_added {
        writeln!(out, "  {:<11} added {added}", CA_PEM)?;
    }
    print_serial_line(&mut out, &r.last_serial)?;
    let leaves: Vec<&Issued> = r
        .renewed
        .iter()
        .map(|rn| &rn.new)
        .filter(|i| i.role != CertRole::Ca)
        .collect();
    if !leaves.is_empty() {
        writeln!(out)?;
        print_names(&mut out, &leaves)?;
    }
    if let Some(b) = &r.backup {
        writeln!(out, "The replaced files are kept in {}/", terminal_path(b))?;
    }
    let ca_only = r.renewed.iter().all(|rn| rn.new.role == CertRole::Ca);
    if then.is_some() && !ca_only {
        // The hook runs next, and its report follows.
        return out.flush();
    }
    writeln!(out)?;
    if ca_only {
        writeln!(
            out,
            "Next: give the new ca.pem to Milvus and to every client; certificates it already issued stay valid with it."
        )?;
    } else {
        let added: Vec<&str> = r
            .renewed
            .iter()
            .filter(|rn| matches!(rn.new.role, CertRole::Added(_)))
            .map(|rn| rn.new.cert_file.as_str())
            .collect();
        let restart = if added.is_empty() {
            "Milvus (or the components reading the files)".to_string()
        } else if added.len() == r.renewed.len() {
            format!("the services using {}", added.join(", "))
        } else {
            format!(
                "Milvus (or the components reading the files) and the services using {}",
                added.join(", ")
            )
        };
        writeln!(
            out,
            "Next: restart {restart} so they load the new certificates; clients keep their ca.pem."
        )?;
    }
    out.flush()
}

fn print_not_due(dir: &Path, found: &DueReport) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "Nothing to renew in {}/:", terminal_path(dir))?;
    for n in &found.not_due {
        writeln!(
            out,
            "  {:<11} expires {}, due for renewal on {}",
            n.target.cert_file(),
            date(n.not_after),
            date(n.due_on)
        )?;
    }
    if let Some(first) = found.not_due.first() {
        writeln!(
            out,
            "Next renewal: {} ({}).",
            date(first.due_on),
            first.target.cert_file()
        )?;
    }
    out.flush()
}

fn print_dry_run(
    r: &RenewReport,
    reasons: &[Reason],
    then: Option<&str>,
    pending_write: bool,
) -> io::Result<()> {
    let dir = &r.dir;
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    for w in &r.warnings {
        writeln!(err, "warning: {}", clean(w))?;
    }
    writeln!(
        out,
        "Dry run: nothing was changed in {}/. Every check passed; a real run would renew:",
        terminal_path(dir)
    )?;
    for rn in &r.renewed {
        let why = reasons
            .iter()
            .find(|r| r.file == rn.new.cert_file)
            .map(|r| r.why.as_str())
            .unwrap_or("asked for");
        writeln!(
            out,
            "  {:<11} {why}; the new one would expire {} (the current one: {})",
            rn.new.cert_file,
            date(rn.new.not_after),
            rn.old_not_after
                .map(date)
                .unwrap_or_else(|| "missing".into())
        )?;
    }
    if let Some(cmd) = then {
        writeln!(out, "and then run: {cmd}")?;
    }
    if pending_write {
        writeln!(
            out,
            "It would first complete or roll back a write an earlier run left unfinished."
        )?;
    }
    out.flush()
}

pub(crate) fn print_hook(h: &HookOutcome) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out)?;
    writeln!(out, "Ran the --then hook: {}", clean(&h.command))?;
    for line in String::from_utf8_lossy(&h.stdout).lines() {
        writeln!(out, "  | {}", clean(line))?;
    }
    for line in String::from_utf8_lossy(&h.stderr).lines() {
        writeln!(out, "  ! {}", clean(line))?;
    }
    match h.code {
        Some(c) => writeln!(out, "The hook exited {c}.")?,
        None => writeln!(out, "The hook was killed by a signal.")?,
    }
    out.flush()
}
