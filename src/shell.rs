//! Quoting for POSIX shells, systemd and cron, in one place: every command
//! we suggest in a message or write into a script, a unit or a crontab must
//! work when copied.

use std::path::{Component, Path};

/// A word for a POSIX shell: as is when it has nothing the shell would
/// interpret, else in single quotes (XCU 2.2.2), a `'` written as `'\''`.
pub fn quote(w: &str) -> String {
    if is_plain(w) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// Whether `w` needs no quoting: not empty, and only characters no shell
/// (nor systemd's command line) gives a meaning.
fn is_plain(w: &str) -> bool {
    !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=,+@".contains(c))
}

/// A word for systemd's ExecStart (systemd.service "Command lines"): double
/// quotes with C-style escapes, and `%` doubled (specifiers, systemd.unit).
pub(crate) fn systemd_word(w: &str) -> String {
    let plain = is_plain(w);
    let w = w.replace('%', "%%");
    if plain {
        return w;
    }
    let mut q = String::from("\"");
    for c in w.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '$' => q.push_str("$$"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// A word for a POSIX shell (cron runs its command with `sh`): single quotes,
/// and `%` escaped, which cron would otherwise turn into a newline (crontab(5)).
pub(crate) fn cron_word(w: &str) -> String {
    quote(w).replace('%', r"\%")
}

/// Whether `dir` is the current directory as written (`.`, `./` or empty),
/// so a suggested command needs no `--dir`.
pub(crate) fn is_current(dir: &Path) -> bool {
    dir.as_os_str().is_empty() || dir.components().all(|c| c == Component::CurDir)
}

/// `milvus-certs SUBCOMMAND [--dir DIR] ARGS...`, each word quoted for the
/// shell; `--dir` only when `dir` is not the current directory.
pub(crate) fn milvus_certs(subcommand: &str, dir: &Path, args: &[&str]) -> String {
    let mut words = vec!["milvus-certs".to_string(), subcommand.to_string()];
    if !is_current(dir) {
        words.push("--dir".into());
        words.push(quote(&dir.to_string_lossy()));
    }
    words.extend(args.iter().map(|a| quote(a)));
    words.join(" ")
}

/// `path` made absolute (canonical when it exists).
pub(crate) fn absolute(path: &std::path::Path) -> std::path::PathBuf {
    path.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_carry_dir_only_when_needed() {
        assert_eq!(
            milvus_certs("renew", Path::new("."), &["--ca"]),
            "milvus-certs renew --ca"
        );
        assert_eq!(
            milvus_certs("renew", Path::new("my certs"), &["--san", "10.0.0.1"]),
            "milvus-certs renew --dir 'my certs' --san 10.0.0.1"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn systemd_quoting() {
        assert_eq!(systemd_word("/usr/bin/x"), "/usr/bin/x");
        assert_eq!(systemd_word("a b"), "\"a b\"");
        assert_eq!(systemd_word("say \"hi\" 100%"), "\"say \\\"hi\\\" 100%%\"");
        assert_eq!(systemd_word("$HOME"), "\"$$HOME\"");
    }

    #[test]
    fn cron_quoting() {
        assert_eq!(cron_word("/usr/bin/x"), "/usr/bin/x");
        assert_eq!(
            cron_word("docker compose restart"),
            "'docker compose restart'"
        );
        assert_eq!(cron_word("it's 100%"), r"'it'\''s 100\%'");
    }
}
