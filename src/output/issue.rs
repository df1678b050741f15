//! What `gen` and `add` print, and the lines every command that issues
//! certificates prints (`renew` too): one certificate and its key, the last
//! serial, the names, the notes on stderr.

use std::io::{self, Write};
use std::path::Path;

use milvus_certs::add::AddReport;
use milvus_certs::generate::GenReport;
use milvus_certs::{CA_SRL, CertRole, Issued, Recovery, Role, Serial, SerialSource, date};
use time::OffsetDateTime;

use super::{clean, print_recovery, terminal_path};

/// One certificate and its key, two lines, as `gen` and `renew` print them.
pub(super) fn print_issued(
    out: &mut impl Write,
    i: &Issued,
    was: Option<OffsetDateTime>,
) -> io::Result<()> {
    let (what, key_what) = match i.role {
        CertRole::Ca => (
            format!("CA certificate \"{}\"", clean(&i.common_name)),
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

pub(super) fn print_serial_line(out: &mut impl Write, last: &Serial) -> io::Result<()> {
    writeln!(out, "  {:<11} last serial issued: {last}", CA_SRL)
}

pub(super) fn print_names(out: &mut impl Write, issued: &[&Issued]) -> io::Result<()> {
    for i in issued.iter().filter(|i| i.role != CertRole::Ca) {
        let names: Vec<String> = i
            .names
            .iter()
            .map(|n| clean(&n.to_string()).into_owned())
            .collect();
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
        terminal_path(&r.dir)
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
        writeln!(out, "The replaced files are kept in {}/", terminal_path(b))?;
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
pub(super) fn print_notes(
    recovery: &Option<Recovery>,
    random_serial: bool,
    dir: &Path,
    warnings: &[String],
) -> io::Result<()> {
    let mut err = io::stderr().lock();
    print_recovery(&mut err, recovery)?;
    if random_serial {
        writeln!(
            err,
            "note: {} was missing: started from a random serial number, as openssl -CAcreateserial does",
            terminal_path(dir.join(CA_SRL))
        )?;
    }
    for w in warnings {
        writeln!(err, "warning: {}", clean(w))?;
    }
    Ok(())
}

pub(crate) fn print_add(r: &AddReport) -> io::Result<()> {
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
        terminal_path(&r.dir)
    )?;
    writeln!(out)?;
    print_issued(&mut out, i, None)?;
    writeln!(out)?;
    print_names(&mut out, &[i])?;
    if let Some(b) = &r.backup {
        writeln!(out, "The replaced files are kept in {}/", terminal_path(b))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Next: give {} and {} to the service, and ca.pem to everything that connects to it; `{}` renews it with the rest.",
        i.cert_file,
        i.key_file,
        clean(&r.renew_command)
    )?;
    out.flush()
}
