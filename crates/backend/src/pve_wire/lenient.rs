//! Lenient serde helpers for Proxmox VE's Perl-generated JSON.
//!
//! PVE does not honour its own schema types: booleans come as `0`/`1` (sometimes `true`/`false`,
//! rarely `"1"`), numbers as strings (`loadavg: ["0.15", …]`, `mhz: "2994.374"`, LXC PSI
//! `"0.46"`), and optional keys are absent rather than `null`. Use these with
//! `#[serde(default, deserialize_with = "…")]` on `Option` fields. A value of an unexpected shape
//! (an object where a number was expected, a non-numeric string) becomes `None` instead of failing
//! the whole response: a dashboard should degrade one field, not the cluster view.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Any JSON scalar, as found on the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// `null` or an absent value.
    Null,
    /// `true`/`false`.
    Bool(bool),
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// A float.
    F64(f64),
    /// A string.
    Str(String),
    /// An object or array where a scalar was expected.
    Other,
}

impl Scalar {
    /// As a boolean: `1`/`0`, `true`/`false`, `"1"`/`"0"`, `"yes"`/`"no"`, `"on"`/`"off"`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            Scalar::U64(n) => Some(*n != 0),
            Scalar::I64(n) => Some(*n != 0),
            Scalar::F64(n) => Some(*n != 0.0),
            Scalar::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Some(true),
                "0" | "false" | "no" | "off" | "" => Some(false),
                _ => None,
            },
            Scalar::Null | Scalar::Other => None,
        }
    }

    /// As a float: numbers and numeric strings.
    pub fn as_f64(&self) -> Option<f64> {
        let value = match self {
            Scalar::U64(n) => *n as f64,
            Scalar::I64(n) => *n as f64,
            Scalar::F64(n) => *n,
            Scalar::Str(s) => s.trim().parse::<f64>().ok()?,
            Scalar::Bool(_) | Scalar::Null | Scalar::Other => return None,
        };
        value.is_finite().then_some(value)
    }

    /// As a signed integer: integers, integral floats and numeric strings (floats are rounded).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::U64(n) => i64::try_from(*n).ok(),
            Scalar::I64(n) => Some(*n),
            Scalar::Str(s) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
            other => {
                let f = other.as_f64()?.round();
                (f >= i64::MIN as f64 && f <= i64::MAX as f64).then_some(f as i64)
            }
        }
    }

    /// As an unsigned integer (negative values give `None`).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Scalar::U64(n) => Some(*n),
            Scalar::Str(s) if s.trim().parse::<u64>().is_ok() => s.trim().parse().ok(),
            other => {
                let f = other.as_f64()?.round();
                (f >= 0.0 && f <= u64::MAX as f64).then_some(f as u64)
            }
        }
    }

    /// As a string: strings as they are, numbers and booleans formatted (`1`, `0.5`, `true`).
    pub fn into_string(self) -> Option<String> {
        match self {
            Scalar::Str(s) => Some(s),
            Scalar::U64(n) => Some(n.to_string()),
            Scalar::I64(n) => Some(n.to_string()),
            Scalar::F64(n) => Some(n.to_string()),
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Null | Scalar::Other => None,
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(if v >= 0 {
            Scalar::U64(v.unsigned_abs())
        } else {
            Scalar::I64(v)
        })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::U64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::F64(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// Reads any value as a [`Scalar`].
pub fn scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Scalar, D::Error> {
    deserializer.deserialize_any(ScalarVisitor)
}

/// `Option<bool>` from `0`/`1`, `true`/`false`, `"0"`/`"1"`, … (absent/null/unknown → `None`).
pub fn opt_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    Ok(scalar(deserializer)?.as_bool())
}

/// `bool` like [`opt_bool`], absent/null/unknown → `false`.
pub fn bool_or_false<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(scalar(deserializer)?.as_bool().unwrap_or(false))
}

/// `Option<f64>` from a number or a numeric string.
pub fn opt_f64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    Ok(scalar(deserializer)?.as_f64())
}

/// `Option<u64>` from a number or a numeric string (floats rounded, negatives → `None`).
pub fn opt_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(scalar(deserializer)?.as_u64())
}

/// `Option<i64>` from a number or a numeric string (floats rounded).
pub fn opt_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(scalar(deserializer)?.as_i64())
}

/// `Option<u32>` from a number or a numeric string (out of range → `None`).
pub fn opt_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    Ok(scalar(deserializer)?
        .as_u64()
        .and_then(|n| u32::try_from(n).ok()))
}

/// `Option<String>` from a string, or a number/boolean formatted as text.
pub fn opt_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(scalar(deserializer)?.into_string())
}

/// `String` like [`opt_string`], absent/null → empty.
pub fn string_or_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(scalar(deserializer)?.into_string().unwrap_or_default())
}

struct FloatListVisitor;

impl<'de> Visitor<'de> for FloatListVisitor {
    type Value = Vec<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element_seed(ScalarSeed)? {
            if let Some(value) = item.as_f64() {
                out.push(value);
            }
        }
        Ok(out)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<f64>, E> {
        Ok(v.split([' ', ',', ';'])
            .filter_map(|part| part.trim().parse::<f64>().ok())
            .collect())
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<f64>, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<f64>, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<f64>, D::Error> {
        deserializer.deserialize_any(FloatListVisitor)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<f64>, E> {
        Ok(vec![v as f64])
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Vec<f64>, E> {
        Ok(vec![v])
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<f64>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Vec::new())
    }
}

struct ScalarSeed;

impl<'de> de::DeserializeSeed<'de> for ScalarSeed {
    type Value = Scalar;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar, D::Error> {
        scalar(deserializer)
    }
}

/// `Vec<f64>` from a list of numbers or numeric strings (`loadavg: ["0.15","0.25","0.30"]`);
/// absent/null → empty; unparsable items are skipped.
pub fn f64_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
    deserializer.deserialize_any(FloatListVisitor)
}

/// Splits a PVE list string (`"a;b"`, `"a,b"`, `"a b"`) into its non-empty items.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split([';', ',', ' '])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize)]
    struct Sample {
        #[serde(default, deserialize_with = "opt_bool")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "bool_or_false")]
        template: bool,
        #[serde(default, deserialize_with = "opt_f64")]
        cpu: Option<f64>,
        #[serde(default, deserialize_with = "opt_u64")]
        mem: Option<u64>,
        #[serde(default, deserialize_with = "opt_i64")]
        offset: Option<i64>,
        #[serde(default, deserialize_with = "opt_u32")]
        vmid: Option<u32>,
        #[serde(default, deserialize_with = "opt_string")]
        id: Option<String>,
        #[serde(default, deserialize_with = "f64_list")]
        loadavg: Vec<f64>,
    }

    fn parse(json: &str) -> Sample {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn booleans_in_every_perl_form() {
        for (json, want) in [
            (r#"{"flag":1}"#, Some(true)),
            (r#"{"flag":0}"#, Some(false)),
            (r#"{"flag":true}"#, Some(true)),
            (r#"{"flag":false}"#, Some(false)),
            (r#"{"flag":"1"}"#, Some(true)),
            (r#"{"flag":"0"}"#, Some(false)),
            (r#"{"flag":"yes"}"#, Some(true)),
            (r#"{"flag":null}"#, None),
            (r#"{"flag":"maybe"}"#, None),
            (r#"{}"#, None),
        ] {
            assert_eq!(parse(json).flag, want, "{json}");
        }
        assert!(parse(r#"{"template":1}"#).template);
        assert!(!parse(r#"{}"#).template);
        assert!(!parse(r#"{"template":null}"#).template);
    }

    #[test]
    fn numbers_as_numbers_or_strings() {
        let s = parse(r#"{"cpu":"0.46","mem":"8192","offset":"-3","vmid":"100","id":100}"#);
        assert_eq!(s.cpu, Some(0.46));
        assert_eq!(s.mem, Some(8192));
        assert_eq!(s.offset, Some(-3));
        assert_eq!(s.vmid, Some(100));
        assert_eq!(s.id.as_deref(), Some("100"));
        let s = parse(r#"{"cpu":0.1873,"mem":61203451904.4,"offset":7,"vmid":9000}"#);
        assert_eq!(s.cpu, Some(0.1873));
        assert_eq!(s.mem, Some(61_203_451_904));
        assert_eq!(s.offset, Some(7));
        assert_eq!(s.vmid, Some(9000));
    }

    #[test]
    fn odd_shapes_degrade_to_none_instead_of_failing() {
        let s = parse(r#"{"cpu":"n/a","mem":-5,"vmid":99999999999,"id":{"x":1},"flag":[1]}"#);
        assert_eq!(s.cpu, None);
        assert_eq!(s.mem, None);
        assert_eq!(s.vmid, None);
        assert_eq!(s.id, None);
        assert_eq!(s.flag, None);
        let s = parse(r#"{"cpu":null,"mem":null}"#);
        assert_eq!((s.cpu, s.mem), (None, None));
    }

    #[test]
    fn loadavg_as_strings_numbers_or_missing() {
        assert_eq!(
            parse(r#"{"loadavg":["3.12","2.87","2.65"]}"#).loadavg,
            vec![3.12, 2.87, 2.65]
        );
        assert_eq!(parse(r#"{"loadavg":[0.5,"x",1]}"#).loadavg, vec![0.5, 1.0]);
        assert!(parse(r#"{}"#).loadavg.is_empty());
        assert!(parse(r#"{"loadavg":null}"#).loadavg.is_empty());
    }

    #[test]
    fn lists_split_on_every_pve_separator() {
        assert_eq!(
            split_list("plb_affinity_web;prod"),
            vec!["plb_affinity_web", "prod"]
        );
        assert_eq!(split_list("a, b c;;"), vec!["a", "b", "c"]);
        assert!(split_list("").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_integer_round_trips_through_a_string(n in 0u64..=u64::from(u32::MAX)) {
            let json = format!(r#"{{"mem":"{n}","vmid":{n}}}"#);
            let s = parse(&json);
            proptest::prop_assert_eq!(s.mem, Some(n));
            proptest::prop_assert_eq!(s.vmid, u32::try_from(n).ok());
        }
    }
}
