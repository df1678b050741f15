//! A small YAML writer for the files `export` makes: typed values in, block
//! style out. Every string is double-quoted (YAML 1.2 section 7.3.1), so no
//! value is ever read back as a number, boolean or null ("Norway problem"),
//! and the output does not depend on a YAML library (serde_yaml is archived).

/// A YAML value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// A string, always written double-quoted.
    Str(String),
    /// An integer.
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
    /// A mapping; keys keep their order.
    Map(Vec<(String, Value)>),
    /// A sequence.
    Seq(Vec<Value>),
    /// A multi-line string written as a literal block scalar (`|`), such as
    /// a whole YAML file held in a Helm value.
    Block(String),
}

/// A string value.
pub(crate) fn s(v: impl Into<String>) -> Value {
    Value::Str(v.into())
}

/// A mapping from `(key, value)` pairs.
pub(crate) fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// A YAML document: `value` rendered, ending with a newline.
pub(crate) fn document(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Map(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Seq(s) if !s.is_empty() => write_seq(&mut out, s, 0),
        v => {
            out.push_str(&scalar(v, 0));
            out.push('\n');
        }
    }
    out
}

/// Several documents in one stream, separated by `---` (YAML 1.2 9.2).
pub(crate) fn stream(values: &[Value]) -> String {
    values
        .iter()
        .map(document)
        .collect::<Vec<_>>()
        .join("---\n")
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::Map(m) if !m.is_empty()) || matches!(v, Value::Seq(s) if !s.is_empty())
}

/// `key: value` lines at `indent`; nested collections go on the next lines.
fn write_map(out: &mut String, m: &[(String, Value)], indent: usize) {
    for (i, (k, v)) in m.iter().enumerate() {
        // The first entry of a map inside a sequence sits after its "- ".
        if i > 0 || out.is_empty() || out.ends_with('\n') {
            pad(out, indent);
        }
        out.push_str(&key(k));
        out.push(':');
        write_value(out, v, indent);
    }
}

/// The part after `key:` (or `-`): a scalar on the same line, or a
/// collection on the following ones.
fn write_value(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Map(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2);
        }
        // A sequence under a key is indented like Kubernetes' own YAML.
        Value::Seq(s) if !s.is_empty() => {
            out.push('\n');
            write_seq(out, s, indent + 2);
        }
        v => {
            out.push(' ');
            out.push_str(&scalar(v, indent + 2));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, s: &[Value], indent: usize) {
    for v in s {
        pad(out, indent);
        out.push('-');
        match v {
            Value::Map(m) if !m.is_empty() => {
                out.push(' ');
                write_map(out, m, indent + 2);
            }
            v if is_collection(v) => write_value(out, v, indent),
            v => {
                out.push(' ');
                out.push_str(&scalar(v, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// A scalar; a block scalar's lines are indented to `indent`.
fn scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::Str(s) => quoted(s),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Map(_) => "{}".to_string(),
        Value::Seq(_) => "[]".to_string(),
        Value::Block(text) => block(text, indent),
    }
}

/// A literal block scalar (YAML 1.2 8.1.2). Lines keep their content; the
/// chomping indicator makes the value end exactly as `text` does, and an
/// explicit indentation indicator is given when the first line starts with
/// a space (otherwise the parser would take that space as indentation).
fn block(text: &str, indent: usize) -> String {
    if text.is_empty() || text.chars().any(|c| c.is_control() && c != '\n') {
        return quoted(text);
    }
    let mut header = String::from("|");
    if text.starts_with(' ') || text.starts_with('\n') {
        header.push('2');
    }
    let chomp = if !text.ends_with('\n') {
        "-"
    } else if text.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    header.push_str(chomp);
    let mut out = header;
    let body = text.strip_suffix('\n').unwrap_or(text);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
    out
}

/// A key: plain when it cannot be mistaken for anything but a string.
fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain { k.to_string() } else { quoted(k) }
}

/// A double-quoted scalar with the escapes YAML 1.2 section 5.7 defines.
pub(crate) fn quoted(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            // Control characters, and the line and paragraph separators and
            // BOM that YAML treats specially.
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                q.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_always_quoted_and_escaped() {
        assert_eq!(quoted("true"), "\"true\"");
        assert_eq!(quoted("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(quoted("\u{1}"), "\"\\u0001\"");
    }

    #[test]
    fn nested_maps_and_sequences() {
        let v = map([
            ("a", map([("b", Value::Int(1)), ("yes", Value::Bool(true))])),
            (
                "list",
                Value::Seq(vec![
                    map([("name", s("certs")), ("x", map([("y", s("z"))]))]),
                    s("plain"),
                ]),
            ),
            ("empty", Value::Seq(vec![])),
        ]);
        assert_eq!(
            document(&v),
            "a:\n  b: 1\n  \"yes\": true\nlist:\n  - name: \"certs\"\n    x:\n      \"y\": \"z\"\n  - \"plain\"\nempty: []\n"
        );
    }

    #[test]
    fn blocks_keep_their_text() {
        let v = map([("f", Value::Block("a: 1\n  b\n".into()))]);
        assert_eq!(document(&v), "f: |\n  a: 1\n    b\n");
        let v = map([("f", Value::Block(" lead\nno newline".into()))]);
        assert_eq!(document(&v), "f: |2-\n   lead\n  no newline\n");
    }
}
