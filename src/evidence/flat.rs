//! Structured documents (JSON, YAML, TOML) read into one tree type and flattened to dotted
//! names, keeping NaN and infinities as explicit markers instead of JSON nulls.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::Error;

/// Largest metadata or metrics document read, in bytes; such files are small, and the bound
/// keeps a wrongly matched large file from exhausting memory.
pub const MAX_DOCUMENT_BYTES: u64 = 64 << 20;

/// Longest text value kept in a record, in bytes; longer ones are cut at a character boundary
/// and end with `…`.
pub const MAX_TEXT_BYTES: usize = 1024;

/// A parsed document value.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
    List(Vec<Node>),
    Map(BTreeMap<String, Node>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON, YAML or TOML value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::UInt(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Text(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                // serde_json hands every entry of an object over, so a repeated key would
                // silently keep its last value. The YAML and TOML parsers reject repeats
                // themselves.
                let mut entries = BTreeMap::new();
                while let Some((key, value)) = map.next_entry::<KeyString, Node>()? {
                    if entries.contains_key(&key.0) {
                        return Err(de::Error::custom(format!("duplicate key `{}`", key.0)));
                    }
                    entries.insert(key.0, value);
                }
                Ok(Node::Map(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// A map key rendered as text, so YAML maps with number or boolean keys still parse.
struct KeyString(String);

impl<'de> Deserialize<'de> for KeyString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeyString, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

/// Which non-finite value a leaf held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonFinite {
    Nan,
    PosInf,
    NegInf,
}

impl NonFinite {
    pub fn of(x: f64) -> Option<NonFinite> {
        if x.is_nan() {
            Some(NonFinite::Nan)
        } else if x == f64::INFINITY {
            Some(NonFinite::PosInf)
        } else if x == f64::NEG_INFINITY {
            Some(NonFinite::NegInf)
        } else {
            None
        }
    }
}

impl std::fmt::Display for NonFinite {
    /// Writes the value as the sample profiles print their non-finite counts.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NonFinite::Nan => "NaN",
            NonFinite::PosInf => "+inf",
            NonFinite::NegInf => "-inf",
        })
    }
}

/// A leaf value as stored in records. Serialized untagged: an integer, a number, a boolean, a
/// string, `null`, or `{"non_finite": "nan" | "pos_inf" | "neg_inf"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Int(i64),
    UInt(u64),
    Number(f64),
    NonFinite { non_finite: NonFinite },
    Bool(bool),
    Text(String),
    Null,
}

impl Scalar {
    /// The numeric reading of the leaf, when it is a finite number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(v) => Some(*v as f64),
            Scalar::UInt(v) => Some(*v as f64),
            Scalar::Number(v) => Some(*v),
            _ => None,
        }
    }
}

/// Cuts `text` to at most [`MAX_TEXT_BYTES`] at a character boundary.
pub fn bounded_text(text: &str) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text.to_string();
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Flattens a tree into dotted names: map keys join with `.`, list items use their index
/// (`layers.0.units`). An empty map or list contributes no leaf.
pub fn flatten(node: &Node, prefix: &str, out: &mut BTreeMap<String, Scalar>) {
    let mut repeated = None;
    flatten_into(node, prefix, out, &mut repeated);
}

/// Flattens like [`flatten`], but returns the first name that two leaves flatten to (a dotted
/// key `"a.b"` beside a nested `{"a": {"b": ...}}`) instead of keeping only one of them.
pub fn flatten_unique(
    node: &Node,
    prefix: &str,
    out: &mut BTreeMap<String, Scalar>,
) -> Result<(), String> {
    let mut repeated = None;
    flatten_into(node, prefix, out, &mut repeated);
    repeated.map_or(Ok(()), Err)
}

/// Inserts the leaves of `node` into `out` and records in `repeated` the first name that was
/// already present.
fn flatten_into(
    node: &Node,
    prefix: &str,
    out: &mut BTreeMap<String, Scalar>,
    repeated: &mut Option<String>,
) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match node {
        Node::Map(entries) => {
            for (key, value) in entries {
                flatten_into(value, &join(key), out, repeated);
            }
        }
        Node::List(items) => {
            for (index, value) in items.iter().enumerate() {
                flatten_into(value, &join(&index.to_string()), out, repeated);
            }
        }
        leaf => {
            let earlier = out.insert(prefix.to_string(), scalar(leaf));
            if earlier.is_some() && repeated.is_none() {
                *repeated = Some(prefix.to_string());
            }
        }
    }
}

/// Converts a leaf node to its stored form.
pub fn scalar(node: &Node) -> Scalar {
    match node {
        Node::Null => Scalar::Null,
        Node::Bool(v) => Scalar::Bool(*v),
        Node::Int(v) => Scalar::Int(*v),
        Node::UInt(v) => Scalar::UInt(*v),
        Node::Float(v) => match NonFinite::of(*v) {
            Some(non_finite) => Scalar::NonFinite { non_finite },
            None => Scalar::Number(*v),
        },
        Node::Text(v) => Scalar::Text(bounded_text(v)),
        Node::List(_) | Node::Map(_) => Scalar::Null,
    }
}

/// Document formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentFormat {
    Json,
    Yaml,
    Toml,
}

impl DocumentFormat {
    pub fn from_path(path: &Path) -> Option<DocumentFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(DocumentFormat::Json),
            "yaml" | "yml" => Some(DocumentFormat::Yaml),
            "toml" => Some(DocumentFormat::Toml),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            DocumentFormat::Json => "JSON",
            DocumentFormat::Yaml => "YAML",
            DocumentFormat::Toml => "TOML",
        }
    }
}

/// Reads and parses a JSON, YAML or TOML document (format from `format` or the extension).
pub fn read_document(path: &Path, format: Option<DocumentFormat>) -> Result<Node, Error> {
    let format = format
        .or_else(|| DocumentFormat::from_path(path))
        .ok_or_else(|| Error::Parse {
            path: path.to_path_buf(),
            format: "document",
            message: "unknown extension: expected .json, .yaml, .yml or .toml, or set `format`"
                .into(),
        })?;
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_DOCUMENT_BYTES {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            format: format.name(),
            message: format!("file is {size} bytes, more than the {MAX_DOCUMENT_BYTES}-byte limit"),
        });
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let parse_error = |message: String| Error::Parse {
        path: path.to_path_buf(),
        format: format.name(),
        message,
    };
    match format {
        DocumentFormat::Json => serde_json::from_str(&text).map_err(|e| parse_error(e.to_string())),
        DocumentFormat::Yaml => {
            // The parser would otherwise reject `.nan` and `.inf` for untyped targets; with the
            // check off it hands them over as the strings `.nan`, `.inf` and `-.inf`.
            let options = serde_saphyr::options! { reject_non_finite_typeless_float: false };
            let node: Node = serde_saphyr::from_str_with_options(&text, options)
                .map_err(|e| parse_error(e.to_string()))?;
            Ok(restore_yaml_non_finite(node))
        }
        DocumentFormat::Toml => toml::from_str(&text).map_err(|e| parse_error(e.to_string())),
    }
}

/// Turns the YAML parser's non-finite markers back into floats. A quoted `".nan"` string reads
/// as NaN too, because the parser hands both over identically.
fn restore_yaml_non_finite(node: Node) -> Node {
    match node {
        Node::Text(text) => match text.as_str() {
            ".nan" | ".NaN" | ".NAN" => Node::Float(f64::NAN),
            ".inf" | "+.inf" | ".Inf" | ".INF" => Node::Float(f64::INFINITY),
            "-.inf" | "-.Inf" | "-.INF" => Node::Float(f64::NEG_INFINITY),
            _ => Node::Text(text),
        },
        Node::List(items) => Node::List(items.into_iter().map(restore_yaml_non_finite).collect()),
        Node::Map(entries) => Node::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, restore_yaml_non_finite(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_names_and_non_finite() {
        let node: Node = toml::from_str(
            "[eval]\nauc = 0.91\nloss = nan\n[latency]\np99 = 120\ntags = ['a', 'b']\n",
        )
        .unwrap();
        let mut flat = BTreeMap::new();
        flatten(&node, "", &mut flat);
        assert_eq!(flat["eval.auc"], Scalar::Number(0.91));
        assert_eq!(
            flat["eval.loss"],
            Scalar::NonFinite {
                non_finite: NonFinite::Nan
            }
        );
        assert_eq!(flat["latency.p99"], Scalar::Int(120));
        assert_eq!(flat["latency.tags.1"], Scalar::Text("b".into()));
        let json = serde_json::to_string(&flat).unwrap();
        assert!(!json.contains("null"));
        let back: BTreeMap<String, Scalar> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, flat);
    }

    #[test]
    fn long_text_is_bounded() {
        let text = "é".repeat(MAX_TEXT_BYTES);
        let bounded = bounded_text(&text);
        assert!(bounded.len() <= MAX_TEXT_BYTES + '…'.len_utf8());
        assert!(bounded.ends_with('…'));
    }
}
