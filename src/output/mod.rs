//! Rendering the library's reports for people (text) and programs (JSON):
//! one file per command family, and here what they share (escaping, the
//! recovery note, colour, JSON).
//!
//! - `issue`: `gen` and `add`, and the lines every command that issues
//!   certificates prints.
//! - `renew`: `renew`, its dry run, "nothing due" and the `--then` hook.
//! - `inspect`: `inspect`'s entries, folders and summary; `doctor`: its
//!   findings; `json`: both `--json` documents.
//! - `schedule`: the units; `export`: what `--out` wrote.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use milvus_certs::Recovery;
use milvus_certs::inspect::Status;

mod doctor;
mod export;
mod inspect;
mod issue;
mod json;
mod renew;
mod schedule;

pub(crate) use doctor::print_doctor;
pub(crate) use export::{print_export, print_export_notes};
pub(crate) use inspect::print_inspect;
pub(crate) use issue::{print_add, print_gen};
pub(crate) use renew::{print_hook, print_outcome};
pub(crate) use schedule::{print_units, print_units_written};

/// Text from certificates, file names or a remote server, made safe for a
/// terminal: a control character (an escape sequence that would clear the
/// screen or retitle the window, a newline that would forge a line of the
/// report) is shown escaped, `\u{1b}`, instead of acting.
pub(crate) fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(hidden) {
        s.chars()
            .map(|c| {
                if hidden(c) {
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

/// A path for a terminal: [`clean`] of its display form (a `--dir` or
/// `--out` given on the command line can hold escape sequences too).
pub(crate) fn terminal_path(p: impl AsRef<std::path::Path>) -> String {
    clean(&p.as_ref().display().to_string()).into_owned()
}

/// A character that acts instead of showing: a control character, or one
/// that reorders, hides or breaks what follows (Unicode's bidirectional
/// controls, UAX #9; zero-width characters; the line and paragraph
/// separators; the other format characters, variation selectors, tags and
/// fillers, which show nothing), so a name could look like another
/// ("f\u{202e}gpj.pem").
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'..='\u{1160}'
                | '\u{17b4}'..='\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e0fff}'
        )
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

/// A `--json` document, pretty-printed.
fn print_json(out: &mut impl Write, doc: &impl serde::Serialize) -> io::Result<()> {
    // Rendered first, so a closed pipe is an io::Error of its own kind.
    let text = serde_json::to_string_pretty(doc).map_err(io::Error::other)?;
    writeln!(out, "{text}")?;
    out.flush()
}

/// A reader that stopped reading (`| head`) is not an error worth a message:
/// the work is done and its result stands.
pub(crate) fn shown(printed: io::Result<()>) -> anyhow::Result<()> {
    use anyhow::Context;
    match printed {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot print the report"),
    }
}
