//! What `inspect` prints: each folder and certificate, then one summary
//! sentence; or the JSON document.

use std::io::{self, Write};

use milvus_certs::inspect::{ClientAuth, Entry, Folder, Overall, Report, Status};
use milvus_certs::{Finding, FolderKind, date};

use super::{clean, json, paint, print_json, print_recovery, terminal_path, use_colour};

pub(crate) fn print_inspect(r: &Report, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    for (dir, rec) in &r.recoveries {
        write!(err, "{}: ", terminal_path(dir))?;
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

pub(super) fn print_findings(
    out: &mut impl Write,
    findings: &[Finding],
    colour: bool,
) -> io::Result<()> {
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
    // A folder without any of the files is no kind of folder yet.
    let empty = f
        .findings
        .iter()
        .any(|x| matches!(x, milvus_certs::Finding::NoCertificateFiles { .. }));
    writeln!(
        out,
        "{}/  {}",
        clean(&f.path.display().to_string()),
        if empty {
            "not a certificate folder"
        } else {
            folder_description(f.kind)
        }
    )?;
    print_findings(out, &f.findings, colour)?;
    writeln!(out)
}

/// One sentence: "3 certificates: 3 ok.", "3 certificates: 1 ok and 2
/// expiring, the first in 9 days (renew them before then).", "1 certificate:
/// 1 invalid (see the problems above)."; inputs that hold no certificate
/// are counted apart: "2 certificates: 2 ok; 2 inputs without a certificate."
pub(super) fn summary(r: &Report) -> String {
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
