//! The `milvus-certs` binary: parses the command line, calls the library,
//! prints what it returns and maps errors to exit codes.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use milvus_certs::generate::{self, GenOptions};
use milvus_certs::renew::{self, RenewCaOptions, RenewOptions};
use milvus_certs::{Subject, Target};
use time::OffsetDateTime;

mod cli;
mod man;
mod output;

use cli::{AddArgs, Cli, Command, GenArgs, InspectArgs, RenewArgs, ScheduleArgs};
use output::{print_gen, print_inspect};

/// Exit code of a `gen` or `renew` that failed (usage errors exit 2, from clap).
const FAILURE: u8 = 1;
/// Exit code of an `inspect` that failed: its "problem" status.
const INSPECT_FAILURE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse_or_exit();
    let now = OffsetDateTime::now_utc();
    let (result, failure) = match cli.command {
        Command::Gen(args) => (run_gen(args, now), FAILURE),
        Command::Renew(args) => (run_renew(args, now), FAILURE),
        Command::Add(args) => (run_add(args, now), FAILURE),
        Command::Inspect(args) => (run_inspect(args, now), INSPECT_FAILURE),
        Command::Doctor(args) => (run_doctor(args, now), INSPECT_FAILURE),
        Command::Schedule(args) => (run_schedule(args), FAILURE),
        Command::Export(target) => (run_export(target, now), FAILURE),
        Command::Completions { shell } => (run_completions(shell), FAILURE),
        Command::Man { out } => (run_man(out), FAILURE),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the library's messages already name the file and the fix.
            let _ = writeln!(
                io::stderr(),
                "error: {}",
                output::clean(&format!("{err:#}"))
            );
            ExitCode::from(if is_usage_error(&err) { USAGE } else { failure })
        }
    }
}

/// Exit code of a usage error (an unknown option, from clap, or an invalid
/// value, from the library), for every command, as documented.
const USAGE: u8 = 2;

/// A usage error found here rather than by clap or the library.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn is_usage_error(err: &anyhow::Error) -> bool {
    use milvus_certs::Error as E;
    err.downcast_ref::<Usage>().is_some()
        || matches!(
            err.downcast_ref::<E>(),
            Some(E::InvalidValue { .. } | E::NameNotInCert { .. })
        )
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
        key_type: args.key_type.into(),
        force: args.force,
        backup: !args.no_backup,
    };
    let report = generate::generate(&opts, now)?;
    quiet_on_closed_pipe(print_gen(&report))?;
    Ok(ExitCode::SUCCESS)
}

fn run_add(args: AddArgs, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    use milvus_certs::add::{self, AddOptions};
    let opts = AddOptions {
        dir: args.dir,
        name: args.name,
        profile: args.profile.map(Into::into),
        sans: args.sans,
        no_localhost: args.no_localhost,
        days: args.days,
        key_type: args.key_type.map(Into::into),
        force: args.force,
        backup: !args.no_backup,
    };
    let report = add::add(&opts, now)?;
    quiet_on_closed_pipe(output::print_add(&report))?;
    Ok(ExitCode::SUCCESS)
}

/// Exit code of a renewal whose `--then` hook failed (the new files stay).
const HOOK_FAILED: u8 = 3;

fn run_renew(args: RenewArgs, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    use milvus_certs::renew::{RenewOutcome, RenewRequest};
    let dir = args.dir.clone();
    let request = if args.ca {
        RenewRequest::Ca(RenewCaOptions {
            dir: args.dir,
            ca_days: args.ca_days,
            backup: !args.no_backup,
            dry_run: args.dry_run,
        })
    } else {
        RenewRequest::Leaves {
            options: RenewOptions {
                dir: args.dir,
                only: args
                    .only
                    .iter()
                    .map(|o| Target::parse("--only", o))
                    .collect::<milvus_certs::Result<_>>()?,
                days: args.days,
                common_name: args.common_name,
                sans: args.sans,
                replace_sans: args.replace_sans,
                country: args.country,
                state: args.state,
                locality: args.locality,
                organization: args.organization,
                org_unit: args.org_unit,
                key_type: args.key_type.map(Into::into),
                backup: !args.no_backup,
                dry_run: args.dry_run,
            },
            if_expiring_within: args.if_expiring_within,
        }
    };
    let (report, reasons) = match renew::run(&request, now)? {
        RenewOutcome::NotDue(found) => {
            quiet_on_closed_pipe(output::print_not_due(&dir, &found))?;
            return Ok(ExitCode::SUCCESS);
        }
        RenewOutcome::DryRun {
            report,
            reasons,
            pending_write,
        } => {
            quiet_on_closed_pipe(output::print_dry_run(
                &report,
                &reasons,
                args.then.as_deref(),
                pending_write,
            ))?;
            return Ok(ExitCode::SUCCESS);
        }
        RenewOutcome::Renewed { report, reasons } => (report, reasons),
    };
    quiet_on_closed_pipe(output::print_renew(&report, &reasons))?;
    if let Some(cmd) = &args.then {
        let outcome = renew::run_after(cmd, &report)?;
        quiet_on_closed_pipe(output::print_hook(&outcome))?;
        if let Err(failed) = outcome.result() {
            let _ = writeln!(io::stderr(), "error: {failed}");
            return Ok(ExitCode::from(HOOK_FAILED));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_schedule(args: ScheduleArgs) -> anyhow::Result<ExitCode> {
    use milvus_certs::schedule::{self, ScheduleOptions};
    let bin = std::env::current_exe().context("cannot find the milvus-certs binary's own path")?;
    let opts = ScheduleOptions {
        bin,
        dir: args.dir,
        within: args.within,
        days: args.days,
        then: args.then,
        name: args.name,
    };
    // Before anything is written or printed: refuses values out of range
    // and values that would smuggle lines into the unit or the crontab.
    let units = schedule::units(&opts)?;
    match &args.out {
        None => quiet_on_closed_pipe(output::print_units(&opts, &units))?,
        Some(out) => {
            let written = schedule::write_units(out, &opts, &units, args.force)?;
            quiet_on_closed_pipe(output::print_units_written(&opts, &written))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_inspect(args: InspectArgs, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    use milvus_certs::SanName;
    use milvus_certs::inspect::{self, InspectOptions};
    let server_names = args
        .server_names
        .iter()
        .map(|n| SanName::parse("--server-name", n))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = InspectOptions {
        dir: args.dir.clone(),
        paths: args.paths.clone(),
        // With --connect, --ca is what the server is verified against.
        ca_files: match (&args.ca, args.connect.is_empty()) {
            (Some(ca), true) => vec![ca.clone()],
            _ => Vec::new(),
        },
        warn_days: args.warn_days,
        server_names,
        one_way: args.mode == Some(cli::ModeArg::OneWay),
        read_only: false,
        connect: (!args.connect.is_empty()).then(|| connect_options(&args)),
    };
    let report = inspect::inspect(&opts, now)?;
    quiet_on_closed_pipe(print_inspect(&report, args.json))?;
    Ok(ExitCode::from(report.overall().exit_code()))
}

fn run_doctor(args: cli::DoctorArgs, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    use milvus_certs::doctor::{self, DoctorOptions};
    let opts = DoctorOptions {
        files: args.files,
        dir: args.dir,
    };
    let report = doctor::doctor(&opts, now)?;
    quiet_on_closed_pipe(output::print_doctor(&report, args.json))?;
    Ok(ExitCode::from(report.exit_code()))
}

/// `--connect`: the CA defaults to the folder's (`--dir`, or the current
/// directory); so do the client files, in the library.
fn connect_options(args: &InspectArgs) -> milvus_certs::inspect::ConnectOptions {
    let dir = args.dir.clone().unwrap_or_else(|| ".".into());
    milvus_certs::inspect::ConnectOptions {
        servers: args.connect.clone(),
        ca: args.ca.clone().unwrap_or_else(|| dir.join("ca.pem")),
        client_cert: args.client_cert.clone(),
        client_key: args.client_key.clone(),
        server_names: args.server_names.clone(),
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
    }
}

/// A reader that stopped reading (`| head`) is not an error worth a message:
/// the work is done and its result stands.
fn quiet_on_closed_pipe(printed: io::Result<()>) -> anyhow::Result<()> {
    match printed {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot print the report"),
    }
}

fn run_export(target: cli::ExportTarget, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    use cli::ExportTarget as T;
    use milvus_certs::export::{self, Common, Target, TlsMode};
    let tls = |t: &cli::TlsArgs| (TlsMode::from(t.mode), t.internal, t.sni.clone());
    let to_deps = |d: &cli::DepsArgs| milvus_certs::export::Deps {
        etcd: d.etcd,
        s3: d.s3,
        kafka: d.kafka,
    };
    let deps = match &target {
        T::Compose(a) => to_deps(&a.deps),
        T::K8sSecret(a) => to_deps(&a.deps),
        T::Operator(a) => to_deps(&a.deps),
        T::Helm(a) => to_deps(&a.deps),
        _ => milvus_certs::export::Deps::default(),
    };
    let (name, common, (mode, internal, sni), target) = match target {
        T::Kafka(a) => return run_export_kafka(a, now),
        T::Compose(a) => (
            "compose",
            a.common,
            tls(&a.tls),
            Target::Compose {
                milvus_config: a.milvus_config,
            },
        ),
        T::K8sSecret(a) => (
            "k8s-secret",
            a.common,
            (TlsMode::OneWay, false, None),
            Target::K8sSecret {
                name: a.name,
                namespace: a.namespace,
            },
        ),
        T::Operator(a) => (
            "operator",
            a.common,
            tls(&a.tls),
            Target::Operator {
                release: a.release,
                namespace: a.namespace,
                secret: a.volume.secret,
                cert_manager: a.volume.cert_manager,
            },
        ),
        T::Helm(a) => (
            "helm",
            a.common,
            tls(&a.tls),
            Target::Helm {
                secret: a.volume.secret,
                cert_manager: a.volume.cert_manager,
            },
        ),
        T::CertManager(a) => (
            "cert-manager",
            a.common,
            tls(&a.tls),
            Target::CertManager {
                namespace: a.namespace,
                secret: a.secret,
            },
        ),
        T::Client(a) => (
            "client",
            a.common,
            (a.mode.into(), false, None),
            Target::Client {
                host: a.host,
                port: a.port,
                http_port: a.http_port,
            },
        ),
    };
    let opts = Common {
        dir: common.dir,
        mode,
        internal,
        sni,
        deps,
    };
    let made = export::export(&opts, &target, now)?;
    output::print_recovery(&mut io::stderr(), &made.recovery)?;
    for w in &made.warnings {
        let _ = writeln!(io::stderr(), "warning: {}", output::clean(w));
    }
    match (&common.out, &made.stdout) {
        (None, Some(text)) => quiet_on_closed_pipe(io::stdout().lock().write_all(text.as_bytes()))?,
        (None, None) => {
            return Err(Usage(format!(
                "export {name} writes several files: pass --out DIR (nothing was written)"
            ))
            .into());
        }
        (Some(out), _) => {
            let written = made.write(out, common.force)?;
            quiet_on_closed_pipe(output::print_export(out, &made, &written))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_export_kafka(a: cli::KafkaArgs, now: OffsetDateTime) -> anyhow::Result<ExitCode> {
    use milvus_certs::export::{KafkaOptions, kafka};
    // Nothing is made unless it can be written.
    let Some(out) = a.common.out.clone() else {
        return Err(Usage(
            "export kafka writes several files (binary key stores among them): pass --out DIR (nothing was written)".into(),
        )
        .into());
    };
    let opts = KafkaOptions {
        dir: a.common.dir,
        password_file: a.password_file,
        brokers: a.broker,
    };
    let made = kafka(&opts, now)?;
    output::print_recovery(&mut io::stderr(), &made.recovery)?;
    for w in &made.warnings {
        let _ = writeln!(io::stderr(), "warning: {}", output::clean(w));
    }
    let written = made.write(&out, a.common.force)?;
    quiet_on_closed_pipe(output::print_export(&out, &made, &written))?;
    Ok(ExitCode::SUCCESS)
}

fn run_completions(shell: cli::Shell) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "milvus-certs", &mut buf);
    if shell == cli::Shell::Bash {
        // clap_complete's bash script spells the state of a hyphenated
        // program's subcommands two ways (`milvus__certs__subcmd__export` in
        // its loop, `milvus__subcmd__certs__subcmd__export` in its case arms),
        // so nothing after a subcommand completed: clap-rs/clap#6421, #6529.
        // Spell the arms as the loop does; a no-op once that is fixed.
        buf = String::from_utf8_lossy(&buf)
            .replace("milvus__subcmd__certs", "milvus__certs")
            .into_bytes();
    }
    quiet_on_closed_pipe(io::stdout().lock().write_all(&buf))?;
    Ok(ExitCode::SUCCESS)
}

fn run_man(out: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    // The pages cross-reference each other by subcommand; `help` gets none.
    let cmd = Cli::command().disable_help_subcommand(true);
    match out {
        None => {
            let buf = man::render(cmd).context("cannot render the man page")?;
            quiet_on_closed_pipe(io::stdout().lock().write_all(&buf))?;
        }
        Some(dir) => {
            man::write_all(cmd, &dir)?;
            #[allow(clippy::print_stdout)] // the binary's report
            {
                println!("Wrote the man pages into {}", dir.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
