//! Line-by-line YAML highlighting for the configuration editor: comments, keys, quoted strings,
//! numbers, YAML 1.1 booleans and nulls, anchors and aliases, and the secret mask.
//!
//! It only colours what is typed, so it must never fail: every byte of a line lands in exactly
//! one span, whatever the line holds (half-typed quotes, tabs, broken flow collections). A full
//! YAML scanner would stop at the first error and cost far more WASM than these few rules; the
//! validation markers, not the colours, say whether ProxLB accepts the file.

use std::ops::Range;

/// What a span of a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// Text without a class (plain scalars that are not numbers or keywords, spaces).
    Plain,
    /// `# …` to the end of the line.
    Comment,
    /// A mapping key (before its `:`).
    Key,
    /// `:`, `-`, `[`, `]`, `{`, `}`, `,`, `|`, `>`.
    Punct,
    /// A quoted string, quotes included.
    Str,
    /// An integer or float.
    Number,
    /// A YAML 1.1 boolean or null (`yes`, `off`, `~`, …): what PyYAML would not read as text.
    Keyword,
    /// `&anchor`, `*alias` or a `!tag`.
    Anchor,
    /// The secret mask the editor shows instead of a stored secret.
    Mask,
}

impl Token {
    /// The CSS modifier for the span (`plb-yaml__<name>`).
    pub fn class(self) -> &'static str {
        match self {
            Token::Plain => "plain",
            Token::Comment => "comment",
            Token::Key => "key",
            Token::Punct => "punct",
            Token::Str => "str",
            Token::Number => "number",
            Token::Keyword => "keyword",
            Token::Anchor => "anchor",
            Token::Mask => "mask",
        }
    }
}

/// The mask shown for a stored secret (kept in sync with the backend's masking).
pub const SECRET_MASK: &str = "********";

/// Spans of one line (without its newline), in order, covering every byte exactly once.
pub fn highlight_line(line: &str) -> Vec<(Token, Range<usize>)> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let at_word_start = i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'[' | b'{' | b',');
        match c {
            b' ' | b'\t' => {
                push(&mut out, Token::Plain, i..i + 1);
                i += 1;
            }
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => {
                push(&mut out, Token::Comment, i..bytes.len());
                i = bytes.len();
            }
            b'\'' | b'"' if at_word_start => {
                let end = quoted_end(bytes, i);
                let token = if is_key_colon(bytes, end) {
                    Token::Key
                } else if line.get(i + 1..end.saturating_sub(1)) == Some(SECRET_MASK) {
                    Token::Mask
                } else {
                    Token::Str
                };
                push(&mut out, token, i..end);
                i = end;
            }
            b'-' if at_word_start && matches!(bytes.get(i + 1), None | Some(b' ')) => {
                push(&mut out, Token::Punct, i..i + 1);
                i += 1;
            }
            b'[' | b']' | b'{' | b'}' | b',' => {
                push(&mut out, Token::Punct, i..i + 1);
                i += 1;
            }
            b':' if matches!(bytes.get(i + 1), None | Some(b' ') | Some(b'\t')) => {
                push(&mut out, Token::Punct, i..i + 1);
                i += 1;
            }
            b'&' | b'*' | b'!' if at_word_start => {
                let end = word_end(bytes, i);
                push(&mut out, Token::Anchor, i..end);
                i = end;
            }
            _ => {
                let end = word_end(bytes, i);
                // A key is a word followed by ": " or ":" at the end of the line.
                let token = if is_key_colon(bytes, end) {
                    Token::Key
                } else {
                    scalar_token(&line[i..end])
                };
                push(&mut out, token, i..end);
                i = end;
            }
        }
    }
    out
}

/// Appends a span, joining it to the previous one when both have the same class.
fn push(out: &mut Vec<(Token, Range<usize>)>, token: Token, range: Range<usize>) {
    if range.is_empty() {
        return;
    }
    match out.last_mut() {
        Some((last, r)) if *last == token && r.end == range.start => r.end = range.end,
        _ => out.push((token, range)),
    }
}

/// End (exclusive) of the quoted string starting at `start`; an unclosed one runs to the end.
fn quoted_end(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut j = start + 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            // '' inside a single-quoted string is an escaped quote.
            if quote == b'\'' && bytes.get(j + 1) == Some(&b'\'') {
                j += 2;
                continue;
            }
            return j + 1;
        }
        if quote == b'"' && bytes[j] == b'\\' {
            j += 1;
        }
        j += 1;
    }
    bytes.len()
}

/// End (exclusive) of a plain word: up to a flow indicator, a `: ` or ` #`. Always past `start`.
fn word_end(bytes: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while j < bytes.len() {
        match bytes[j] {
            b',' | b'[' | b']' | b'{' | b'}' => break,
            b':' if matches!(bytes.get(j + 1), None | Some(b' ') | Some(b'\t')) => break,
            b'#' if matches!(bytes[j - 1], b' ' | b'\t') => break,
            b' ' | b'\t' => {
                // Plain scalars may hold spaces; stop before trailing space and comments.
                let rest = &bytes[j..];
                let next = rest.iter().position(|b| *b != b' ' && *b != b'\t');
                match next.map(|n| rest[n]) {
                    None | Some(b'#') => break,
                    _ => {}
                }
            }
            _ => {}
        }
        j += 1;
    }
    // Trailing spaces belong to the spaces arm.
    while j > start + 1 && matches!(bytes[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    j
}

/// Whether a key ends at `end`: `:` next, then a space, a tab or the end of the line.
fn is_key_colon(bytes: &[u8], end: usize) -> bool {
    let mut j = end;
    while j < bytes.len() && bytes[j] == b' ' {
        j += 1;
    }
    bytes.get(j) == Some(&b':') && matches!(bytes.get(j + 1), None | Some(b' ') | Some(b'\t'))
}

/// The class of a plain scalar as PyYAML would resolve it (YAML 1.1).
fn scalar_token(word: &str) -> Token {
    use crate::proxlb::yaml11::{resolve_plain, Value};

    match resolve_plain(word) {
        Ok(Value::Bool(_) | Value::Null) => Token::Keyword,
        Ok(Value::Int(_) | Value::BigInt(_) | Value::Float(_)) => Token::Number,
        _ => Token::Plain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn classes(line: &str) -> Vec<(Token, &str)> {
        highlight_line(line)
            .into_iter()
            .map(|(t, r)| (t, &line[r]))
            .collect()
    }

    #[test]
    fn keys_values_and_comments_get_their_classes() {
        assert_eq!(
            classes("  balanciness: 10  # percent"),
            vec![
                (Token::Plain, "  "),
                (Token::Key, "balanciness"),
                (Token::Punct, ":"),
                (Token::Plain, " "),
                (Token::Number, "10"),
                (Token::Plain, "  "),
                (Token::Comment, "# percent"),
            ]
        );
    }

    #[test]
    fn yaml_1_1_words_are_keywords_and_quoted_ones_are_strings() {
        let spans = classes("enable: yes");
        assert_eq!(spans.last(), Some(&(Token::Keyword, "yes")));
        let spans = classes("node: 'no'");
        assert_eq!(spans.last(), Some(&(Token::Str, "'no'")));
        let spans = classes("x: ~");
        assert_eq!(spans.last(), Some(&(Token::Keyword, "~")));
    }

    #[test]
    fn the_mask_lists_flow_sequences_and_anchors_are_marked() {
        let spans = classes("  pass: '********'");
        assert_eq!(spans.last(), Some(&(Token::Mask, "'********'")));
        assert_eq!(
            classes("hosts: [10.0.0.1, 'pve2:8006']"),
            vec![
                (Token::Key, "hosts"),
                (Token::Punct, ":"),
                (Token::Plain, " "),
                (Token::Punct, "["),
                (Token::Plain, "10.0.0.1"),
                (Token::Punct, ","),
                (Token::Plain, " "),
                (Token::Str, "'pve2:8006'"),
                (Token::Punct, "]"),
            ]
        );
        let spans = classes("base: &defaults");
        assert_eq!(spans.last(), Some(&(Token::Anchor, "&defaults")));
        let spans = classes("  - pve1");
        assert_eq!(spans[1], (Token::Punct, "-"));
    }

    #[test]
    fn a_hash_inside_a_word_or_string_is_not_a_comment() {
        let spans = classes("token_secret: ab#cd");
        // Spaces and a plain word are one plain span.
        assert_eq!(spans.last(), Some(&(Token::Plain, " ab#cd")));
        let spans = classes("x: \"a # b\"");
        assert_eq!(spans.last(), Some(&(Token::Str, "\"a # b\"")));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Whatever is typed, the spans cover the line exactly once, in order, on char
        /// boundaries (the view slices the line with them).
        #[test]
        fn spans_cover_every_byte_once(line in "[ -~\\t\u{e4}\u{4e2d}]{0,60}") {
            let spans = highlight_line(&line);
            let mut at = 0;
            for (_, r) in &spans {
                prop_assert_eq!(r.start, at);
                prop_assert!(r.end > r.start);
                prop_assert!(line.is_char_boundary(r.start) && line.is_char_boundary(r.end));
                at = r.end;
            }
            prop_assert_eq!(at, line.len());
        }
    }
}
