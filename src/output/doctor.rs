//! What `doctor` prints: each finding where it is, then a summary line; or
//! the JSON document.

use std::io::{self, Write};

use milvus_certs::doctor::{Location, Report};
use milvus_certs::inspect::Status;

use super::{clean, json, paint, print_json, terminal_path, use_colour};

fn location(at: &Location) -> String {
    let mut s = terminal_path(&at.file);
    if let Some(line) = at.line {
        s.push_str(&format!(":{line}"));
    }
    s
}

/// `doctor`'s findings, one block each, then a summary line; or JSON.
pub(crate) fn print_doctor(r: &Report, json: bool) -> io::Result<()> {
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
        .map(|(p, s)| format!("{} ({})", terminal_path(p), s.name()))
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
