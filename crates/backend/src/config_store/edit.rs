//! Lossless edits of `proxlb.yaml` text with `yaml-edit` (a rowan concrete syntax tree): only
//! the edited value's bytes change; comments, key order, quoting, blank lines, unknown keys and
//! anchors stay as they were. Also masks and unmasks the secrets (`pass`, `token_secret`).
//!
//! Strings that YAML 1.1 would read as something else (`no`, `on`, `0123`, `1:30`) are written
//! single-quoted, since ProxLB loads with PyYAML (YAML 1.1).

use std::str::FromStr;

use plb_domain::balancing::settings::{KeyChange, KeyValue};
use plb_domain::proxlb::yaml11::plain_would_coerce;
use plb_domain::secret::SECRET_MASK;
use yaml_edit::{Mapping, ScalarValue, Sequence, YamlFile, YamlNode};

/// Keys whose values are secrets, wherever they appear.
pub const SECRET_KEYS: [&str; 2] = ["pass", "token_secret"];

/// How the mask is written into the text (quoted: a plain `*…` would be an alias).
pub fn mask_literal() -> String {
    format!("'{SECRET_MASK}'")
}

/// Why an edit cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The text does not parse as YAML (validation says where).
    #[error("the file is not valid YAML: {0}")]
    Unparsable(String),
    /// The path leads through something that is not a mapping (or through an alias).
    #[error("cannot edit {path}: {reason}")]
    Path {
        /// The dotted path.
        path: String,
        /// Why.
        reason: String,
    },
}

/// A value to write.
#[derive(Clone, Debug, PartialEq)]
pub enum EditValue {
    /// A string (quoted if YAML 1.1 would coerce it).
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// A string as a scalar that PyYAML reads back as that same string.
pub fn string_scalar(s: &str) -> ScalarValue {
    if plain_would_coerce(s) {
        ScalarValue::single_quoted(s)
    } else {
        ScalarValue::string(s)
    }
}

fn scalar(value: &EditValue) -> ScalarValue {
    match value {
        EditValue::Str(s) => string_scalar(s),
        EditValue::Int(i) => ScalarValue::from(*i),
        // `{:?}` keeps a dot (`2.0`), so PyYAML reads a float, not an int.
        EditValue::Float(f) => ScalarValue::parse(format!("{f:?}")),
        EditValue::Bool(b) => ScalarValue::from(*b),
    }
}

fn parse(text: &str) -> Result<(YamlFile, Mapping), EditError> {
    let file = YamlFile::from_str(text).map_err(|e| EditError::Unparsable(e.to_string()))?;
    let root = file
        .document()
        .and_then(|d| d.as_mapping())
        .ok_or_else(|| EditError::Unparsable("the document is not a mapping".to_owned()))?;
    Ok((file, root))
}

/// The mapping at `path` (section names), created (block style) where missing.
fn section(root: &Mapping, path: &[&str]) -> Result<Mapping, EditError> {
    let mut current = root.clone();
    for (i, key) in path.iter().enumerate() {
        let here = path[..=i].join(".");
        match current.get(*key) {
            None => {
                current.set(*key, Mapping::new());
            }
            Some(node) if node.is_mapping() => {}
            Some(node) if node.as_scalar().is_some_and(|s| s.is_null()) => {
                current.set(*key, Mapping::new());
            }
            Some(node) => {
                return Err(EditError::Path {
                    path: here,
                    reason: if node.is_alias() {
                        "it is an alias; edit it in the editor".to_owned()
                    } else {
                        "it is not a section".to_owned()
                    },
                })
            }
        }
        current = current.get_mapping(*key).ok_or_else(|| EditError::Path {
            path: here,
            reason: "it is not a section".to_owned(),
        })?;
    }
    Ok(current)
}

/// `path` split into its key and the sections above it.
fn split_path<'p>(path: &'p [&'p str]) -> Result<(&'p str, &'p [&'p str]), EditError> {
    path.split_last()
        .map(|(key, sections)| (*key, sections))
        .ok_or_else(|| EditError::Path {
            path: String::new(),
            reason: "empty path".to_owned(),
        })
}

/// The string list at `path` (sections…, key), missing sections created. Where the key is
/// missing or null: an empty block list when `create`, else `None`. An alias or a value that is
/// not a list is refused.
fn list_at(root: &Mapping, path: &[&str], create: bool) -> Result<Option<Sequence>, EditError> {
    let (key, sections) = split_path(path)?;
    let map = section(root, sections)?;
    let not_a_list = || EditError::Path {
        path: path.join("."),
        reason: "it is not a list".to_owned(),
    };
    let existing = map.get(key);
    if existing.as_ref().is_some_and(|n| n.is_alias()) {
        return Err(EditError::Path {
            path: path.join("."),
            reason: "it is an alias; edit it in the editor".to_owned(),
        });
    }
    match (map.get_sequence(key), existing) {
        (Some(list), _) => Ok(Some(list)),
        (None, Some(node)) if !node.as_scalar().is_some_and(|s| s.is_null()) => Err(not_a_list()),
        (None, _) if !create => Ok(None),
        (None, _) => {
            map.set(key, Sequence::new());
            map.get_sequence(key).map(Some).ok_or_else(not_a_list)
        }
    }
}

/// Sets `path` (sections…, key) to `value`, creating missing sections. Returns the new text.
pub fn set_value(text: &str, path: &[&str], value: &EditValue) -> Result<String, EditError> {
    let (file, root) = parse(text)?;
    let (key, sections) = split_path(path)?;
    let map = section(&root, sections)?;
    if map.get(key).is_some_and(|n| n.is_alias()) {
        return Err(EditError::Path {
            path: path.join("."),
            reason: "it is an alias; edit it in the editor".to_owned(),
        });
    }
    map.set(key, scalar(value));
    Ok(file.to_string())
}

fn item_is(node: &YamlNode, name: &str) -> bool {
    node.as_scalar().is_some_and(|s| s.as_string() == name)
}

/// Adds `name` to (or removes every `name` from) the string list at `path`, creating the list
/// (block style) where missing. Unchanged text when there is nothing to do.
pub fn set_list_member(
    text: &str,
    path: &[&str],
    name: &str,
    present: bool,
) -> Result<String, EditError> {
    let (file, root) = parse(text)?;
    let Some(list) = list_at(&root, path, present)? else {
        return Ok(text.to_owned());
    };
    let positions: Vec<usize> = list
        .values()
        .enumerate()
        .filter(|(_, v)| item_is(v, name))
        .map(|(i, _)| i)
        .collect();
    match (present, positions.is_empty()) {
        (true, true) => list.push(string_scalar(name)),
        (false, false) => {
            for i in positions.into_iter().rev() {
                list.remove(i);
            }
        }
        _ => return Ok(text.to_owned()),
    }
    Ok(file.to_string())
}

/// Replaces the string list at `path` (sections…, key) with `items`, creating it (block style)
/// where missing; an existing list keeps its style and position. Unchanged text when equal.
pub fn set_string_list(text: &str, path: &[&str], items: &[String]) -> Result<String, EditError> {
    let (file, root) = parse(text)?;
    let Some(list) = list_at(&root, path, true)? else {
        return Ok(text.to_owned());
    };
    let current: Vec<String> = list
        .values()
        .filter_map(|v| v.as_scalar().map(|s| s.as_string()))
        .collect();
    if current == items && list.values().count() == items.len() {
        return Ok(text.to_owned());
    }
    for i in (0..list.values().count()).rev() {
        list.remove(i);
    }
    for item in items {
        list.push(string_scalar(item));
    }
    Ok(file.to_string())
}

/// Removes the key at `path` (sections…, key); unchanged text when it is not there.
pub fn remove_key(text: &str, path: &[&str]) -> Result<String, EditError> {
    let (file, root) = parse(text)?;
    let (key, sections) = split_path(path)?;
    let mut map = root;
    for section in sections {
        match map.get_mapping(*section) {
            Some(inner) => map = inner,
            None => return Ok(text.to_owned()),
        }
    }
    if map.remove(key).is_none() {
        return Ok(text.to_owned());
    }
    Ok(file.to_string())
}

/// Applies one [`KeyChange`] (a balancing setting) losslessly.
pub fn apply_change(text: &str, change: &KeyChange) -> Result<String, EditError> {
    let path: Vec<&str> = change.path.iter().map(String::as_str).collect();
    match &change.value {
        KeyValue::Bool(b) => set_value(text, &path, &EditValue::Bool(*b)),
        KeyValue::Int(i) => set_value(text, &path, &EditValue::Int(*i)),
        KeyValue::Float(f) => set_value(text, &path, &EditValue::Float(*f)),
        KeyValue::Str(s) => set_value(text, &path, &EditValue::Str(s.clone())),
        KeyValue::StrList(items) => set_string_list(text, &path, items),
        KeyValue::Remove => remove_key(text, &path),
    }
}

/// A secret value's place: dotted path and byte range of the value.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SecretSpot {
    path: String,
    start: usize,
    end: usize,
    is_mask: bool,
}

fn collect(map: &Mapping, prefix: &str, out: &mut Vec<SecretSpot>) {
    for entry in map.entries() {
        let Some(key) = entry
            .key_node()
            .and_then(|k| k.as_scalar().map(|s| s.as_string()))
        else {
            continue;
        };
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let Some(value) = entry.value_node() else {
            continue;
        };
        if SECRET_KEYS.contains(&key.as_str()) {
            if let Some(s) = value.as_scalar() {
                let range = value.byte_range();
                out.push(SecretSpot {
                    path,
                    start: range.start as usize,
                    end: range.end as usize,
                    is_mask: s.as_string() == SECRET_MASK,
                });
                continue;
            }
        }
        walk(&value, &path, out);
    }
}

fn walk(node: &YamlNode, prefix: &str, out: &mut Vec<SecretSpot>) {
    if let Some(m) = node.as_mapping() {
        collect(m, prefix, out);
    } else if let Some(s) = node.as_sequence() {
        for (i, v) in s.values().enumerate() {
            walk(&v, &format!("{prefix}[{i}]"), out);
        }
    }
}

fn spots(text: &str) -> Option<Vec<SecretSpot>> {
    let file = YamlFile::from_str(text).ok()?;
    let mut out = Vec::new();
    for doc in file.documents() {
        if let Some(m) = doc.as_mapping() {
            collect(&m, "", &mut out);
        }
    }
    // Guard against ranges that are not on character boundaries (never expected).
    out.retain(|s| {
        s.start <= s.end && text.is_char_boundary(s.start) && text.is_char_boundary(s.end)
    });
    Some(out)
}

/// Replaces every line's value after `pass:`/`token_secret:` (text that does not parse).
fn mask_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start().trim_start_matches(['-', ' ', '{']);
        let secret = SECRET_KEYS
            .iter()
            .any(|k| trimmed.starts_with(k) && trimmed[k.len()..].trim_start().starts_with(':'));
        match (secret, line.find(':')) {
            (true, Some(colon)) if !line[colon + 1..].trim_start().starts_with(&mask_literal()) => {
                out.push_str(&line[..=colon]);
                out.push(' ');
                out.push_str(&mask_literal());
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// The text with every secret value replaced by the quoted mask. Text that does not parse is
/// masked line by line (a secret in broken YAML must not leak either).
pub fn mask(text: &str) -> String {
    let Some(found) = spots(text) else {
        return mask_lines(text);
    };
    let mut out = text.to_owned();
    for spot in found.iter().rev() {
        out.replace_range(spot.start..spot.end, &mask_literal());
    }
    // Secrets yaml-edit did not see as scalars (odd layouts) are caught by the line pass.
    mask_lines(&out)
}

/// Puts the stored secrets back where `submitted` carries the mask: the stored value's bytes
/// are copied verbatim from `stored`. A mask without a stored secret at that path is an error.
pub fn unmask(submitted: &str, stored: &str) -> Result<String, EditError> {
    let Some(new_spots) = spots(submitted) else {
        return Ok(submitted.to_owned());
    };
    let old_spots = spots(stored).unwrap_or_default();
    let mut out = submitted.to_owned();
    for spot in new_spots.iter().rev().filter(|s| s.is_mask) {
        let original = old_spots
            .iter()
            .find(|o| o.path == spot.path && !o.is_mask)
            .ok_or_else(|| EditError::Path {
                path: spot.path.clone(),
                reason:
                    "the mask stands for the stored secret, but none is stored; type the secret"
                        .to_owned(),
            })?;
        out.replace_range(spot.start..spot.end, &stored[original.start..original.end]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# ProxLB\nproxmox_api:\n  hosts: [pve1]   # hosts\n  user: root@pam\n  pass: \"s3cr\\\"et\"  # pw\n\nproxmox_cluster:\n  maintenance_nodes:\n    - pve2 # x\nbalancing: {enable: yes, mode: used}\n";

    #[test]
    fn set_changes_only_the_value() {
        let out = set_value(TEXT, &["balancing", "enable"], &EditValue::Bool(false)).unwrap();
        assert_eq!(out, TEXT.replace("enable: yes", "enable: false"));
        let out = set_value(TEXT, &["proxmox_api", "user"], &EditValue::Str("on".into())).unwrap();
        assert_eq!(out, TEXT.replace("root@pam", "'on'"));
        let out = set_value(TEXT, &["balancing", "balanciness"], &EditValue::Int(5)).unwrap();
        assert_eq!(
            out,
            TEXT.replace("mode: used}", "mode: used, balanciness: 5}")
        );
        let out = set_value(
            TEXT,
            &["balancing", "cpu_overcommit"],
            &EditValue::Float(2.0),
        )
        .unwrap();
        assert!(out.contains("cpu_overcommit: 2.0}"), "{out}");
    }

    #[test]
    fn list_members_are_added_and_removed() {
        let out = set_list_member(
            TEXT,
            &["proxmox_cluster", "maintenance_nodes"],
            "0123",
            true,
        )
        .unwrap();
        assert_eq!(
            out,
            TEXT.replace("    - pve2 # x\n", "    - pve2 # x\n    - '0123'\n")
        );
        let out = set_list_member(
            TEXT,
            &["proxmox_cluster", "maintenance_nodes"],
            "pve2",
            false,
        )
        .unwrap();
        assert!(!out.contains("pve2"), "{out}");
        assert!(out.contains("maintenance_nodes"), "{out}");
        let same =
            set_list_member(TEXT, &["proxmox_cluster", "ignore_nodes"], "pve9", false).unwrap();
        assert_eq!(same, TEXT);
    }

    #[test]
    fn masks_and_unmasks_secrets_byte_for_byte() {
        let masked = mask(TEXT);
        assert!(!masked.contains("s3cr"), "{masked}");
        assert!(masked.contains("pass: '********'  # pw"), "{masked}");
        assert_eq!(unmask(&masked, TEXT).unwrap(), TEXT);
        let changed = masked.replace("root@pam", "admin@pve");
        assert_eq!(
            unmask(&changed, TEXT).unwrap(),
            TEXT.replace("root@pam", "admin@pve")
        );
        let broken = "proxmox_api:\n  pass: hunter2\n  user: [\n";
        assert!(!mask(broken).contains("hunter2"));
        assert!(unmask("proxmox_api:\n  token_secret: '********'\n", TEXT).is_err());
    }

    #[test]
    fn lists_are_replaced_and_keys_removed_without_touching_the_rest() {
        let text = "# head\nbalancing:\n  balance_types: [vm]  # which\n  memory_threshold: 80\n  live: true\n";
        let out = set_string_list(
            text,
            &["balancing", "balance_types"],
            &["vm".into(), "ct".into()],
        )
        .unwrap();
        assert!(out.starts_with("# head\nbalancing:\n"), "{out}");
        assert!(
            out.contains("vm") && out.contains("ct") && out.contains("live: true"),
            "{out}"
        );
        let removed = remove_key(&out, &["balancing", "memory_threshold"]).unwrap();
        assert!(!removed.contains("memory_threshold"), "{removed}");
        assert!(removed.contains("live: true"), "{removed}");
        assert_eq!(
            remove_key(&removed, &["service", "delay"]).unwrap(),
            removed
        );
        let created = set_string_list(
            "balancing:\n  live: true\n",
            &["balancing", "balance_types"],
            &["ct".into()],
        )
        .unwrap();
        assert!(
            created.contains("balance_types:") && created.contains("- ct"),
            "{created}"
        );
    }
}
