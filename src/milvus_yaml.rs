//! `export compose --milvus-config`: a copy of the user's full `milvus.yaml`
//! with the TLS settings set and every other line as it was.
//!
//! Why a full copy: Milvus reads its configuration directory's
//! `milvus.yaml`, `default.yaml` and `user.yaml` in that order only since
//! 2.4 (`defaultYaml` in pkg/util/paramtable/base_table.go); the 2.3 server
//! reads `milvus.yaml` alone, so a `user.yaml` fragment does nothing there.
//!
//! How: the text is edited line by line, as block-style YAML (what Milvus
//! publishes): an existing key keeps its line, indentation and comment and
//! gets the new value; a missing key is added at the end of its parent
//! mapping. Then the result is parsed (yaml-rust2) and compared with the
//! input's document with only those keys set; anything else (flow style,
//! anchors, a key that is not a mapping) is refused with the reason, so the
//! copy never differs from the input in a setting we did not mean to change.

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

use crate::error::{Error, Result};
use crate::yaml::Value;

const EXPECTED: &str = "a Milvus configuration file (YAML)";

/// Every scalar of a mapping `Value`, as (key path, value), in order.
pub(crate) fn flatten(v: &Value) -> Vec<(Vec<String>, Value)> {
    fn walk(prefix: &mut Vec<String>, v: &Value, out: &mut Vec<(Vec<String>, Value)>) {
        match v {
            Value::Map(m) => {
                for (k, v) in m {
                    prefix.push(k.clone());
                    walk(prefix, v, out);
                    prefix.pop();
                }
            }
            other => out.push((prefix.clone(), other.clone())),
        }
    }
    let mut out = Vec::new();
    walk(&mut Vec::new(), v, &mut out);
    out
}

/// Parses `text` (read from `path`) as one YAML document holding a mapping:
/// a syntax error is one error naming the file, line and column.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Yaml> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        let m = e.marker();
        Error::bad_file(
            path,
            EXPECTED,
            format!(
                "line {}, column {}: {}; fix that line, or start again from the milvus.yaml \
                 published with your Milvus release",
                m.line(),
                m.col() + 1,
                e.info()
            ),
        )
    })?;
    match docs.as_slice() {
        [doc @ Yaml::Hash(_)] => Ok(doc.clone()),
        [] => Err(Error::bad_file(
            path,
            EXPECTED,
            "it is empty; pass the full milvus.yaml of your Milvus release",
        )),
        [_] => Err(Error::bad_file(
            path,
            EXPECTED,
            "its top level is not a mapping of settings; pass the full milvus.yaml of your Milvus release",
        )),
        _ => Err(Error::bad_file(
            path,
            EXPECTED,
            format!(
                "it holds {} YAML documents and Milvus reads one; pass the milvus.yaml of your Milvus release",
                docs.len()
            ),
        )),
    }
}

/// `text` (the contents of `path`) with each of `settings` set, comments,
/// order and every other value kept. Fails, naming the file, when the
/// result would not be exactly the input's document with these keys set.
pub(crate) fn set_keys(
    path: &Path,
    text: &str,
    settings: &[(Vec<String>, Value)],
) -> Result<String> {
    let original = parse(path, text)?;
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect();
    if text.ends_with('\n') {
        lines.pop();
    }
    let mut expected = original;
    for (keys, value) in settings {
        let refuse = |reason: Unsettable| {
            Error::bad_file(
                path,
                EXPECTED,
                format!(
                    "{reason}; milvus-certs sets `{}` only in block-style YAML: edit that part, \
                     or use the user.yaml fragment (export compose without --milvus-config) \
                     with Milvus 2.4 or later",
                    keys.join(".")
                ),
            )
        };
        set_line(&mut lines, keys, &scalar(value)).map_err(refuse)?;
        set_tree(&mut expected, keys, to_yaml(value)).map_err(refuse)?;
    }
    let mut out = String::with_capacity(text.len() + 512);
    for l in &lines {
        out.push_str(l);
        out.push_str(eol);
    }
    let same = YamlLoader::load_from_str(&out)
        .ok()
        .is_some_and(|docs| docs.len() == 1 && docs[0] == expected);
    if !same {
        let keys: Vec<String> = settings.iter().map(|(k, _)| k.join(".")).collect();
        return Err(Error::bad_file(
            path,
            EXPECTED,
            format!(
                "setting {} in its text would change other settings too (flow style, anchors or \
                 an unusual layout); write those sections in block style, or use the user.yaml \
                 fragment (export compose without --milvus-config) with Milvus 2.4 or later",
                keys.join(", ")
            ),
        ));
    }
    Ok(out)
}

/// A scalar as YAML text: strings double-quoted (see [`crate::yaml::quoted`]).
fn scalar(v: &Value) -> String {
    match v {
        Value::Str(s) => crate::yaml::quoted(s),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        // flatten() yields scalars only; any other value would be a bug.
        _ => String::from("null"),
    }
}

fn to_yaml(v: &Value) -> Yaml {
    match v {
        Value::Str(s) => Yaml::String(s.clone()),
        Value::Int(n) => Yaml::Integer(*n),
        Value::Bool(b) => Yaml::Boolean(*b),
        _ => Yaml::Null,
    }
}

/// Sets `keys` to `value` in a parsed document, in place for an existing
/// key (order matters to the comparison) and at the end of its mapping
/// for a new one, as [`set_line`] does in the text.
fn set_tree(doc: &mut Yaml, keys: &[String], value: Yaml) -> std::result::Result<(), Unsettable> {
    let Some((last, parents)) = keys.split_last() else {
        return Ok(());
    };
    let mut node = doc;
    for (depth, k) in parents.iter().enumerate() {
        let Yaml::Hash(h) = node else {
            return Err(Unsettable::NotAMapping(keys[..depth].join(".")));
        };
        let key = Yaml::String(k.clone());
        if !h.contains_key(&key) {
            h.insert(key.clone(), Yaml::Hash(Default::default()));
        }
        let child = h.get_mut(&key).expect("just inserted");
        if *child == Yaml::Null {
            *child = Yaml::Hash(Default::default());
        }
        node = child;
    }
    let Yaml::Hash(h) = node else {
        return Err(Unsettable::NotAMapping(parents.join(".")));
    };
    let key = Yaml::String(last.clone());
    match h.get_mut(&key) {
        Some(v) => *v = value,
        None => {
            h.insert(key, value);
        }
    }
    Ok(())
}

/// Why a key cannot be set where it must go: a parent key whose value is
/// not a mapping of settings.
#[derive(Debug, PartialEq, Eq)]
enum Unsettable {
    /// In the parsed document: this dotted key.
    NotAMapping(String),
    /// In the text: the 1-based line of the dotted key, and its inline value.
    NotABlock {
        line: usize,
        key: String,
        value: String,
    },
}

impl std::fmt::Display for Unsettable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsettable::NotAMapping(key) => write!(f, "`{key}` is not a mapping"),
            Unsettable::NotABlock { line, key, value } => {
                write!(f, "line {line}: `{key}` is `{value}`, not a block mapping")
            }
        }
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A line that is neither blank nor only a comment.
fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The key of a `key: value` line and the byte offset just after its colon.
fn key_of(line: &str) -> Option<(String, usize)> {
    let ind = indent_of(line);
    let rest = &line[ind..];
    let (key, after) = if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let close = rest[1..].find(q)? + 1;
        (rest[1..close].to_string(), close + 1)
    } else {
        let colon = rest
            .char_indices()
            .find(|&(i, c)| c == ':' && rest[i + 1..].chars().next().is_none_or(|n| n == ' '))?
            .0;
        let key = rest[..colon].trim_end();
        let plain = !key.is_empty()
            && !key.starts_with(['-', '[', '{', '&', '*', '!', '|', '>', '%', '@', '`', '?'])
            && !key.contains(" #");
        if !plain {
            return None;
        }
        (key.to_string(), colon)
    };
    let tail = &rest[after..];
    let spaces = tail.len() - tail.trim_start_matches(' ').len();
    tail[spaces..].strip_prefix(':')?;
    Some((key, ind + after + spaces + 1))
}

/// Splits what follows a key's colon into the value and a trailing comment.
fn value_and_comment(rest: &str) -> (&str, Option<&str>) {
    let body = rest.trim_start();
    let lead = rest.len() - body.len();
    // A quoted value ends at its closing quote; a comment may follow it.
    let scan_from = match body.chars().next() {
        Some('"') => {
            let mut escaped = false;
            body.char_indices()
                .skip(1)
                .find(|&(_, c)| {
                    let end = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    end
                })
                .map_or(body.len(), |(i, _)| i + 1)
        }
        Some('\'') => body[1..].find('\'').map_or(body.len(), |i| i + 2),
        _ => 0,
    };
    let hash = body[scan_from..]
        .char_indices()
        .find(|&(i, c)| {
            c == '#' && (i + scan_from == 0 || body[..i + scan_from].ends_with([' ', '\t']))
        })
        .map(|(i, _)| i + scan_from);
    match hash {
        Some(h) => (body[..h].trim_end(), Some(&rest[lead + h..])),
        None => (body.trim_end(), None),
    }
}

/// The end (exclusive) of the block of the key on line `at`, whose indent
/// is `ind`: the next content line indented less, or as much and not a
/// sequence entry (`- `, which may sit at its key's indent).
fn block_end(lines: &[String], at: usize, ind: usize, limit: usize) -> usize {
    (at + 1..limit)
        .find(|&j| {
            let l = &lines[j];
            is_content(l) && {
                let i = indent_of(l);
                i < ind || (i == ind && !l[i..].starts_with('-'))
            }
        })
        .unwrap_or(limit)
}

/// Sets `keys` to `value` (YAML text) in block-style `lines`.
fn set_line(
    lines: &mut Vec<String>,
    keys: &[String],
    value: &str,
) -> std::result::Result<(), Unsettable> {
    let (mut start, mut end) = (0, lines.len());
    // The indent of the mapping we are in; None for a key with no children yet.
    let mut indent = lines[start..end]
        .iter()
        .find(|l| is_content(l))
        .map(|l| indent_of(l));
    let mut parent_line: Option<usize> = None;
    for (depth, k) in keys.iter().enumerate() {
        let last = depth + 1 == keys.len();
        let found = indent.and_then(|ind| {
            (start..end).find(|&i| {
                is_content(&lines[i])
                    && indent_of(&lines[i]) == ind
                    && key_of(&lines[i]).is_some_and(|(key, _)| key == *k)
            })
        });
        let Some(i) = found else {
            // Insert the rest after the mapping's last content line (or
            // right after its parent's line), or at the end of the file.
            let ind = indent.unwrap_or_else(|| parent_line.map_or(0, |p| indent_of(&lines[p]) + 2));
            let at = (start..end)
                .rev()
                .find(|&j| is_content(&lines[j]))
                .map_or(parent_line.map_or(lines.len(), |p| p + 1), |j| j + 1);
            let mut new = Vec::new();
            if depth == 0 {
                new.push(String::new());
            }
            for (d, key) in keys[depth..].iter().enumerate() {
                let pad = " ".repeat(ind + 2 * d);
                if depth + d + 1 == keys.len() {
                    new.push(format!("{pad}{key}: {value}"));
                } else {
                    new.push(format!("{pad}{key}:"));
                }
            }
            lines.splice(at..at, new);
            return Ok(());
        };
        let (_, after_colon) = key_of(&lines[i]).expect("matched above");
        let ind = indent_of(&lines[i]);
        let stop = block_end(lines, i, ind, end);
        let (inline, comment) = value_and_comment(&lines[i][after_colon..]);
        let has_children = (i + 1..stop).any(|j| is_content(&lines[j]));
        if last {
            let comment = comment.map(|c| format!(" {c}")).unwrap_or_default();
            lines[i] = format!("{}: {value}{comment}", &lines[i][..after_colon - 1]);
            if has_children {
                // The old value was a nested block: it is replaced.
                let last_child = (i + 1..stop)
                    .rev()
                    .find(|&j| is_content(&lines[j]))
                    .unwrap_or(i);
                lines.drain(i + 1..=last_child);
            }
            return Ok(());
        }
        if !inline.is_empty() && inline != "~" && inline != "null" {
            return Err(Unsettable::NotABlock {
                line: i + 1,
                key: keys[..=depth].join("."),
                value: inline.to_string(),
            });
        }
        start = i + 1;
        end = stop;
        indent = (start..end)
            .find(|&j| is_content(&lines[j]))
            .map(|j| indent_of(&lines[j]))
            .filter(|&c| c > ind);
        parent_line = Some(i);
        if !inline.is_empty() {
            // `key: null` becomes `key:` with children.
            lines[i] = format!(
                "{}:{}",
                &lines[i][..after_colon - 1],
                comment.map(|c| format!(" {c}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{map, s};

    fn settings() -> Vec<(Vec<String>, Value)> {
        flatten(&map([
            ("proxy", map([("http", map([("port", Value::Int(8080))]))])),
            (
                "common",
                map([("security", map([("tlsMode", Value::Int(1))]))]),
            ),
            (
                "tls",
                map([
                    ("serverPemPath", s("/milvus/tls/server.pem")),
                    ("caPemPath", s("/milvus/tls/ca.pem")),
                ]),
            ),
        ]))
    }

    #[test]
    fn existing_keys_keep_their_line_and_comment_new_ones_join_their_mapping() {
        let input = "\
# Milvus config
proxy:
  port: 19530 # gRPC
  http:
    enabled: true # REST
  # a comment that stays here
  grpc:
    x: 1
common:
  security:
    authorizationEnabled: false
    tlsMode: 0 # 0, 1 or 2
tls:
  serverPemPath: server.pem
  caPemPath:  ca.pem   # the CA
other: [1, 2]
";
        let out = set_keys(Path::new("m.yaml"), input, &settings()).unwrap();
        assert_eq!(
            out,
            "\
# Milvus config
proxy:
  port: 19530 # gRPC
  http:
    enabled: true # REST
    port: 8080
  # a comment that stays here
  grpc:
    x: 1
common:
  security:
    authorizationEnabled: false
    tlsMode: 1 # 0, 1 or 2
tls:
  serverPemPath: \"/milvus/tls/server.pem\"
  caPemPath: \"/milvus/tls/ca.pem\" # the CA
other: [1, 2]
"
        );
    }

    #[test]
    fn missing_sections_are_appended() {
        let out = set_keys(
            Path::new("m.yaml"),
            "etcd:\n  endpoints: x\nproxy:\n",
            &settings(),
        )
        .unwrap();
        assert_eq!(
            out,
            "etcd:\n  endpoints: x\nproxy:\n  http:\n    port: 8080\n\ncommon:\n  security:\n    tlsMode: 1\n\ntls:\n  serverPemPath: \"/milvus/tls/server.pem\"\n  caPemPath: \"/milvus/tls/ca.pem\"\n"
        );
    }

    #[test]
    fn crlf_and_sequences_at_key_indent_are_kept() {
        let input = "names:\r\n- a\r\n- b\r\ntls:\r\n  caPemPath: x\r\n";
        let out = set_keys(Path::new("m.yaml"), input, &settings()).unwrap();
        assert!(
            out.starts_with("names:\r\n- a\r\n- b\r\ntls:\r\n"),
            "{out:?}"
        );
        assert!(!out.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn flow_style_and_bad_yaml_are_one_clear_error() {
        let e = set_keys(Path::new("m.yaml"), "tls: {caPemPath: x}\n", &settings())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.yaml") && e.contains("`tls` is `{caPemPath: x}`, not a block mapping"),
            "{e}"
        );
        let e = set_keys(Path::new("m.yaml"), "a: 1\nb: [\nc: 2\n", &settings())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("m.yaml is not a Milvus configuration file (YAML): line "),
            "{e}"
        );
        let e = set_keys(Path::new("m.yaml"), "", &settings())
            .unwrap_err()
            .to_string();
        assert!(e.contains("it is empty"), "{e}");
        let e = set_keys(Path::new("m.yaml"), "- a\n", &settings())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a mapping"), "{e}");
    }

    #[test]
    fn a_layout_the_editor_misreads_is_refused_not_written() {
        // An anchor merged into `tls`: the text edit cannot keep the meaning.
        let input = "base: &b\n  caPemPath: x\ntls:\n  <<: *b\n  serverPemPath: y\n";
        let r = set_keys(Path::new("m.yaml"), input, &settings());
        if let Ok(out) = &r {
            // If accepted, it must mean exactly the input with the keys set.
            let mut want = parse(Path::new("m.yaml"), input).unwrap();
            for (k, v) in settings() {
                set_tree(&mut want, &k, to_yaml(&v)).unwrap();
            }
            assert_eq!(YamlLoader::load_from_str(out).unwrap()[0], want);
        }
    }
}
