//! The command line: the clap types, one file per command family, each
//! with the conversion of its options into the library's. Values from a
//! fixed list (key types, profiles, modes) are clap [`ValueEnum`]s, each
//! converted to its library type by an exhaustive `match` both ways, so that
//! a new library variant does not compile until the command line has it;
//! other values are checked by the library, so that its errors (one line,
//! naming the option) are the same for everyone.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use milvus_certs::export::TlsMode;
use milvus_certs::{KeyType, Profile};

mod add;
mod doctor;
pub(crate) mod export;
mod generate;
mod inspect;
mod renew;
mod schedule;

pub(crate) use add::AddArgs;
pub(crate) use doctor::DoctorArgs;
pub(crate) use export::ExportTarget;
pub(crate) use generate::GenArgs;
pub(crate) use inspect::InspectArgs;
pub(crate) use renew::RenewArgs;
pub(crate) use schedule::ScheduleArgs;

/// Make and maintain the TLS files a Milvus deployment needs.
///
/// Replaces the gen.sh and renew.sh scripts of the Milvus guide "Encryption
/// in Transit": no OpenSSL needed, and the client certificate works with
/// tlsMode 2 (mutual TLS).
#[derive(Debug, Parser)]
#[command(name = "milvus-certs", version, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

impl Cli {
    /// Parses the command line, or exits with clap's usage error (status 2).
    pub(crate) fn parse_or_exit() -> Cli {
        Cli::try_parse().unwrap_or_else(|e| with_close_option(e).exit())
    }
}

/// Adds "a similar argument exists" to an unknown `--option` clap found no
/// suggestion for. clap's suggestions feature is on, but it ranks names by
/// Jaro similarity above 0.7, and a transposition in a short name scores
/// far below that (`--dri` against `--dir`: 0.56), so the most common typo got
/// no hint. The optimal string alignment distance counts a transposition
/// as one edit: at most 1 for names of up to four letters, 2 beyond.
fn with_close_option(mut err: clap::Error) -> clap::Error {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::UnknownArgument || err.get(ContextKind::SuggestedArg).is_some() {
        return err;
    }
    let Some(ContextValue::String(given)) = err.get(ContextKind::InvalidArg) else {
        return err;
    };
    let Some(typed) = given.strip_prefix("--") else {
        return err;
    };
    let typed = typed.split('=').next().unwrap_or_default().to_string();
    // The subcommand the option was given to: the words before it that name one.
    let root = Cli::command();
    let mut cmd = &root;
    for word in std::env::args().skip(1) {
        if word.starts_with(&format!("--{typed}")) {
            break;
        }
        if let Some(sub) = cmd.find_subcommand(&word) {
            cmd = sub;
        }
    }
    let limit = if typed.chars().count() <= 4 { 1 } else { 2 };
    let best = cmd
        .get_arguments()
        .filter_map(|a| a.get_long())
        .chain(["help"])
        .map(|long| (strsim::osa_distance(&typed, long), long))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d);
    if let Some((_, long)) = best {
        err.insert(
            ContextKind::SuggestedArg,
            ContextValue::String(format!("--{long}")),
        );
    }
    err
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Make a new CA, server and client certificates: the seven files of gen.sh
    #[command(after_help = generate::EXAMPLES)]
    Gen(GenArgs),
    /// Make new server and client keys and certificates from the existing CA (renew.sh)
    #[command(after_help = renew::EXAMPLES)]
    Renew(RenewArgs),
    /// Add a certificate from the same CA for a service next to Milvus (etcd, S3, Kafka): NAME.pem, NAME.key
    #[command(after_help = add::EXAMPLES)]
    Add(AddArgs),
    /// Check certificates, keys and live servers: expiry, key match, chain, purpose, names
    #[command(after_help = inspect::EXAMPLES)]
    Inspect(InspectArgs),
    /// Check a Milvus configuration's TLS settings (milvus.yaml, Helm values, operator resource, Compose)
    #[command(after_help = doctor::EXAMPLES)]
    Doctor(DoctorArgs),
    /// Print (or write) a systemd timer and a crontab line that renew when due
    #[command(after_help = schedule::EXAMPLES)]
    Schedule(ScheduleArgs),
    /// Write files for a deployment (Compose, Kubernetes, Helm, cert-manager) or a client
    #[command(subcommand, after_help = export::EXAMPLES)]
    Export(ExportTarget),
    /// Print a shell completion script
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell
        #[arg(value_name = "SHELL")]
        shell: Shell,
    },
    /// Print the man page (roff), or write one page per subcommand
    #[command(after_help = MAN_EXAMPLES)]
    Man {
        /// Write milvus-certs.1 and a page for every subcommand into DIR (created if missing)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// A usage error found here rather than by clap or the library.
#[derive(Debug)]
pub(crate) struct Usage(pub(crate) String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Whether `err` is a usage error: ours, or a value the library refused.
pub(crate) fn is_usage_error(err: &anyhow::Error) -> bool {
    use milvus_certs::Error as E;
    err.downcast_ref::<Usage>().is_some()
        || matches!(
            err.downcast_ref::<E>(),
            Some(E::InvalidValue { .. } | E::NameNotInCert { .. })
        )
}

/// Shells `completions` can write for.
pub(crate) use clap_complete::Shell;

/// The completion script for `shell`.
pub(crate) fn completions(shell: Shell) -> Vec<u8> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "milvus-certs", &mut buf);
    if shell == Shell::Bash {
        // clap_complete's bash script spells the state of a hyphenated
        // program's subcommands two ways (`milvus__certs__subcmd__export` in
        // its loop, `milvus__subcmd__certs__subcmd__export` in its case arms),
        // so nothing after a subcommand completed: clap-rs/clap#6421, #6529.
        // Spell the arms as the loop does; a no-op once that is fixed.
        buf = String::from_utf8_lossy(&buf)
            .replace("milvus__subcmd__certs", "milvus__certs")
            .into_bytes();
    }
    buf
}

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  milvus-certs completions bash > /etc/bash_completion.d/milvus-certs
  milvus-certs completions zsh > \"${fpath[1]}/_milvus-certs\"
  milvus-certs completions fish > ~/.config/fish/completions/milvus-certs.fish";

const MAN_EXAMPLES: &str = "\
Examples:
  milvus-certs man | man -l -
  milvus-certs man --out /usr/local/share/man/man1 && mandb";

// The value lists. Their variants carry no doc comments on purpose: clap
// would list them with their help in `--help`, which the value names and
// the option's own help already say.

/// `--key-type`: a [`KeyType`], by the name the library gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyTypeArg {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcdsaP256,
    EcdsaP384,
    Ed25519,
}

impl From<KeyTypeArg> for KeyType {
    fn from(k: KeyTypeArg) -> KeyType {
        match k {
            KeyTypeArg::Rsa2048 => KeyType::Rsa2048,
            KeyTypeArg::Rsa3072 => KeyType::Rsa3072,
            KeyTypeArg::Rsa4096 => KeyType::Rsa4096,
            KeyTypeArg::EcdsaP256 => KeyType::EcdsaP256,
            KeyTypeArg::EcdsaP384 => KeyType::EcdsaP384,
            KeyTypeArg::Ed25519 => KeyType::Ed25519,
        }
    }
}

/// The way back: a key type the library adds fails to compile here until
/// `--key-type` offers it.
impl From<KeyType> for KeyTypeArg {
    fn from(k: KeyType) -> KeyTypeArg {
        match k {
            KeyType::Rsa2048 => KeyTypeArg::Rsa2048,
            KeyType::Rsa3072 => KeyTypeArg::Rsa3072,
            KeyType::Rsa4096 => KeyTypeArg::Rsa4096,
            KeyType::EcdsaP256 => KeyTypeArg::EcdsaP256,
            KeyType::EcdsaP384 => KeyTypeArg::EcdsaP384,
            KeyType::Ed25519 => KeyTypeArg::Ed25519,
        }
    }
}

/// `add --profile`: a [`Profile`], by the name the library gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProfileArg {
    Server,
    Client,
    Peer,
}

impl From<ProfileArg> for Profile {
    fn from(p: ProfileArg) -> Profile {
        match p {
            ProfileArg::Server => Profile::Server,
            ProfileArg::Client => Profile::Client,
            ProfileArg::Peer => Profile::Peer,
        }
    }
}

/// The way back, so that a new profile does not compile without `--profile`.
impl From<Profile> for ProfileArg {
    fn from(p: Profile) -> ProfileArg {
        match p {
            Profile::Server => ProfileArg::Server,
            Profile::Client => ProfileArg::Client,
            Profile::Peer => ProfileArg::Peer,
        }
    }
}

/// `--mode 1|2`: Milvus's `tlsMode`, as its configuration spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ModeArg {
    #[value(name = "1")]
    OneWay,
    #[value(name = "2")]
    Mutual,
}

impl From<ModeArg> for TlsMode {
    fn from(m: ModeArg) -> TlsMode {
        match m {
            ModeArg::OneWay => TlsMode::OneWay,
            ModeArg::Mutual => TlsMode::Mutual,
        }
    }
}

/// The way back, so that a new mode does not compile without `--mode`.
impl From<TlsMode> for ModeArg {
    fn from(m: TlsMode) -> ModeArg {
        match m {
            TlsMode::OneWay => ModeArg::OneWay,
            TlsMode::Mutual => ModeArg::Mutual,
        }
    }
}

/// The command line as it was given, with `extra` added, quoted for the
/// shell: a fix that works when copied (`--out deploy` for a missing
/// `--out`).
pub(crate) fn as_given_with(extra: &[&str]) -> String {
    let words = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .chain(extra.iter().map(|w| w.to_string()));
    std::iter::once("milvus-certs".to_string())
        .chain(words.map(|w| milvus_certs::shell_quote(&w)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelled(v: impl ValueEnum) -> String {
        v.to_possible_value()
            .map(|p| p.get_name().to_string())
            .unwrap_or_default()
    }

    /// Each value is spelled on the command line as the library names it
    /// (so `--help`, the man pages and the library's messages agree), and
    /// converts back to itself.
    #[test]
    fn values_are_named_as_the_library_names_them() {
        for k in KeyType::ALL {
            assert_eq!(spelled(KeyTypeArg::from(k)), k.name());
            assert_eq!(KeyType::from(KeyTypeArg::from(k)), k);
        }
        assert_eq!(KeyTypeArg::value_variants().len(), KeyType::ALL.len());
        for p in Profile::ALL {
            assert_eq!(spelled(ProfileArg::from(p)), p.name());
            assert_eq!(Profile::from(ProfileArg::from(p)), p);
        }
        assert_eq!(ProfileArg::value_variants().len(), Profile::ALL.len());
        for m in [TlsMode::OneWay, TlsMode::Mutual] {
            assert_eq!(spelled(ModeArg::from(m)), m.value().to_string());
            assert_eq!(TlsMode::from(ModeArg::from(m)), m);
        }
    }
}
