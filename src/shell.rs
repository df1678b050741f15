//! Quoting for POSIX shells, in one place: every command we suggest in a
//! message or write into a script must work when copied.

use std::path::{Component, Path};

/// A word for a POSIX shell: as is when it has nothing the shell would
/// interpret, else in single quotes (XCU 2.2.2), a `'` written as `'\''`.
pub fn quote(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=,+@".contains(c));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// Whether `dir` is the current directory as written (`.`, `./` or empty),
/// so a suggested command needs no `--dir`.
pub fn is_current(dir: &Path) -> bool {
    dir.as_os_str().is_empty() || dir.components().all(|c| c == Component::CurDir)
}

/// `milvus-certs SUBCOMMAND [--dir DIR] ARGS...`, each word quoted for the
/// shell; `--dir` only when `dir` is not the current directory.
pub fn milvus_certs(subcommand: &str, dir: &Path, args: &[&str]) -> String {
    let mut words = vec!["milvus-certs".to_string(), subcommand.to_string()];
    if !is_current(dir) {
        words.push("--dir".into());
        words.push(quote(&dir.to_string_lossy()));
    }
    words.extend(args.iter().map(|a| quote(a)));
    words.join(" ")
}

/// `path` made absolute (canonical when it exists).
pub fn absolute(path: &std::path::Path) -> std::path::PathBuf {
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
}
