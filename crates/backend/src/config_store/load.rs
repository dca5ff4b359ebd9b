//! Loads `proxlb.yaml` into [`plb_domain::proxlb::yaml11::Node`]s the way PyYAML's `FullLoader`
//! would: one document, YAML 1.1 scalar resolution, anchors and aliases, `<<` merge keys
//! (`SafeConstructor.flatten_mapping`), the last of repeated keys wins on lookup. Parsing is
//! saphyr-parser's (strict, with positions); resolving and constructing is the domain's.
//!
//! Any error here is one PyYAML would raise, so ProxLB would not start: it carries the line and
//! column where it happened.

use std::collections::HashMap;

use plb_domain::proxlb::validate::Issue;
use plb_domain::proxlb::yaml11::{self, Node, Pos, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

fn pos(span: &Span) -> Pos {
    Pos {
        line: u32::try_from(span.start.line()).unwrap_or(u32::MAX),
        column: u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX),
    }
}

fn issue(at: Pos, message: impl Into<String>) -> Issue {
    Issue::at(at, "", message)
}

/// The core-schema suffix of a tag (`int` for `!!int`), `Some("")` for the non-specific `!`,
/// `None` for any other tag.
fn core_suffix(tag: &Tag) -> Option<&str> {
    if tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!" {
        Some(&tag.suffix)
    } else if tag.handle == "!" && tag.suffix.is_empty() {
        Some("")
    } else {
        None
    }
}

struct Loader<'a> {
    events: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
}

/// One mapping key as parsed: its value, and whether it was a plain `<<` (a merge key).
struct Key {
    node: Node,
    merge: bool,
}

impl<'a> Loader<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), Issue> {
        match self.events.next() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(issue(
                Pos {
                    line: u32::try_from(e.marker().line()).unwrap_or(u32::MAX),
                    column: u32::try_from(e.marker().col() + 1).unwrap_or(u32::MAX),
                },
                format!("YAML syntax: {}", e.info()),
            )),
            None => Err(issue(Pos::default(), "unexpected end of the YAML stream")),
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    /// Builds the node starting with `event`. `as_key`: a plain `<<` is a merge key, a plain
    /// `=` a string (PyYAML retags both in key position).
    fn node(&mut self, event: Event<'a>, span: Span, as_key: bool) -> Result<Key, Issue> {
        let at = pos(&span);
        match event {
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(node) => Ok(Key {
                    node: Node {
                        value: node.value.clone(),
                        pos: at,
                    },
                    merge: false,
                }),
                None => Err(issue(at, "found an undefined alias")),
            },
            Event::Scalar(text, style, anchor, tag) => {
                let plain = matches!(style, ScalarStyle::Plain);
                let merge = as_key && plain && tag.is_none() && text == "<<";
                let value = if merge {
                    Value::Str("<<".to_owned())
                } else if let Some(tag) = tag {
                    match core_suffix(&tag) {
                        Some("") => Value::Str(text.to_string()),
                        Some(suffix) => {
                            yaml11::construct_tagged(suffix, &text).map_err(|m| issue(at, m))?
                        }
                        None => {
                            return Err(issue(
                                at,
                                format!("could not determine a constructor for the tag {tag}"),
                            ))
                        }
                    }
                } else if plain {
                    if as_key && text == "=" {
                        Value::Str("=".to_owned())
                    } else {
                        yaml11::resolve_plain(&text).map_err(|m| issue(at, m))?
                    }
                } else {
                    Value::Str(text.to_string())
                };
                let node = Node { value, pos: at };
                self.remember(anchor, &node);
                Ok(Key { node, merge })
            }
            Event::SequenceStart(anchor, tag) => {
                if let Some(tag) = tag {
                    if !matches!(core_suffix(&tag), Some("seq") | Some("")) {
                        return Err(issue(at, format!("unsupported tag {tag} on a sequence")));
                    }
                }
                let mut items = Vec::new();
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, sp, false)?.node);
                }
                let node = Node {
                    value: Value::Seq(items),
                    pos: at,
                };
                self.remember(anchor, &node);
                Ok(Key { node, merge: false })
            }
            Event::MappingStart(anchor, tag) => {
                if let Some(tag) = tag {
                    if !matches!(core_suffix(&tag), Some("map") | Some("")) {
                        return Err(issue(at, format!("unsupported tag {tag} on a mapping")));
                    }
                }
                let mut own = Vec::new();
                let mut merged = Vec::new();
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key = self.node(ev, sp, true)?;
                    let (vev, vsp) = self.next()?;
                    let value = self.node(vev, vsp, false)?.node;
                    if key.merge {
                        merged.extend(merge_entries(&value)?);
                        continue;
                    }
                    if matches!(key.node.value, Value::Seq(_) | Value::Map(_)) {
                        return Err(issue(key.node.pos, "found unhashable key"));
                    }
                    own.push((key.node, value));
                }
                // PyYAML puts merged entries first, so the mapping's own keys win.
                merged.extend(own);
                let node = Node {
                    value: Value::Map(merged),
                    pos: at,
                };
                self.remember(anchor, &node);
                Ok(Key { node, merge: false })
            }
            other => Err(issue(at, format!("unexpected YAML event {other:?}"))),
        }
    }
}

/// The entries a `<<` value contributes: a mapping, or a list of mappings (earlier ones win).
fn merge_entries(value: &Node) -> Result<Vec<(Node, Node)>, Issue> {
    match &value.value {
        Value::Map(entries) => Ok(entries.clone()),
        Value::Seq(items) => {
            let mut out = Vec::new();
            for item in items.iter().rev() {
                match &item.value {
                    Value::Map(entries) => out.extend(entries.iter().cloned()),
                    _ => {
                        return Err(issue(
                            item.pos,
                            "expected a mapping for merging, but found something else",
                        ))
                    }
                }
            }
            Ok(out)
        }
        _ => Err(issue(
            value.pos,
            "expected a mapping or list of mappings for merging",
        )),
    }
}

/// Loads the single document of `text`; `Ok(None)` for an empty stream (ProxLB then fails with
/// a `TypeError`, which validation reports).
pub fn load(text: &str) -> Result<Option<Node>, Issue> {
    let mut loader = Loader {
        events: Parser::new_from_str(text),
        anchors: HashMap::new(),
    };
    let mut root = None;
    loop {
        let (event, span) = loader.next()?;
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => return Ok(root),
            Event::DocumentStart(_) => {
                if root.is_some() {
                    return Err(issue(
                        pos(&span),
                        "expected a single document in the stream, but found another document",
                    ));
                }
                let (ev, sp) = loader.next()?;
                root = Some(loader.node(ev, sp, false)?.node);
            }
            other => {
                return Err(issue(
                    pos(&span),
                    format!("unexpected YAML event {other:?}"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_aliases_and_positions() {
        let text = "base: &b {timeout: 5, retries: 2}\nproxmox_api:\n  <<: *b\n  retries: 3\n  user: 'on'\n";
        let root = load(text).unwrap().unwrap();
        let api = root.get("proxmox_api").unwrap();
        assert_eq!(api.get("timeout").unwrap().value, Value::Int(5));
        assert_eq!(api.get("retries").unwrap().value, Value::Int(3));
        assert_eq!(api.get("user").unwrap().value, Value::Str("on".into()));
        assert_eq!(api.get("user").unwrap().pos, Pos { line: 5, column: 9 });
    }

    #[test]
    fn errors_have_positions() {
        let err = load("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
        let err = load("a: 2023-02-30\n").unwrap_err();
        assert_eq!((err.line, err.column), (1, 4));
        assert!(load("a: !foo x\n").is_err());
        assert!(load("---\na: 1\n---\nb: 2\n").is_err());
        assert_eq!(load("").unwrap(), None);
        assert_eq!(load("# only a comment\n").unwrap(), None);
    }
}
