//! The `milvus-certs` binary: parses the command line, calls the library,
//! prints what it returns and maps errors to exit codes.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use milvus_certs::generate::{self, CertRole, GenOptions, GenReport};
use milvus_certs::names::Subject;
use milvus_certs::store::Recovery;
use time::OffsetDateTime;

mod cli;

use cli::{Cli, Command, GenArgs};

/// Exit code of a command that failed (usage errors exit 2, from clap).
const FAILURE: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let now = OffsetDateTime::now_utc();
    let result = match cli.command {
        Command::Gen(args) => run_gen(args, now),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the library's messages already name the file and the fix.
            let _ = writeln!(io::stderr(), "error: {err:#}");
            ExitCode::from(FAILURE)
        }
    }
}

fn run_gen(args: GenArgs, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    let opts = GenOptions {
        dir: args.dir,
        subject: Subject {
            country: args.country,
            state: args.state,
            locality: args.locality,
            organization: args.organization,
            org_unit: args.org_unit,
            common_name: args.common_name,
        },
        ca_common_name: args.ca_common_name,
        sans: args.sans,
        days: args.days,
        ca_days: args.ca_days,
        key_type: args.key_type.parse()?,
        force: args.force,
        backup: !args.no_backup,
    };
    let report = generate::generate(&opts, now)?;
    print_gen(&report).context("cannot print the report")?;
    Ok(ExitCode::SUCCESS)
}

fn print_recovery(err: &mut impl Write, recovery: &Option<Recovery>) -> io::Result<()> {
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
    }
}

fn print_gen(r: &GenReport) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    print_recovery(&mut err, &r.recovery)?;
    for w in &r.warnings {
        writeln!(err, "warning: {w}")?;
    }
    let dir = r.dir.display();
    writeln!(
        out,
        "Created a new CA, server and client certificates in {dir}/"
    )?;
    writeln!(out)?;
    for i in &r.issued {
        let expires = date(i.not_after);
        let (what, key_what) = match i.role {
            CertRole::Ca => (
                format!("CA certificate \"{}\"", i.common_name),
                "CA private key, keep it secret: renew needs it",
            ),
            CertRole::Leaf(role) if role.name() == "server" => {
                ("server certificate".to_string(), "server private key")
            }
            CertRole::Leaf(_) => (
                "client certificate (tlsMode 2)".to_string(),
                "client private key",
            ),
        };
        writeln!(
            out,
            "  {:<11} {what}, {}, serial {}, expires {expires}",
            i.cert_file, i.key_type, i.serial
        )?;
        writeln!(out, "  {:<11} {key_what} (mode 0600)", i.key_file)?;
        if i.role == CertRole::Ca {
            writeln!(
                out,
                "  {:<11} last serial issued: {}",
                milvus_certs::files::CA_SRL,
                r.last_serial
            )?;
        }
    }
    if let Some(server) = r.issued.iter().find(|i| i.role.name() == "server") {
        let names: Vec<String> = server.names.iter().map(|n| n.to_string()).collect();
        writeln!(out)?;
        writeln!(out, "Server names: {}", names.join(", "))?;
    }
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

fn date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}
