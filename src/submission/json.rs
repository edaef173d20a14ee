//! A JSON document as it was written: numbers keep their text (so
//! 9007199254740993 is not rounded through binary floating point to
//! …994), and objects keep every key in order, so that a key given twice is
//! refused instead of silently taking the last value (serde_json's `Value`
//! does both).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number's text, exactly as written.
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Keys in the order written, duplicates kept ([`Json::duplicate_key`]).
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses a document. A byte order mark before it is skipped (CSV
    /// files may have one too).
    pub fn parse(text: &str) -> Result<Json, serde_json::Error> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        serde_json::from_str(text)
    }

    /// The value of `key` in an object (the first, when given twice).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The first key an object gives twice.
    pub fn duplicate_key(&self) -> Option<&str> {
        let Json::Object(entries) = self else {
            return None;
        };
        let mut seen = std::collections::HashSet::new();
        entries
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !seen.insert(*k))
    }

    /// The value as text, as a CSV file would hold it: a string as it is,
    /// a number as written, `true`/`false`, null as nothing.
    pub fn text(&self) -> String {
        match self {
            Json::Null => String::new(),
            Json::Bool(b) => b.to_string(),
            Json::Number(n) | Json::String(n) => n.clone(),
            Json::Array(_) | Json::Object(_) => self.to_json_text(),
        }
    }

    fn to_json_text(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => n.clone(),
            Json::String(s) => serde_json::Value::String(s.clone()).to_string(),
            Json::Array(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Json::to_json_text)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Json::Object(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!(
                        "{}:{}",
                        serde_json::Value::String(k.clone()),
                        v.to_json_text()
                    ))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

/// A raw element: a number keeps its text, anything else is parsed on.
fn from_raw<E: de::Error>(raw: &RawValue) -> Result<Json, E> {
    let text = raw.get();
    if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return Ok(Json::Number(text.to_string()));
    }
    serde_json::from_str(text).map_err(E::custom)
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    // Numbers reach these only at the top of a document; inside arrays
    // and objects they are taken as written ([`from_raw`]).
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Number(n.to_string()))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Number(n.to_string()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Json, E> {
        Ok(Json::Number(n.to_string()))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_string()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(raw) = seq.next_element::<&RawValue>()? {
            items.push(from_raw(raw)?);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let raw = map.next_value::<&RawValue>()?;
            entries.push((key, from_raw(raw)?));
        }
        Ok(Json::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn numbers_are_kept_as_written_and_keys_given_twice_are_seen() {
        let j = Json::parse(
            "\u{feff}{\"a\": 9007199254740993, \"b\": [1.10, -0.5e3, \"x\", null, true], \"a\": {}}",
        )
        .unwrap();
        assert_eq!(j.get("a"), Some(&Json::Number("9007199254740993".into())));
        assert_eq!(j.duplicate_key(), Some("a"));
        let Some(Json::Array(b)) = j.get("b") else {
            panic!("an array")
        };
        assert_eq!(b[0].text(), "1.10");
        assert_eq!(b[1].text(), "-0.5e3");
        assert_eq!(b[3].text(), "");
        assert_eq!(b[4].text(), "true");
        assert!(Json::parse("{\"a\": }").is_err());
    }
}
