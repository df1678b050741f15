//! The `milvus-certs` binary: parses the command line, calls the library,
//! prints what it returns and maps errors to exit codes.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use milvus_certs::files;
use milvus_certs::generate::{self, CertRole, GenOptions, GenReport, Issued};
use milvus_certs::leaf::Role;
use milvus_certs::names::Subject;
use milvus_certs::renew::{self, RenewCaOptions, RenewOptions, RenewReport, SerialSource};
use milvus_certs::store::Recovery;
use milvus_certs::validity::date;
use time::OffsetDateTime;

mod cli;

use cli::{Cli, Command, GenArgs, RenewArgs};

/// Exit code of a command that failed (usage errors exit 2, from clap).
const FAILURE: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let now = OffsetDateTime::now_utc();
    let result = match cli.command {
        Command::Gen(args) => run_gen(args, now),
        Command::Renew(args) => run_renew(args, now),
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

fn print_names(out: &mut impl Write, issued: &[&Issued]) -> io::Result<()> {
    for i in issued.iter().filter(|i| i.role != CertRole::Ca) {
        let names: Vec<String> = i.names.iter().map(|n| n.to_string()).collect();
        writeln!(
            out,
            "{} names: {}",
            capitalized(i.role.name()),
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

fn print_gen(r: &GenReport) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    print_recovery(&mut err, &r.recovery)?;
    for w in &r.warnings {
        writeln!(err, "warning: {w}")?;
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
            writeln!(
                out,
                "  {:<11} last serial issued: {}",
                files::CA_SRL,
                r.last_serial
            )?;
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

fn run_renew(args: RenewArgs, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    let report = if args.ca {
        let opts = RenewCaOptions {
            dir: args.dir,
            ca_days: args.ca_days,
            backup: !args.no_backup,
        };
        renew::renew_ca(&opts, now)?
    } else {
        let opts = RenewOptions {
            dir: args.dir,
            only: args.only.as_deref().map(|o| {
                if o == "client" {
                    Role::Client
                } else {
                    Role::Server
                }
            }),
            days: args.days,
            common_name: args.common_name,
            sans: args.sans,
            replace_sans: args.replace_sans,
            country: args.country,
            state: args.state,
            locality: args.locality,
            organization: args.organization,
            org_unit: args.org_unit,
            key_type: args.key_type.as_deref().map(str::parse).transpose()?,
            backup: !args.no_backup,
        };
        renew::renew(&opts, now)?
    };
    print_renew(&report).context("cannot print the report")?;
    Ok(ExitCode::SUCCESS)
}

fn print_renew(r: &RenewReport) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    print_recovery(&mut err, &r.recovery)?;
    if r.serial_source == SerialSource::Random {
        writeln!(
            err,
            "note: {} was missing: started from a random serial number, as openssl -CAcreateserial does",
            r.dir.join(files::CA_SRL).display()
        )?;
    }
    for w in &r.warnings {
        writeln!(err, "warning: {w}")?;
    }
    writeln!(out, "Renewed in {}/", r.dir.display())?;
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
    writeln!(
        out,
        "  {:<11} last serial issued: {}",
        files::CA_SRL,
        r.last_serial
    )?;
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
        writeln!(
            out,
            "Next: restart Milvus (or the components reading the files) so it loads the new certificates; clients keep their ca.pem."
        )?;
    }
    out.flush()
}
