//! Guest tags and what ProxLB 2.3.0 reads from them (`proxlb/models/tags.py`).
//!
//! ProxLB matches tags by **case-sensitive prefix**: `plb_affinity…`, `plb_anti_affinity…`,
//! `plb_ignore…` and `plb_pin…`. `plb_anti_affinity` cannot be mistaken for `plb_affinity` (the
//! prefixes differ at the fifth character), so the checks are independent and one tag can
//! only mean one thing, except that the pin check uses the prefix `plb_pin` (without `_`) and then
//! removes every `plb_pin_` from the tag to get the node name.

use serde::{Deserialize, Serialize};

/// Prefix of affinity tags; the whole tag is the group name.
pub const AFFINITY_PREFIX: &str = "plb_affinity";
/// Prefix of anti-affinity tags; the whole tag is the group name.
pub const ANTI_AFFINITY_PREFIX: &str = "plb_anti_affinity";
/// Prefix of ignore tags (`plb_ignore`, `plb_ignore_vm`, `plb_ignore_anything`).
pub const IGNORE_PREFIX: &str = "plb_ignore";
/// Prefix that makes ProxLB treat a tag as a pin.
pub const PIN_PREFIX: &str = "plb_pin";
/// Text removed (everywhere in the tag) to get the pinned node name.
pub const PIN_STRIP: &str = "plb_pin_";

/// Splits a raw PVE `tags` value the way ProxLB does: on `;`, nothing trimmed. An empty value
/// gives `[""]`, as in ProxLB's `-j` output.
pub fn split_tags(raw: &str) -> Vec<String> {
    raw.split(';').map(str::to_owned).collect()
}

/// What one tag means to ProxLB.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TagMeaning {
    /// Affinity group named after the whole tag.
    Affinity {
        /// Group name (the tag).
        group: String,
    },
    /// Anti-affinity group named after the whole tag.
    AntiAffinity {
        /// Group name (the tag).
        group: String,
    },
    /// The guest is ignored.
    Ignore,
    /// Pin request; `node` is the tag with every `plb_pin_` removed, before node lookup.
    Pin {
        /// Requested node name as written.
        node: String,
    },
    /// Not a ProxLB tag.
    Other,
}

/// Classifies one tag.
pub fn classify_tag(tag: &str) -> TagMeaning {
    if tag.starts_with(AFFINITY_PREFIX) {
        TagMeaning::Affinity {
            group: tag.to_owned(),
        }
    } else if tag.starts_with(ANTI_AFFINITY_PREFIX) {
        TagMeaning::AntiAffinity {
            group: tag.to_owned(),
        }
    } else if tag.starts_with(IGNORE_PREFIX) {
        TagMeaning::Ignore
    } else if tag.starts_with(PIN_PREFIX) {
        // Python's str.replace removes every occurrence, so `plb_pin_plb_pin_x` pins to `x` and a
        // bare `plb_pin` or `plb_pinned` keeps its full text and names an unknown node.
        TagMeaning::Pin {
            node: tag.replace(PIN_STRIP, ""),
        }
    } else {
        TagMeaning::Other
    }
}

/// A pin tag resolved against the cluster's node names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagPin {
    /// The tag as written.
    pub tag: String,
    /// Node name taken from the tag.
    pub requested: String,
    /// Canonical node name (case-insensitive match, 2.3.0), `None` if no node matches.
    pub node: Option<String>,
}

/// Warning ProxLB logs for a pin to an unknown node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagWarning {
    /// The tag.
    pub tag: String,
    /// ProxLB's WARNING text.
    pub message: String,
}

/// Everything ProxLB reads from one guest's tags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestTags {
    /// Affinity group names, in tag order.
    pub affinity: Vec<String>,
    /// Anti-affinity group names, in tag order.
    pub anti_affinity: Vec<String>,
    /// Some tag starts with `plb_ignore`.
    pub ignore: bool,
    /// Pin tags with their resolution.
    pub pins: Vec<TagPin>,
    /// Warnings ProxLB would log.
    pub warnings: Vec<TagWarning>,
}

/// Finds a node case-insensitively and returns its canonical name (2.3.0 `validate_node_presence`).
pub fn resolve_node<'a>(requested: &str, node_names: &[&'a str]) -> Option<&'a str> {
    let wanted = requested.to_lowercase();
    node_names
        .iter()
        .copied()
        .find(|name| name.to_lowercase() == wanted)
}

/// Reads all tags of a guest; `node_names` are the nodes ProxLB collected (online, not ignored).
pub fn parse_guest_tags(tags: &[String], node_names: &[&str]) -> GuestTags {
    let mut out = GuestTags::default();
    for tag in tags {
        match classify_tag(tag) {
            TagMeaning::Affinity { group } => out.affinity.push(group),
            TagMeaning::AntiAffinity { group } => out.anti_affinity.push(group),
            TagMeaning::Ignore => out.ignore = true,
            TagMeaning::Pin { node: requested } => {
                let node = resolve_node(&requested, node_names).map(str::to_owned);
                if node.is_none() {
                    out.warnings.push(TagWarning {
                        tag: tag.clone(),
                        message: format!(
                            "Tag {requested} is invalid! Defined node does not exist in the cluster. Not applying pinning."
                        ),
                    });
                }
                out.pins.push(TagPin {
                    tag: tag.clone(),
                    requested,
                    node,
                });
            }
            TagMeaning::Other => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn splits_like_proxlb() {
        assert_eq!(split_tags(""), vec![String::new()]);
        assert_eq!(split_tags("a;b"), tags(&["a", "b"]));
        assert_eq!(split_tags("a; b"), tags(&["a", " b"]));
    }

    #[test]
    fn prefixes_are_independent() {
        assert_eq!(
            classify_tag("plb_affinity_web"),
            TagMeaning::Affinity {
                group: "plb_affinity_web".into()
            }
        );
        assert_eq!(
            classify_tag("plb_anti_affinity_db"),
            TagMeaning::AntiAffinity {
                group: "plb_anti_affinity_db".into()
            }
        );
        // Bare prefixes count too.
        assert_eq!(
            classify_tag("plb_affinity"),
            TagMeaning::Affinity {
                group: "plb_affinity".into()
            }
        );
        assert_eq!(classify_tag("plb_ignore"), TagMeaning::Ignore);
        assert_eq!(classify_tag("plb_ignore_vm"), TagMeaning::Ignore);
        assert_eq!(classify_tag("plb_ignorefoo"), TagMeaning::Ignore);
        // Case-sensitive prefixes.
        assert_eq!(classify_tag("PLB_IGNORE"), TagMeaning::Other);
        assert_eq!(classify_tag("prod"), TagMeaning::Other);
        assert_eq!(classify_tag(""), TagMeaning::Other);
    }

    #[test]
    fn pin_tags_strip_every_plb_pin_underscore() {
        assert_eq!(
            classify_tag("plb_pin_pve1"),
            TagMeaning::Pin {
                node: "pve1".into()
            }
        );
        assert_eq!(
            classify_tag("plb_pin"),
            TagMeaning::Pin {
                node: "plb_pin".into()
            }
        );
        assert_eq!(
            classify_tag("plb_pinned"),
            TagMeaning::Pin {
                node: "plb_pinned".into()
            }
        );
        assert_eq!(
            classify_tag("plb_pin_plb_pin_x"),
            TagMeaning::Pin { node: "x".into() }
        );
    }

    #[test]
    fn pins_resolve_case_insensitively_and_warn_on_unknown_nodes() {
        let parsed = parse_guest_tags(
            &tags(&[
                "plb_pin_pve1",
                "plb_pin_ghost",
                "plb_affinity_a",
                "plb_affinity_b",
            ]),
            &["PVE1", "pve2"],
        );
        assert_eq!(parsed.pins[0].node.as_deref(), Some("PVE1"));
        assert_eq!(parsed.pins[1].node, None);
        assert_eq!(parsed.warnings.len(), 1);
        assert_eq!(
            parsed.warnings[0].message,
            "Tag ghost is invalid! Defined node does not exist in the cluster. Not applying pinning."
        );
        assert_eq!(parsed.affinity, tags(&["plb_affinity_a", "plb_affinity_b"]));
        assert!(!parsed.ignore);
    }

    proptest! {
        #[test]
        fn at_most_one_meaning_per_tag(tag in "(plb_)?(affinity|anti_affinity|ignore|pin)?_?[a-z0-9]{0,6}") {
            let meaning = classify_tag(&tag);
            let affinity = tag.starts_with(AFFINITY_PREFIX);
            let anti = tag.starts_with(ANTI_AFFINITY_PREFIX);
            prop_assert!(!(affinity && anti));
            match meaning {
                TagMeaning::Affinity { group } => prop_assert_eq!(group, tag),
                TagMeaning::AntiAffinity { group } => prop_assert_eq!(group, tag),
                TagMeaning::Ignore => prop_assert!(tag.starts_with(IGNORE_PREFIX)),
                TagMeaning::Pin { node } => prop_assert!(!node.contains(PIN_STRIP)),
                TagMeaning::Other => prop_assert!(!tag.starts_with("plb_affinity")
                    && !tag.starts_with("plb_anti_affinity") && !tag.starts_with("plb_ignore")
                    && !tag.starts_with("plb_pin")),
            }
        }
    }
}
