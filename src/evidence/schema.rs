//! `schema` evidence: field names, pinned logical types, nullability, nested children and
//! declared categorical domains, from a Parquet file, a CSV header (types inferred once, then
//! pinned in the record) or a declared JSON Schema document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::datatypes::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use super::{Error, RECORD_FORMAT, display_path};
use crate::profile::read::{CsvOptions, TableFormat, TableSource};
use crate::profile::types::logical_type_name;

/// Where a schema came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaSource {
    Parquet,
    Csv,
    JsonLines,
    JsonSchema,
}

impl std::fmt::Display for SchemaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SchemaSource::Parquet => "Parquet",
            SchemaSource::Csv => "CSV",
            SchemaSource::JsonLines => "JSON lines",
            SchemaSource::JsonSchema => "JSON Schema",
        })
    }
}

/// Options of a `schema` item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchemaOptions {
    /// Input format; by default from the extension (`.parquet`, `.csv`, `.jsonl`, and `.json`
    /// for a JSON Schema document).
    pub source: Option<SchemaSource>,
    /// CSV reading and pinned column types.
    pub csv: CsvOptions,
    /// Declared categorical domains by top-level field name.
    pub categories: BTreeMap<String, Vec<String>>,
}

/// One field of a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRecord {
    pub name: String,
    /// Canonical logical type, e.g. `int64`, `timestamp[us, UTC]`, `list<utf8>`.
    pub logical_type: String,
    pub nullable: bool,
    /// Struct fields, the list element (`item`) or the map entries (`key`, `value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<FieldRecord>,
    /// Declared categorical domain, sorted, when one was declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
}

/// Stored schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaRecord {
    pub format: u32,
    pub source: SchemaSource,
    /// File read, relative to the workspace.
    pub file: String,
    pub fields: Vec<FieldRecord>,
}

impl SchemaRecord {
    pub fn field(&self, name: &str) -> Option<&FieldRecord> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Converts an Arrow field, recursing into nested types.
pub fn field_record(field: &Field) -> FieldRecord {
    let children = match field.data_type() {
        DataType::Struct(fields) => fields.iter().map(|f| field_record(f)).collect(),
        DataType::List(item)
        | DataType::LargeList(item)
        | DataType::FixedSizeList(item, _)
        | DataType::ListView(item)
        | DataType::LargeListView(item) => vec![field_record(item)],
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) => kv.iter().map(|f| field_record(f)).collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    FieldRecord {
        name: field.name().clone(),
        logical_type: logical_type_name(field.data_type()),
        nullable: field.is_nullable(),
        children,
        categories: None,
    }
}

/// Converts an Arrow schema to stored fields.
pub fn fields_of(schema: &Schema) -> Vec<FieldRecord> {
    schema.fields().iter().map(|f| field_record(f)).collect()
}

pub(crate) fn capture(
    options: &SchemaOptions,
    workspace: &Path,
    files: &[PathBuf],
) -> Result<SchemaRecord, Error> {
    let [path] = files else {
        return Err(Error::FileCount {
            kind: "schema",
            expected: "exactly one file",
            found: files.len(),
        });
    };
    let source = match options.source {
        Some(source) => source,
        None => match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(ext) if ext == "json" => SchemaSource::JsonSchema,
            _ => match TableFormat::from_path(path) {
                Some(TableFormat::Parquet) => SchemaSource::Parquet,
                Some(TableFormat::Csv) => SchemaSource::Csv,
                Some(TableFormat::JsonLines) => SchemaSource::JsonLines,
                None => {
                    return Err(Error::Read(
                        crate::profile::read::ReadError::UnknownFormat { path: path.clone() },
                    ));
                }
            },
        },
    };
    let mut fields = match source {
        SchemaSource::JsonSchema => json_schema_fields(path)?,
        table => {
            let format = match table {
                SchemaSource::Parquet => TableFormat::Parquet,
                SchemaSource::Csv => TableFormat::Csv,
                _ => TableFormat::JsonLines,
            };
            let table = TableSource::new(vec![path.clone()], Some(format), options.csv.clone())?;
            let schema = table.schema()?;
            if format == TableFormat::Csv && !options.csv.types.is_empty() {
                // Pinned types are not inferred from the values, so decode the file once to
                // check them: a schema must not record a type its data does not have.
                let never = std::sync::atomic::AtomicBool::new(false);
                table.for_each_batch::<Error>(&schema, None, &never, |_, _| Ok(()))?;
            }
            fields_of(&schema)
        }
    };
    for (name, domain) in &options.categories {
        let field = fields
            .iter_mut()
            .find(|f| &f.name == name)
            .ok_or_else(|| Error::Options {
                kind: "schema",
                message: format!("categories: field `{name}` is not in {}", path.display()),
            })?;
        let mut domain = domain.clone();
        domain.sort();
        domain.dedup();
        field.categories = Some(domain);
    }
    Ok(SchemaRecord {
        format: RECORD_FORMAT,
        source,
        file: display_path(workspace, path),
        fields,
    })
}

/// Reads a declared JSON Schema document: an object schema whose `properties` become fields.
/// Supported keywords: `type` (a name or a list including `"null"`), `properties`, `required`,
/// `items`, `enum` (a categorical domain) and `format` (`date`, `date-time`).
fn json_schema_fields(path: &Path) -> Result<Vec<FieldRecord>, Error> {
    let invalid = |message: String| Error::JsonSchema {
        path: path.to_path_buf(),
        message,
    };
    let size = std::fs::metadata(path)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if size > super::flat::MAX_DOCUMENT_BYTES {
        return Err(invalid(format!(
            "file is {size} bytes, too large for a schema"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let root: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let (logical_type, _) = json_type(&root, "$", &invalid)?;
    if logical_type != "struct" {
        return Err(invalid(
            "the top-level schema must be an object with `properties`".into(),
        ));
    }
    object_fields(&root, "$", &invalid)
}

fn object_fields(
    schema: &serde_json::Value,
    at: &str,
    invalid: &dyn Fn(String) -> Error,
) -> Result<Vec<FieldRecord>, Error> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties") else {
        return Ok(Vec::new());
    };
    let properties = properties
        .as_object()
        .ok_or_else(|| invalid(format!("{at}.properties must be an object")))?;
    let mut fields = Vec::new();
    for (name, property) in properties {
        let here = format!("{at}.{name}");
        fields.push(json_field(
            name,
            property,
            !required.contains(&name.as_str()),
            &here,
            invalid,
        )?);
    }
    Ok(fields)
}

fn json_field(
    name: &str,
    schema: &serde_json::Value,
    optional: bool,
    at: &str,
    invalid: &dyn Fn(String) -> Error,
) -> Result<FieldRecord, Error> {
    let (logical_type, null_allowed) = json_type(schema, at, invalid)?;
    let mut children = Vec::new();
    let mut logical_type = logical_type.to_string();
    if logical_type == "struct" {
        children = object_fields(schema, at, invalid)?;
        let inner: Vec<String> = children
            .iter()
            .map(|c| format!("{}: {}", c.name, c.logical_type))
            .collect();
        logical_type = format!("struct<{}>", inner.join(", "));
    } else if logical_type == "list" {
        let item = schema
            .get("items")
            .ok_or_else(|| invalid(format!("{at}: an array needs `items`")))?;
        let child = json_field("item", item, true, &format!("{at}[]"), invalid)?;
        logical_type = format!("list<{}>", child.logical_type);
        children.push(child);
    }
    let categories = match schema.get("enum") {
        Some(serde_json::Value::Array(values)) => {
            let mut domain: Vec<String> = values
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            domain.sort();
            domain.dedup();
            Some(domain)
        }
        Some(_) => return Err(invalid(format!("{at}.enum must be an array"))),
        None => None,
    };
    Ok(FieldRecord {
        name: name.to_string(),
        logical_type,
        nullable: optional || null_allowed,
        children,
        categories,
    })
}

/// Maps a JSON Schema `type` to a logical type name and whether `null` is allowed.
fn json_type(
    schema: &serde_json::Value,
    at: &str,
    invalid: &dyn Fn(String) -> Error,
) -> Result<(&'static str, bool), Error> {
    let names: Vec<&str> = match schema.get("type") {
        Some(serde_json::Value::String(name)) => vec![name.as_str()],
        Some(serde_json::Value::Array(names)) => names.iter().filter_map(|n| n.as_str()).collect(),
        Some(_) => return Err(invalid(format!("{at}.type must be a string or an array"))),
        None if schema.get("properties").is_some() => vec!["object"],
        None if schema.get("enum").is_some() => vec!["string"],
        None => return Err(invalid(format!("{at}: missing `type`"))),
    };
    let null_allowed = names.contains(&"null");
    let non_null: Vec<&str> = names.into_iter().filter(|n| *n != "null").collect();
    let [name] = non_null.as_slice() else {
        return Err(invalid(format!(
            "{at}: expected one non-null type, found {non_null:?}"
        )));
    };
    let format = schema.get("format").and_then(|f| f.as_str());
    let logical_type = match (*name, format) {
        ("integer", _) => "int64",
        ("number", _) => "float64",
        ("boolean", _) => "bool",
        ("string", Some("date")) => "date",
        ("string", Some("date-time")) => "timestamp[us, UTC]",
        ("string", _) => "utf8",
        ("object", _) => "struct",
        ("array", _) => "list",
        (other, _) => return Err(invalid(format!("{at}: unsupported type `{other}`"))),
    };
    Ok((logical_type, null_allowed))
}
