//! Rendering the library's reports for people (text) and programs (JSON).

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use milvus_certs::generate::GenReport;
use milvus_certs::inspect::{ClientAuth, Entry, Folder, Overall, Report, Status};
use milvus_certs::renew::{Reason, RenewReport};
use milvus_certs::{
    CA_PEM, CA_SRL, CertRole, Finding, FolderKind, Issued, Recovery, Role, Serial, SerialSource,
    date,
};
use time::OffsetDateTime;

mod json;

/// Text from certificates, file names or a remote server, made safe for a
/// terminal: a control character (an escape sequence that would clear the
/// screen or retitle the window, a newline that would forge a line of the
/// report) is shown escaped, `\u{1b}`, instead of acting.
pub(crate) fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

pub(crate) fn print_recovery(err: &mut impl Write, recovery: &Option<Recovery>) -> io::Result<()> {
    match recovery {
        None => Ok(()),
        Some(Recovery::RolledBack) => writeln!(
            err,
            "note: an earlier run was interrupted before it committed; its unfinished files were removed and the directory is as it was before it"
        ),
        Some(Recovery::Completed { files }) => writeln!(
            err,
            "note: an earlier run was interrupted after it committed; completed it by putting {} in place",
            if files.is_empty() {
                "its last files".to_string()
            } else {
                files.join(", ")
            }
        ),
        Some(Recovery::LeftAlone { staging, reason }) => writeln!(
            err,
            "problem: {}",
            milvus_certs::Error::UnsafePending {
                staging: staging.clone(),
                reason: reason.clone(),
            }
        ),
    }
}

/// One certificate and its key, two lines, as `gen` and `renew` print them.
fn print_issued(out: &mut impl Write, i: &Issued, was: Option<OffsetDateTime>) -> io::Result<()> {
    let (what, key_what) = match i.role {
        CertRole::Ca => (
            format!("CA certificate \"{}\"", i.common_name),
            "CA private key, keep it secret: renew needs it",
        ),
        CertRole::Leaf(Role::Server) => ("server certificate".to_string(), "server private key"),
        CertRole::Leaf(Role::Client) => (
            "client certificate (tlsMode 2)".to_string(),
            "client private key",
        ),
        CertRole::Added(p) => (
            format!("{} certificate ({} profile)", i.label(), p.name()),
            "its private key",
        ),
    };
    let was = was
        .map(|w| format!(" (was {})", date(w)))
        .unwrap_or_default();
    writeln!(
        out,
        "  {:<11} {what}, {}, serial {}, expires {}{was}",
        i.cert_file,
        i.key_type,
        i.serial,
        date(i.not_after)
    )?;
    writeln!(out, "  {:<11} {key_what} (mode 0600)", i.key_file)
}

fn print_serial_line(out: &mut impl Write, last: &Serial) -> io::Result<()> {
    writeln!(out, "  {:<11} last serial issued: {last}", CA_SRL)
}

fn print_names(out: &mut impl Write, issued: &[&Issued]) -> io::Result<()> {
    for i in issued.iter().filter(|i| i.role != CertRole::Ca) {
        let names: Vec<String> = i.names.iter().map(|n| n.to_string()).collect();
        writeln!(
            out,
            "{} names: {}",
            capitalized(i.label()),
            names.join(", ")
        )?;
    }
    Ok(())
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub(crate) fn print_gen(r: &GenReport) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    print_recovery(&mut err, &r.recovery)?;
    for w in &r.warnings {
        writeln!(err, "warning: {}", clean(w))?;
    }
    writeln!(
        out,
        "Created a new CA, server and client certificates in {}/",
        r.dir.display()
    )?;
    writeln!(out)?;
    for i in &r.issued {
        print_issued(&mut out, i, None)?;
        if i.role == CertRole::Ca {
            print_serial_line(&mut out, &r.last_serial)?;
        }
    }
    writeln!(out)?;
    print_names(
        &mut out,
        &r.issued
            .iter()
            .filter(|i| i.role == CertRole::Leaf(Role::Server))
            .collect::<Vec<_>>(),
    )?;
    if let Some(b) = &r.backup {
        writeln!(out, "The replaced files are kept in {}/", b.display())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Next: Milvus reads server.pem, server.key and ca.pem (tls.serverPemPath, tls.serverKeyPath, tls.caPemPath in milvus.yaml); clients use ca.pem, and client.pem and client.key in tlsMode 2."
    )?;
    out.flush()
}

/// What a run that issued certificates says on stderr before its report:
/// the recovery of an interrupted write, a serial started at random, and
/// the warnings (escaped: they carry names from certificates).
fn print_notes(
    recovery: &Option<Recovery>,
    random_serial: bool,
    dir: &std::path::Path,
    warnings: &[String],
) -> io::Result<()> {
    let mut err = io::stderr().lock();
    print_recovery(&mut err, recovery)?;
    if random_serial {
        writeln!(
            err,
            "note: {} was missing: started from a random serial number, as openssl -CAcreateserial does",
            dir.join(CA_SRL).display()
        )?;
    }
    for w in warnings {
        writeln!(err, "warning: {}", clean(w))?;
    }
    Ok(())
}

pub(crate) fn print_add(r: &milvus_certs::add::AddReport) -> io::Result<()> {
    let mut out = io::stdout().lock();
    print_notes(
        &r.recovery,
        r.serial_source == SerialSource::Random,
        &r.dir,
        &r.warnings,
    )?;
    let i = &r.issued;
    writeln!(
        out,
        "Added {} from the CA in {}/",
        i.cert_file,
        r.dir.display()
    )?;
    writeln!(out)?;
    print_issued(&mut out, i, None)?;
    writeln!(out)?;
    print_names(&mut out, &[i])?;
    if let Some(b) = &r.backup {
        writeln!(out, "The replaced files are kept in {}/", b.display())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Next: give {} and {} to the service, and ca.pem to everything that connects to it; `{}` renews it with the rest.",
        i.cert_file, i.key_file, r.renew_command
    )?;
    out.flush()
}

pub(crate) fn print_renew(r: &RenewReport, reasons: &[Reason]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    print_notes(
        &r.recovery,
        r.serial_source == SerialSource::Random,
        &r.dir,
        &r.warnings,
    )?;
    writeln!(out, "Renewed in {}/", r.dir.display())?;
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
                rn.new.common_name,
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
        writeln!(out, "The replaced files are kept in {}/", b.display())?;
    }
    let ca_only = r.renewed.iter().all(|rn| rn.new.role == CertRole::Ca);
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

/// Whether to colour standard output, as anstream decides it: on a
/// terminal, unless NO_COLOR (https://no-color.org) or CLICOLOR=0 is set or
/// TERM is dumb (or unset); in a pipe or a file only with CLICOLOR_FORCE.
/// The text is written plain when not (rather than through an
/// `AutoStream` that strips the styles: that pass over every byte cost
/// `inspect` of 10,000 files 5% more time).
fn use_colour() -> bool {
    anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never
}

/// `text` in the colour of `status` (green ok, yellow expiring, red worse)
/// when `colour`.
fn paint(text: &str, status: Status, colour: bool) -> String {
    if !colour {
        return text.to_string();
    }
    let colour = match status {
        Status::Ok => AnsiColor::Green,
        Status::Expiring => AnsiColor::Yellow,
        _ => AnsiColor::Red,
    };
    let style = Style::new().fg_color(Some(colour.into()));
    format!("{style}{text}{style:#}")
}

pub(crate) fn print_inspect(r: &Report, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    for (dir, rec) in &r.recoveries {
        write!(err, "{}: ", dir.display())?;
        print_recovery(&mut err, &Some(rec.clone()))?;
    }
    if json {
        return print_json(&mut out, &json::InspectDoc::new(r));
    }
    let colour = use_colour();
    for f in &r.folders {
        print_folder(&mut out, f, colour)?;
    }
    for e in &r.entries {
        print_entry(&mut out, e, colour)?;
    }
    writeln!(out, "{}", summary(r))?;
    out.flush()
}

/// A `--json` document, pretty-printed.
fn print_json(out: &mut impl Write, doc: &impl serde::Serialize) -> io::Result<()> {
    // Rendered first, so a closed pipe is an io::Error of its own kind.
    let text = serde_json::to_string_pretty(doc).map_err(io::Error::other)?;
    writeln!(out, "{text}")?;
    out.flush()
}

fn print_entry(out: &mut impl Write, e: &Entry, colour: bool) -> io::Result<()> {
    let status = paint(e.status.name(), e.status, colour);
    match (&e.cert, e.days_left) {
        (Some(c), Some(days)) => {
            let when = if days < 0 {
                format!("expired {} ({} days ago)", date(c.not_after), -days)
            } else {
                format!("expires {} ({days} days left)", date(c.not_after))
            };
            writeln!(
                out,
                "{}  {}  {status}  {when}",
                clean(&e.source),
                e.role_name()
            )?;
            writeln!(out, "    subject   {}", clean(&c.subject.to_string()))?;
            writeln!(out, "    issuer    {}", clean(&c.issuer.to_string()))?;
            writeln!(out, "    serial    {}", c.serial)?;
            writeln!(
                out,
                "    valid     {} to {}",
                date(c.not_before),
                date(c.not_after)
            )?;
            if !c.sans.is_empty() || !c.other_sans.is_empty() {
                let names: Vec<String> = c
                    .sans
                    .iter()
                    .map(|n| n.to_string())
                    .chain(c.other_sans.iter().cloned())
                    .collect();
                writeln!(out, "    names     {}", clean(&names.join(", ")))?;
            }
            writeln!(out, "    key       {}", c.key)?;
            if let Some(enc) = e.encoding {
                let key = e
                    .key_encoding
                    .map(|k| format!(" (its key file: {})", k.name()))
                    .unwrap_or_default();
                writeln!(out, "    encoding  {}{key}", enc.name())?;
            }
            if let Some(ku) = &c.key_usage {
                writeln!(out, "    usage     {}", joined(ku))?;
            }
            if let Some(eku) = &c.ext_key_usage {
                writeln!(out, "    ext usage {}", joined(eku))?;
            }
        }
        _ => writeln!(out, "{}  {}  {status}", clean(&e.source), e.role_name())?,
    }
    if let Some(ClientAuth::Accepted(c)) = &e.client_auth {
        writeln!(
            out,
            "    client certificate accepted (presented {})",
            clean(&c.display().to_string())
        )?;
    }
    print_findings(out, &e.findings, colour)?;
    writeln!(out)
}

/// `items` shown one after the other, separated by commas.
fn joined(items: &[impl std::fmt::Display]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_findings(out: &mut impl Write, findings: &[Finding], colour: bool) -> io::Result<()> {
    for f in findings.iter().filter(|f| f.is_problem()) {
        writeln!(
            out,
            "    {} {}",
            paint("problem:", Status::Invalid, colour),
            clean(&f.with_fix())
        )?;
    }
    for f in findings.iter().filter(|f| !f.is_problem()) {
        writeln!(
            out,
            "    {} {}",
            paint("warning:", Status::Expiring, colour),
            clean(&f.with_fix())
        )?;
    }
    Ok(())
}

fn folder_description(kind: FolderKind) -> &'static str {
    match kind {
        FolderKind::Ca => "CA folder (ca.key, ca.pem, ca.srl, server and client files)",
        FolderKind::Server => "server deployment folder (server.pem, server.key, ca.pem)",
        FolderKind::Client => "client folder (ca.pem; client.pem and client.key for tlsMode 2)",
    }
}

fn print_folder(out: &mut impl Write, f: &Folder, colour: bool) -> io::Result<()> {
    writeln!(
        out,
        "{}/  {}",
        clean(&f.path.display().to_string()),
        folder_description(f.kind)
    )?;
    print_findings(out, &f.findings, colour)?;
    writeln!(out)
}

/// One sentence: "3 certificates: 3 ok.", "3 certificates: 1 ok and 2
/// expiring, the first in 9 days (renew them before then).", "1 certificate:
/// 1 invalid (see the problems above)."; inputs that hold no certificate
/// are counted apart: "2 certificates: 2 ok; 2 inputs without a certificate."
fn summary(r: &Report) -> String {
    let certs: Vec<&Entry> = r.entries.iter().filter(|e| e.cert.is_some()).collect();
    let n = certs.len();
    let without = r.entries.len() - n;
    let count = |s: Status| certs.iter().filter(|e| e.status == s).count();
    let mut parts = Vec::new();
    if count(Status::Ok) > 0 {
        parts.push(format!("{} ok", count(Status::Ok)));
    }
    let expiring = count(Status::Expiring);
    if expiring > 0 {
        let soonest = certs
            .iter()
            .filter(|e| e.status == Status::Expiring)
            .filter_map(|e| e.days_left)
            .min()
            .unwrap_or(0);
        let when = match soonest {
            0 => "today".to_string(),
            1 => "in 1 day".to_string(),
            d => format!("in {d} days"),
        };
        parts.push(if expiring == 1 {
            format!("1 expiring {when}")
        } else {
            format!("{expiring} expiring, the first {when}")
        });
    }
    for s in [Status::Expired, Status::NotYetValid, Status::Invalid] {
        if count(s) > 0 {
            parts.push(format!("{} {}", count(s), s.name()));
        }
    }
    let noun = if n == 1 {
        "certificate"
    } else {
        "certificates"
    };
    let verdict = match r.overall() {
        Overall::Ok => "",
        Overall::Expiring if expiring == 1 => " (renew it before then)",
        Overall::Expiring => " (renew them before then)",
        Overall::Problem => " (see the problems above)",
    };
    let list = match parts.as_slice() {
        [] => "none".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => {
            // A serial comma when a part has a comma of its own.
            let and = if rest.len() > 1 || rest.iter().any(|p| p.contains(',')) {
                ", and "
            } else {
                " and "
            };
            format!("{}{and}{last}", rest.join(", "))
        }
    };
    let without = match without {
        0 => String::new(),
        1 => "; 1 input without a certificate".to_string(),
        k => format!("; {k} inputs without a certificate"),
    };
    format!("{n} {noun}: {list}{without}{verdict}.")
}

pub(crate) fn print_not_due(
    dir: &std::path::Path,
    found: &milvus_certs::renew::DueReport,
) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "Nothing to renew in {}/:", dir.display())?;
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

pub(crate) fn print_dry_run(
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
        dir.display()
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

pub(crate) fn print_hook(h: &milvus_certs::renew::HookOutcome) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out)?;
    writeln!(out, "Ran the --then hook: {}", h.command)?;
    for line in String::from_utf8_lossy(&h.stdout).lines() {
        writeln!(out, "  | {line}")?;
    }
    for line in String::from_utf8_lossy(&h.stderr).lines() {
        writeln!(out, "  ! {line}")?;
    }
    match h.code {
        Some(c) => writeln!(out, "The hook exited {c}.")?,
        None => writeln!(out, "The hook was killed by a signal.")?,
    }
    out.flush()
}

fn install_hint(o: &milvus_certs::schedule::ScheduleOptions, dir: &str) -> String {
    format!(
        "# Install the timer (as root):\n\
         #   cp {dir}{n}.service {dir}{n}.timer /etc/systemd/system/\n\
         #   systemctl daemon-reload && systemctl enable --now {n}.timer\n\
         # Or, instead of the timer, add the crontab line with `crontab -e`.\n",
        n = o.name
    )
}

pub(crate) fn print_units(
    o: &milvus_certs::schedule::ScheduleOptions,
    u: &milvus_certs::schedule::Units,
) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "# --- {}.service ---", o.name)?;
    write!(out, "{}", u.service)?;
    writeln!(out, "\n# --- {}.timer ---", o.name)?;
    write!(out, "{}", u.timer)?;
    writeln!(out, "\n# --- crontab line (instead of the timer) ---")?;
    write!(out, "{}", u.crontab)?;
    writeln!(out)?;
    write!(out, "{}", install_hint(o, ""))?;
    out.flush()
}

pub(crate) fn print_units_written(
    o: &milvus_certs::schedule::ScheduleOptions,
    written: &[std::path::PathBuf],
) -> io::Result<()> {
    let mut out = io::stdout().lock();
    for p in written {
        writeln!(out, "Wrote {}", p.display())?;
    }
    let dir = written
        .first()
        .and_then(|p| p.parent())
        .map(|d| format!("{}/", d.display()))
        .unwrap_or_default();
    write!(out, "{}", install_hint(o, &dir))?;
    out.flush()
}

/// What `export --out` wrote, with modes, and what to run next.
pub(crate) fn print_export(
    out_dir: &std::path::Path,
    made: &milvus_certs::export::Export,
    written: &[std::path::PathBuf],
) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "Wrote into {}:", out_dir.display())?;
    for (f, path) in made.files.iter().zip(written) {
        let rel = f.path.to_string_lossy();
        let secret = if f.mode & 0o077 != 0 {
            ""
        } else if rel.ends_with("password") || rel.ends_with(".properties") {
            " (holds a password)"
        } else {
            " (holds a private key)"
        };
        writeln!(
            out,
            "  {:<28} mode {:04o}{secret}",
            path.strip_prefix(out_dir).unwrap_or(path).display(),
            f.mode
        )?;
    }
    if !made.next.is_empty() {
        writeln!(out, "Next, in {}:", out_dir.display())?;
        for cmd in &made.next {
            writeln!(out, "  {cmd}")?;
        }
    }
    Ok(())
}

fn location(at: &milvus_certs::doctor::Location) -> String {
    let mut s = at.file.display().to_string();
    if let Some(line) = at.line {
        s.push_str(&format!(":{line}"));
    }
    s
}

/// `doctor`'s findings, one block each, then a summary line; or JSON.
pub(crate) fn print_doctor(r: &milvus_certs::doctor::Report, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        return print_json(&mut out, &json::DoctorDoc::new(r));
    }
    let colour = use_colour();
    for f in &r.findings {
        let status = if f.finding.is_problem() {
            Status::Expired
        } else {
            Status::Expiring
        };
        let severity = paint(f.finding.severity().name(), status, colour);
        // File names, keys and values come from the user's files: shown
        // escaped if they hold control characters.
        let key = if f.at.key.is_empty() {
            String::new()
        } else {
            format!(" {}:", clean(&f.at.key))
        };
        writeln!(
            out,
            "{}: {severity} [{}]{key} {}",
            clean(&location(&f.at)),
            f.finding.code(),
            clean(&f.finding.to_string())
        )?;
        if let Some(fix) = f.finding.fix() {
            writeln!(out, "  fix: {}", clean(&fix))?;
        }
    }
    let files: Vec<String> = r
        .files
        .iter()
        .map(|(p, s)| format!("{} ({})", p.display(), s.name()))
        .collect();
    let problems = r.findings.iter().filter(|f| f.finding.is_problem()).count();
    let warnings = r.findings.len() - problems;
    let verdict = match (problems, warnings) {
        (0, 0) => "no TLS mistakes found".to_string(),
        (0, w) => format!("{w} warning{}", if w == 1 { "" } else { "s" }),
        (p, 0) => format!("{p} problem{}", if p == 1 { "" } else { "s" }),
        (p, w) => format!(
            "{p} problem{}, {w} warning{}",
            if p == 1 { "" } else { "s" },
            if w == 1 { "" } else { "s" }
        ),
    };
    writeln!(out, "Read {}: {verdict}.", clean(&files.join(", ")))
}
