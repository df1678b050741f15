//! Man pages: clap_mangen's, with two sections of our own.
//!
//! - SYNOPSIS: clap_mangen 0.3 writes every option without its value
//!   (`[--dir] [--only]`), which reads as if they were flags; ours names the
//!   value as `--help` does (`[--dir DIR] [--only WHICH]`), and marks a
//!   repeatable option with `...`.
//! - EXAMPLES (and EXIT STATUS): clap_mangen puts a command's `after_help`
//!   under a heading "EXTRA". That text is the examples block `--help` shows,
//!   so we render the same text under the headings man-pages(7) names.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Arg, ArgAction, Command, CommandFactory};
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};
use milvus_certs::export::{self, OutFile};

use crate::cli::Cli;
use crate::output::shown;

/// `milvus-certs man`: the page on stdout, or every page into `out`.
pub(crate) fn run(out: Option<PathBuf>) -> anyhow::Result<()> {
    // The pages cross-reference each other by subcommand; `help` gets none.
    let cmd = Cli::command().disable_help_subcommand(true);
    match out {
        None => {
            let page = render(cmd).context("cannot render the man page")?;
            shown(io::stdout().lock().write_all(&page))
        }
        Some(dir) => {
            write_all(cmd, &dir)?;
            #[allow(clippy::print_stdout)] // the binary's report
            {
                println!("Wrote the man pages into {}", dir.display());
            }
            Ok(())
        }
    }
}

/// The page of `cmd` (a built command, or the root, which is built here).
fn render(mut cmd: Command) -> io::Result<Vec<u8>> {
    cmd.build();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    let page = String::from_utf8(page).map_err(io::Error::other)?;
    let page = replace_section(&page, "SYNOPSIS", &body(&synopsis(&cmd)));
    let page = replace_section(&page, "EXTRA", &body(&after_help(&cmd)));
    Ok(page.into_bytes())
}

/// Writes the page of `cmd` and of every subcommand into `dir`, as
/// `clap_mangen::generate_to` names them (`milvus-certs-export-compose.1`),
/// all whole or none and never through a symlink ([`export::write`]).
fn write_all(cmd: Command, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    fn collect(mut cmd: Command, pages: &mut Vec<(String, Vec<u8>)>) -> io::Result<()> {
        cmd.build();
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            collect(sub.clone(), pages)?;
        }
        let name = clap_mangen::Man::new(cmd.clone()).get_filename();
        pages.push((name, render(cmd)?));
        Ok(())
    }
    let mut pages = Vec::new();
    collect(cmd, &mut pages)?;
    let files: Vec<OutFile> = pages
        .into_iter()
        .map(|(name, page)| OutFile {
            path: name.into(),
            contents: page,
            // Like every file milvus-certs writes that holds no secret.
            mode: 0o644,
        })
        .collect();
    Ok(export::write(dir, &files, true)?)
}

/// Stands for a space the line must not break at (between an option and
/// its value); the roff crate escapes every backslash, so `\ ` is put in
/// after rendering.
const NO_BREAK: &str = "@nobreak@";

/// Roff source without the apostrophe preamble `Roff::render` starts with
/// (the page already has it once).
fn body(roff: &Roff) -> String {
    roff.render()
        .lines()
        .filter(|l| !l.starts_with(".ie \\n(.g .ds Aq") && !l.starts_with(".el .ds Aq"))
        .map(|l| format!("{}\n", l.replace(NO_BREAK, "\\ ")))
        .collect()
}

/// `page` with the section `.SH NAME` (up to the next `.SH`) replaced by
/// `new` (which carries its own `.SH` lines); unchanged without that section.
fn replace_section(page: &str, name: &str, new: &str) -> String {
    let head = format!(".SH {name}\n");
    let Some(start) = page.find(&head) else {
        return page.to_string();
    };
    let end = page[start + head.len()..]
        .find("\n.SH ")
        .map_or(page.len(), |i| start + head.len() + i + 1);
    format!("{}{new}{}", &page[..start], &page[end..])
}

fn synopsis(cmd: &Command) -> Roff {
    let name = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
    let mut line = vec![bold(name)];
    for arg in cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
    {
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(s), Some(l)) => vec![bold(format!("-{s}")), roman("|"), bold(format!("--{l}"))],
            (None, Some(l)) => vec![bold(format!("--{l}"))],
            (Some(s), None) => vec![bold(format!("-{s}"))],
            (None, None) => continue,
        };
        let (open, close) = if arg.is_required_set() {
            ("", "")
        } else {
            ("[", "]")
        };
        line.push(roman(format!(" {open}")));
        line.extend(flag);
        if takes_value(arg) {
            line.push(roman(NO_BREAK));
            line.push(italic(value_name(arg)));
        }
        line.push(roman(close));
        if matches!(arg.get_action(), ArgAction::Append) {
            line.push(roman("..."));
        }
    }
    for arg in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        let (open, close) = if arg.is_required_set() {
            (" ", "")
        } else {
            (" [", "]")
        };
        line.push(roman(open));
        line.push(italic(value_name(arg)));
        line.push(roman(close));
        if matches!(arg.get_action(), ArgAction::Append) {
            line.push(roman("..."));
        }
    }
    if cmd.has_subcommands() {
        line.extend([roman(" <"), italic("SUBCOMMAND"), roman(">")]);
    }
    let mut roff = Roff::new();
    // Neither hyphenated nor justified: an option is a word to type.
    roff.control("SH", ["SYNOPSIS"])
        .control("nh", [])
        .control("ad", ["l"])
        .text(line)
        .control("ad", [])
        .control("hy", []);
    roff
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

fn value_name(arg: &Arg) -> String {
    match arg.get_value_names() {
        Some(names) => names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        None => arg.get_id().as_str().to_uppercase(),
    }
}

/// The `after_help` text as man sections: the block headed "Examples:" as
/// EXAMPLES (lines kept as they are, so each command stays on its line and
/// can be copied), one headed "Exit status:" as EXIT STATUS, and any other
/// paragraph after the examples, as in `--help`.
fn after_help(cmd: &Command) -> Roff {
    let mut roff = Roff::new();
    let text = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(|t| t.to_string())
        .unwrap_or_default();
    let mut in_examples = false;
    for block in text.split("\n\n") {
        let mut lines = block.lines();
        let Some(first) = lines.next() else { continue };
        let rest: Vec<&str> = lines.collect();
        if first.trim() == "Examples:" {
            roff.control("SH", ["EXAMPLES"]);
            preformatted(&mut roff, &rest);
            in_examples = true;
        } else if let Some(after) = first.strip_prefix("Exit status:") {
            roff.control("SH", ["EXIT STATUS"]);
            if after.trim().is_empty() {
                preformatted(&mut roff, &rest);
            } else {
                let mut all = vec![after.trim()];
                all.extend(rest.iter().map(|l| l.trim()));
                roff.text([roman(all.join(" "))]);
            }
            in_examples = false;
        } else {
            if !in_examples {
                roff.control("SH", ["NOTES"]);
                in_examples = true;
            } else {
                roff.control("PP", []);
            }
            let all: Vec<&str> = block.lines().map(str::trim).collect();
            roff.text([roman(all.join(" "))]);
        }
    }
    roff
}

/// Lines as they are (no filling), indented by the man macros instead of
/// the two spaces `--help` indents them with.
fn preformatted(roff: &mut Roff, lines: &[&str]) {
    roff.control("RS", ["4"]).control("nf", []);
    for l in lines {
        let inline: Inline = roman(l.strip_prefix("  ").unwrap_or(l));
        roff.text([inline]);
    }
    roff.control("fi", []).control("RE", []);
}
