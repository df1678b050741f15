//! YAML with line numbers: a tree built from yaml-rust2's parser events,
//! which carry markers, so that every finding can name its key's line.
//! Bounded: nesting depth, and what aliases may copy ("billion laughs").

use std::collections::HashMap;
use std::path::Path;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::error::{Error, Result};

/// A YAML node and the line it starts on.
#[derive(Clone, Debug)]
pub(super) struct Node {
    pub(super) value: Yaml,
    pub(super) line: usize,
}

/// A node's value.
#[derive(Clone, Debug)]
pub(super) enum Yaml {
    /// A scalar.
    Scalar(String),
    /// A mapping: (key, the key's line, value).
    Map(Vec<(String, usize, Node)>),
    /// A sequence.
    Seq(Vec<Node>),
}

impl Node {
    /// The value of `key` (matched without regard to case, as Milvus does),
    /// with the key's line; the last one wins.
    pub(super) fn get(&self, key: &str) -> Option<(&Node, usize)> {
        match &self.value {
            Yaml::Map(m) => m
                .iter()
                .rev()
                .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, l, n)| (n, *l)),
            _ => None,
        }
    }

    /// The value at `keys`, one mapping level per key, with the last key's
    /// line.
    pub(super) fn path(&self, keys: &[&str]) -> Option<(&Node, usize)> {
        let mut cur = (self, self.line);
        for k in keys {
            cur = cur.0.get(k)?;
        }
        Some(cur)
    }

    /// A scalar's text (`~`, `null` and nothing are "").
    pub(super) fn text(&self) -> Option<&str> {
        match &self.value {
            Yaml::Scalar(text) if text == "~" || text == "null" => Some(""),
            Yaml::Scalar(text) => Some(text),
            _ => None,
        }
    }

    /// A mapping's entries: key, the key's line, value (none for anything
    /// else).
    pub(super) fn entries(&self) -> &[(String, usize, Node)] {
        match &self.value {
            Yaml::Map(m) => m,
            _ => &[],
        }
    }

    /// A sequence's items (none for anything else).
    pub(super) fn items(&self) -> &[Node] {
        match &self.value {
            Yaml::Seq(s) => s,
            _ => &[],
        }
    }

    /// Whether this is a mapping.
    pub(super) fn is_map(&self) -> bool {
        matches!(self.value, Yaml::Map(_))
    }
}

enum Frame {
    Map {
        entries: Vec<(String, usize, Node)>,
        key: Option<(String, usize)>,
        line: usize,
        anchor: usize,
    },
    Seq {
        items: Vec<Node>,
        line: usize,
        anchor: usize,
    },
}

/// Deeper nesting than any configuration has is refused (the tree is
/// recursive: this bounds the stack).
const MAX_DEPTH: usize = 128;
/// Aliases may copy at most this many nodes in all, a scalar counting one
/// per 64 bytes ("billion laughs": at most about 6 MiB copied).
const MAX_ALIASED: usize = 100_000;

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<Frame>,
    /// Anchored nodes, and their sizes in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    /// Nodes copied by aliases so far.
    aliased: usize,
    /// Added to every line (a document inside a block scalar).
    offset: usize,
    /// Why the document is refused, and the line.
    refused: Option<(String, usize)>,
}

fn size(n: &Node) -> usize {
    1 + match &n.value {
        // A long string costs by its length: one alias of a 1 MiB scalar
        // copied many times is the same "billion laughs" as many nodes.
        Yaml::Scalar(text) => text.len() / 64,
        Yaml::Map(m) => m.iter().map(|(_, _, v)| size(v)).sum(),
        Yaml::Seq(s) => s.iter().map(size).sum(),
    }
}

impl Builder {
    fn done(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size(&node)));
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some((k, l)) => entries.push((k, l, node)),
                None => {
                    let k = match &node.value {
                        Yaml::Scalar(text) => text.clone(),
                        _ => String::new(),
                    };
                    *key = Some((k, node.line));
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line() + self.offset;
        if self.refused.is_some() {
            return;
        }
        if matches!(ev, Event::MappingStart(..) | Event::SequenceStart(..))
            && self.stack.len() >= MAX_DEPTH
        {
            self.refused = Some((format!("nested more than {MAX_DEPTH} levels deep"), line));
            return;
        }
        match ev {
            Event::Scalar(text, _, anchor, _) => {
                self.done(
                    Node {
                        value: Yaml::Scalar(text),
                        line,
                    },
                    anchor,
                );
            }
            Event::Alias(id) => {
                let (node, n) = self.anchors.get(&id).cloned().unwrap_or((
                    Node {
                        value: Yaml::Scalar(String::new()),
                        line,
                    },
                    1,
                ));
                self.aliased += n;
                if self.aliased > MAX_ALIASED {
                    self.refused = Some((
                        format!("its aliases (*name) copy more than {MAX_ALIASED} values"),
                        line,
                    ));
                    return;
                }
                self.done(Node { line, ..node }, 0);
            }
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                entries: Vec::new(),
                key: None,
                line,
                anchor,
            }),
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                items: Vec::new(),
                line,
                anchor,
            }),
            Event::MappingEnd | Event::SequenceEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Map {
                        entries,
                        line,
                        anchor,
                        ..
                    }) => (
                        Node {
                            value: Yaml::Map(entries),
                            line,
                        },
                        anchor,
                    ),
                    Some(Frame::Seq {
                        items,
                        line,
                        anchor,
                    }) => (
                        Node {
                            value: Yaml::Seq(items),
                            line,
                        },
                        anchor,
                    ),
                    None => return,
                };
                self.done(node, anchor);
            }
            _ => {}
        }
    }
}

/// Every document of `text`; a syntax error names the file and line.
pub(super) fn parse(file: &Path, text: &str, offset: usize) -> Result<Vec<Node>> {
    let mut b = Builder {
        offset,
        ..Builder::default()
    };
    // Event by event: Parser::load recurses once per nesting level, and a
    // few thousand levels of block mappings overflow the stack.
    let mut parser = Parser::new_from_str(text);
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| {
            let m = e.marker();
            Error::bad_file(
                file,
                "valid YAML",
                format!(
                    "line {}, column {}: {}; fix the YAML there",
                    m.line() + offset,
                    m.col() + 1,
                    e.info()
                ),
            )
        })?;
        if ev == Event::StreamEnd {
            break;
        }
        b.on_event(ev, mark);
    }
    if let Some((why, line)) = b.refused {
        return Err(Error::bad_file(
            file,
            "valid YAML",
            format!("line {line}: {why}; no Milvus configuration is"),
        ));
    }
    Ok(b.docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_keys_and_of_a_block_scalar_inside() {
        let text = "a:\n  b: 1\nvalues:\n  user.yaml: |\n    tls:\n      serverPemPath: x\n";
        let docs = parse(Path::new("f"), text, 0).unwrap();
        let (_, l) = docs[0].path(&["a", "b"]).unwrap();
        assert_eq!(l, 2);
        let (n, _) = docs[0].path(&["values", "user.yaml"]).unwrap();
        let Yaml::Scalar(text) = &n.value else {
            panic!()
        };
        let inner = parse(Path::new("f"), text, n.line - 1).unwrap();
        let (_, l) = inner[0].path(&["tls", "serverPemPath"]).unwrap();
        assert_eq!(l, 6);
    }
}
