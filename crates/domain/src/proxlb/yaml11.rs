//! YAML 1.1 values as PyYAML's `FullLoader` builds them, the input ProxLB 2.3.0 validates.
//!
//! ProxLB reads `proxlb.yaml` with `yaml.load(f, Loader=yaml.FullLoader)` (PyYAML 6, YAML 1.1)
//! and hands the result to pydantic (`proxlb/utils/config_parser.py:244` at v2.3.0). So a plain
//! `on` is the boolean true, `0123` is the octal integer 83, `1:30` is the sexagesimal integer 90
//! and `2024-01-01` a date. This module resolves a plain scalar exactly like PyYAML's
//! `Resolver` (`yaml/resolver.py`) and constructs it like `SafeConstructor`
//! (`yaml/constructor.py`); the backend's loader builds [`Node`] trees from parser events.
//! Pure, no IO.

use serde::{Deserialize, Serialize};

/// A position in the file: 1-based line and 1-based column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

/// A loaded value (what PyYAML would hand to pydantic), with where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value starts in the file.
    pub pos: Pos,
}

/// The Python value PyYAML constructs.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `None`.
    Null,
    /// `bool`.
    Bool(bool),
    /// `int` that fits 128 bits.
    Int(i128),
    /// `int` beyond 128 bits (Python's are unbounded): its sign and approximate size.
    BigInt(f64),
    /// `float`.
    Float(f64),
    /// `str`.
    Str(String),
    /// `datetime.date` or `datetime.datetime` (kept as written).
    Timestamp(String),
    /// `list`.
    Seq(Vec<Node>),
    /// `dict` in file order; a repeated key appears twice and the last one wins on lookup.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The value of `key` in a mapping (the last occurrence, as in a Python dict).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is a `str`.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Python's type name, for messages.
    pub fn type_name(&self) -> &'static str {
        self.value.type_name()
    }

    /// Whether both hold the same value, wherever they stand in their files.
    pub fn same_value(&self, other: &Node) -> bool {
        match (&self.value, &other.value) {
            (Value::Seq(a), Value::Seq(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_value(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka.same_value(kb) && va.same_value(vb))
            }
            (a, b) => a == b,
        }
    }
}

impl Value {
    /// Python's type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Timestamp(_) => "date",
            Value::Seq(_) => "list",
            Value::Map(_) => "dict",
        }
    }
}

fn digits_with_underscores(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c == '_' || c.is_digit(radix))
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Whether `s` matches one sexagesimal tail `(?::[0-5]?[0-9])+`.
fn sexagesimal_tail(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    s.split(':').skip(1).all(|part| {
        let b = part.as_bytes();
        match b.len() {
            1 => b[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
            _ => false,
        }
    }) && s.starts_with(':')
}

/// PyYAML's implicit `int` regex (`yaml/resolver.py`).
fn is_int(s: &str) -> bool {
    let (_, u) = split_sign(s);
    if let Some(b) = u.strip_prefix("0b") {
        return !b.is_empty() && b.chars().all(|c| matches!(c, '0' | '1' | '_'));
    }
    if let Some(h) = u.strip_prefix("0x") {
        return digits_with_underscores(h, 16);
    }
    if u == "0" {
        return true;
    }
    if let Some(o) = u.strip_prefix('0') {
        return digits_with_underscores(o, 8);
    }
    let first = u.chars().next();
    if !matches!(first, Some('1'..='9')) {
        return false;
    }
    match u.find(':') {
        None => digits_with_underscores(u, 10),
        Some(i) => digits_with_underscores(&u[..i], 10) && sexagesimal_tail(&u[i..]),
    }
}

/// `[0-9_]*` followed by an optional `[eE][-+][0-9]+`.
fn fraction_and_exponent(s: &str) -> bool {
    let end = s.find(['e', 'E']).unwrap_or(s.len());
    let (frac, exp) = s.split_at(end);
    if !frac.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    if exp.is_empty() {
        return true;
    }
    let rest = &exp[1..];
    let Some(digits) = rest.strip_prefix(['-', '+']) else {
        return false;
    };
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// PyYAML's implicit `float` regex (`yaml/resolver.py`): note that `1e3` (no dot) is a string.
fn is_float(s: &str) -> bool {
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (_, u) = split_sign(s);
    if matches!(u, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    // \.[0-9_]+(?:[eE][-+][0-9]+)?  (no sign allowed on this branch)
    if let Some(rest) = s.strip_prefix('.') {
        let end = rest.find(['e', 'E']).unwrap_or(rest.len());
        return end > 0 && fraction_and_exponent(rest);
    }
    let Some(dot) = u.find('.') else {
        return false;
    };
    let (int_part, frac) = (&u[..dot], &u[dot + 1..]);
    if !matches!(int_part.chars().next(), Some('0'..='9')) {
        return false;
    }
    // [0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    if let Some(colon) = int_part.find(':') {
        return digits_with_underscores(&int_part[..colon], 10)
            && sexagesimal_tail(&int_part[colon..])
            && frac.chars().all(|c| c.is_ascii_digit() || c == '_');
    }
    digits_with_underscores(int_part, 10) && fraction_and_exponent(frac)
}

fn two_digits(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())
}

fn one_or_two_digits(s: &str) -> bool {
    (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parts of a timestamp that the constructor checks.
struct Stamp {
    year: u32,
    month: u32,
    day: u32,
    time: Option<(u32, u32, u32, Option<u32>)>,
}

/// PyYAML's implicit `timestamp` regex, split into its parts.
fn parse_timestamp(s: &str) -> Option<Stamp> {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let year: u32 = s[..4].parse().ok()?;
    if b.len() == 10 && two_digits(&s[5..7]) && b[7] == b'-' && two_digits(&s[8..10]) {
        return Some(Stamp {
            year,
            month: s[5..7].parse().ok()?,
            day: s[8..10].parse().ok()?,
            time: None,
        });
    }
    // YYYY-M(M)-D(D)(T|t|[ \t]+)H(H):MM:SS(.frac)?([ \t]*(Z|[-+]H(H)(:MM)?))?
    let rest = &s[5..];
    let (month, rest) = rest.split_once('-')?;
    if !one_or_two_digits(month) {
        return None;
    }
    let day_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let day = &rest[..day_len];
    if !one_or_two_digits(day) {
        return None;
    }
    let rest = &rest[day_len..];
    let rest = if let Some(r) = rest.strip_prefix(['T', 't']) {
        r
    } else {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if trimmed.len() == rest.len() {
            return None;
        }
        trimmed
    };
    let hour_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let hour = &rest[..hour_len];
    if !one_or_two_digits(hour) {
        return None;
    }
    let rest = rest[hour_len..].strip_prefix(':')?;
    let (minute, rest) = (rest.get(..2)?, rest.get(2..)?);
    let rest = rest.strip_prefix(':')?;
    let (second, mut rest) = (rest.get(..2)?, rest.get(2..)?);
    if !two_digits(minute) || !two_digits(second) {
        return None;
    }
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    let tz_hour = if rest.is_empty() {
        None
    } else if rest == "Z" {
        Some(0)
    } else {
        let r = rest.strip_prefix(['-', '+'])?;
        let (h, m) = match r.split_once(':') {
            Some((h, m)) => (h, Some(m)),
            None => (r, None),
        };
        if !one_or_two_digits(h) || m.is_some_and(|m| !two_digits(m)) {
            return None;
        }
        Some(h.parse().ok()?)
    };
    Some(Stamp {
        year,
        month: month.parse().ok()?,
        day: day.parse().ok()?,
        time: Some((
            hour.parse().ok()?,
            minute.parse().ok()?,
            second.parse().ok()?,
            tz_hour,
        )),
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `datetime.date`/`datetime.datetime` refuse what the regex lets through (month 13, hour 24).
fn construct_timestamp(s: &str, stamp: &Stamp) -> Result<Value, String> {
    let date_ok = stamp.year >= 1
        && (1..=12).contains(&stamp.month)
        && stamp.day >= 1
        && stamp.day <= days_in_month(stamp.year, stamp.month);
    let time_ok = stamp
        .time
        .is_none_or(|(h, m, sec, tz)| h < 24 && m < 60 && sec < 60 && tz.is_none_or(|t| t < 24));
    if date_ok && time_ok {
        Ok(Value::Timestamp(s.to_owned()))
    } else {
        Err(format!("{s:?} is not a valid date or time"))
    }
}

/// Python's `int(text, radix)` on text without underscores or sign.
fn parse_radix(text: &str, radix: u32) -> Result<Value, String> {
    if text.is_empty() || !text.chars().all(|c| c.is_digit(radix)) {
        return Err(format!(
            "invalid literal for int() with base {radix}: {text:?}"
        ));
    }
    match i128::from_str_radix(text, radix) {
        Ok(v) => Ok(Value::Int(v)),
        // Beyond 128 bits: keep the magnitude only (validation needs the sign and size).
        Err(_) => Ok(Value::BigInt(
            text.chars()
                .filter_map(|c| c.to_digit(radix))
                .fold(0f64, |acc, d| acc * f64::from(radix) + f64::from(d)),
        )),
    }
}

fn negate(value: Value, negative: bool) -> Value {
    match (value, negative) {
        (Value::Int(v), true) => Value::Int(-v),
        (Value::BigInt(v), true) => Value::BigInt(-v),
        (v, _) => v,
    }
}

/// `SafeConstructor.construct_yaml_int`.
pub fn construct_int(text: &str) -> Result<Value, String> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let (negative, u) = split_sign(&cleaned);
    if u.is_empty() {
        return Err(format!("invalid int {text:?}"));
    }
    let value = if u == "0" {
        Value::Int(0)
    } else if let Some(b) = u.strip_prefix("0b") {
        parse_radix(b, 2)?
    } else if let Some(h) = u.strip_prefix("0x") {
        parse_radix(h, 16)?
    } else if u.starts_with('0') {
        parse_radix(u, 8)?
    } else if u.contains(':') {
        let mut total: i128 = 0;
        for part in u.split(':') {
            let Value::Int(d) = parse_radix(part.trim(), 10)? else {
                return Err(format!("invalid int {text:?}"));
            };
            total = total
                .checked_mul(60)
                .and_then(|t| t.checked_add(d))
                .ok_or_else(|| format!("int {text:?} out of range"))?;
        }
        Value::Int(total)
    } else {
        // Python's int() also strips surrounding white space.
        parse_radix(u.trim(), 10)?
    };
    Ok(negate(value, negative))
}

/// Python's `float(text)`.
fn python_float(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let (negative, u) = split_sign(&lower);
    let special = match u {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    if let Some(v) = special {
        return Ok(if negative { -v } else { v });
    }
    let valid = !u.is_empty()
        && u.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
        && u.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return Err(format!("could not convert string to float: {text:?}"));
    }
    t.parse::<f64>()
        .map_err(|_| format!("could not convert string to float: {text:?}"))
}

/// `SafeConstructor.construct_yaml_float`.
pub fn construct_float(text: &str) -> Result<Value, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    let (negative, u) = split_sign(&cleaned);
    let sign = if negative { -1.0 } else { 1.0 };
    if u == ".inf" {
        return Ok(Value::Float(sign * f64::INFINITY));
    }
    if u == ".nan" {
        return Ok(Value::Float(f64::NAN));
    }
    if u.contains(':') {
        let mut total = 0.0;
        for part in u.split(':') {
            total = total * 60.0 + python_float(part)?;
        }
        return Ok(Value::Float(sign * total));
    }
    Ok(Value::Float(sign * python_float(u)?))
}

/// `SafeConstructor.construct_yaml_bool` (an explicit `!!bool`).
pub fn construct_bool(text: &str) -> Result<Value, String> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(Value::Bool(true)),
        "no" | "false" | "off" => Ok(Value::Bool(false)),
        _ => Err(format!("{text:?} is not a boolean")),
    }
}

/// Resolves and constructs a **plain** (unquoted, untagged) scalar as PyYAML does.
///
/// An error is what PyYAML raises while constructing (for example `0b` or `2023-02-30`), which
/// makes ProxLB exit at start.
pub fn resolve_plain(text: &str) -> Result<Value, String> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Value::Bool(true))
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Value::Bool(false))
        }
        // `tag:yaml.org,2002:value` and a merge key outside a key position: no constructor.
        "=" => return Err("the plain scalar '=' has no constructor in PyYAML".to_owned()),
        "<<" => return Err("a merge key '<<' may only be a mapping key".to_owned()),
        _ => {}
    }
    if is_int(text) {
        return construct_int(text);
    }
    if is_float(text) {
        return construct_float(text);
    }
    if let Some(stamp) = parse_timestamp(text) {
        return construct_timestamp(text, &stamp);
    }
    Ok(Value::Str(text.to_owned()))
}

/// Constructs a scalar with an explicit core tag (`!!str`, `!!int`, …; the suffix after `!!`).
pub fn construct_tagged(suffix: &str, text: &str) -> Result<Value, String> {
    match suffix {
        "str" => Ok(Value::Str(text.to_owned())),
        "int" => construct_int(text),
        "float" => construct_float(text),
        "bool" => construct_bool(text),
        "null" => Ok(Value::Null),
        "timestamp" => match parse_timestamp(text) {
            Some(stamp) => construct_timestamp(text, &stamp),
            None => Err(format!("{text:?} is not a timestamp")),
        },
        other => Err(format!("unsupported tag !!{other}")),
    }
}

/// Whether `text`, written as a plain scalar, would load as something other than that string
/// (`no`, `on`, `0123`, `1:30`, `~`, `2024-01-01`, …). Such strings must be quoted when written.
pub fn plain_would_coerce(text: &str) -> bool {
    !matches!(resolve_plain(text), Ok(Value::Str(s)) if s == text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_scalars_resolve_like_pyyaml() {
        assert_eq!(resolve_plain("on"), Ok(Value::Bool(true)));
        assert_eq!(resolve_plain("No"), Ok(Value::Bool(false)));
        assert_eq!(resolve_plain("y"), Ok(Value::Str("y".into())));
        assert_eq!(resolve_plain("0123"), Ok(Value::Int(83)));
        assert_eq!(resolve_plain("1:30"), Ok(Value::Int(90)));
        assert_eq!(resolve_plain("-1_000"), Ok(Value::Int(-1000)));
        assert_eq!(resolve_plain("0x1F"), Ok(Value::Int(31)));
        assert_eq!(resolve_plain("0b101"), Ok(Value::Int(5)));
        assert_eq!(resolve_plain("1e3"), Ok(Value::Str("1e3".into())));
        assert_eq!(resolve_plain("1.5e+3"), Ok(Value::Float(1500.0)));
        assert_eq!(resolve_plain("1:30.5"), Ok(Value::Float(90.5)));
        assert_eq!(resolve_plain("~"), Ok(Value::Null));
        assert_eq!(resolve_plain("09"), Ok(Value::Str("09".into())));
        assert!(matches!(
            resolve_plain("2024-02-29"),
            Ok(Value::Timestamp(_))
        ));
        assert!(resolve_plain("2023-02-29").is_err());
        assert!(resolve_plain("0x_").is_err());
        assert!(resolve_plain("=").is_err());
        assert!(matches!(
            resolve_plain("2001-12-14t21:59:43.10-05:00"),
            Ok(Value::Timestamp(_))
        ));
    }

    #[test]
    fn coercing_strings_are_recognised() {
        for s in [
            "no",
            "on",
            "0123",
            "1:30",
            "",
            "null",
            "1.0",
            "2024-01-01",
            ".inf",
        ] {
            assert!(plain_would_coerce(s), "{s}");
        }
        for s in ["pve1", "y", "n", "1e3", "node-01", "09"] {
            assert!(!plain_would_coerce(s), "{s}");
        }
    }
}
