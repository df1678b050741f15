//! Quoting for POSIX shells, in one place: every command we suggest in a
//! message or write into a script must work when copied.

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
