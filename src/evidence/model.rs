//! `model` evidence: model artifacts in any format (a file or a folder), with the tensor table of
//! `.safetensors` files and optional metadata (JSON, YAML or TOML) as a structured record.
//!
//! ONNX files are hashed only: reading their opset, inputs and outputs would need a protobuf
//! decoder of the ONNX schema, and no maintained, lightweight Rust crate provides one.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use super::flat::{Node, Scalar, flatten, read_document, scalar};
use super::{CaptureContext, Error, RECORD_FORMAT, display_path};

/// Largest safetensors header accepted by default, in bytes. Real headers are kilobytes to a few
/// megabytes; the bound stops a hostile length field from allocating gigabytes.
pub const DEFAULT_MAX_HEADER_BYTES: u64 = 100 << 20;

/// Options of a `model` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelOptions {
    /// Metadata file (JSON, YAML or TOML), relative to the workspace.
    pub metadata: Option<String>,
    /// Largest safetensors header accepted, in bytes.
    pub max_header_bytes: u64,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            metadata: None,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

/// One tensor of a safetensors file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorInfo {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<u64>,
    /// Byte length of the tensor data.
    pub bytes: u64,
    /// BLAKE3 of the tensor's bytes, hex.
    pub blake3: String,
}

/// Format-specific content of an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ArtifactDetail {
    Safetensors {
        /// The header's `__metadata__` string map.
        metadata: BTreeMap<String, String>,
        /// Tensors sorted by name.
        tensors: Vec<TensorInfo>,
    },
    /// ONNX model, hashed only.
    Onnx,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Path relative to the workspace.
    pub path: String,
    pub bytes: u64,
    /// BLAKE3 of the whole file, hex.
    pub blake3: String,
    pub detail: ArtifactDetail,
}

/// Structured model metadata. Well-known keys are lifted out; all others stay in `other`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    pub file: String,
    pub name: Option<String>,
    pub version: Option<String>,
    pub framework: Option<String>,
    /// `training_data` (a path, URI, dataset version or ev revision), as text.
    pub training_data: Option<String>,
    /// `hyperparameters` flattened to dotted names.
    pub hyperparameters: BTreeMap<String, Scalar>,
    /// `metrics` flattened to dotted names.
    pub metrics: BTreeMap<String, Scalar>,
    /// Every other key, flattened.
    pub other: BTreeMap<String, Scalar>,
}

/// Stored model record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub format: u32,
    /// Artifacts sorted by path.
    pub artifacts: Vec<Artifact>,
    pub metadata: Option<ModelMetadata>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Hashes `len` bytes of `file` from `offset`, streaming.
fn hash_range(
    file: &mut File,
    path: &Path,
    offset: u64,
    len: u64,
    ctx: &CaptureContext<'_>,
) -> Result<String, Error> {
    file.seek(SeekFrom::Start(offset)).map_err(io_error(path))?;
    let mut reader = BufReader::with_capacity(1 << 20, file.take(len));
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut read_total = 0u64;
    loop {
        if ctx.interrupt.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        let n = reader.read(&mut buffer).map_err(io_error(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        read_total += n as u64;
    }
    if read_total != len {
        return Err(Error::Safetensors {
            path: path.to_path_buf(),
            message: format!(
                "file ended after {read_total} of {len} bytes; it changed while being read"
            ),
        });
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Size in bytes of one element of a safetensors dtype; `None` for unknown dtypes.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

/// Reads a safetensors header (8-byte little-endian length, then JSON) and hashes every tensor.
pub fn read_safetensors(
    path: &Path,
    max_header_bytes: u64,
    ctx: &CaptureContext<'_>,
) -> Result<ArtifactDetail, Error> {
    let invalid = |message: String| Error::Safetensors {
        path: path.to_path_buf(),
        message,
    };
    let mut file = File::open(path).map_err(io_error(path))?;
    let file_len = file.metadata().map_err(io_error(path))?.len();
    let mut length = [0u8; 8];
    file.read_exact(&mut length)
        .map_err(|_| invalid(format!("{file_len} bytes is too short for a header")))?;
    let header_len = u64::from_le_bytes(length);
    if header_len > max_header_bytes {
        return Err(invalid(format!(
            "header length {header_len} exceeds the limit of {max_header_bytes} bytes"
        )));
    }
    if header_len > file_len - 8 {
        return Err(invalid(format!(
            "header length {header_len} exceeds the file's remaining {} bytes",
            file_len - 8
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header).map_err(io_error(path))?;
    let header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| invalid(format!("header is not a JSON object: {e}")))?;
    let data_start = 8 + header_len;
    let data_len = file_len - data_start;
    let mut metadata = BTreeMap::new();
    let mut tensors = Vec::new();
    for (name, entry) in &header {
        if name == "__metadata__" {
            let map = entry
                .as_object()
                .ok_or_else(|| invalid("`__metadata__` is not an object".into()))?;
            for (key, value) in map {
                let value = value
                    .as_str()
                    .ok_or_else(|| invalid(format!("`__metadata__.{key}` is not a string")))?;
                metadata.insert(key.clone(), super::flat::bounded_text(value));
            }
            continue;
        }
        let dtype = entry
            .get("dtype")
            .and_then(|d| d.as_str())
            .ok_or_else(|| invalid(format!("tensor `{name}` has no dtype")))?;
        let shape: Vec<u64> = entry
            .get("shape")
            .and_then(|s| s.as_array())
            .ok_or_else(|| invalid(format!("tensor `{name}` has no shape")))?
            .iter()
            .map(|d| d.as_u64())
            .collect::<Option<_>>()
            .ok_or_else(|| invalid(format!("tensor `{name}` has a non-integer dimension")))?;
        let offsets: Vec<u64> = entry
            .get("data_offsets")
            .and_then(|s| s.as_array())
            .ok_or_else(|| invalid(format!("tensor `{name}` has no data_offsets")))?
            .iter()
            .map(|d| d.as_u64())
            .collect::<Option<_>>()
            .ok_or_else(|| invalid(format!("tensor `{name}` has invalid data_offsets")))?;
        let [begin, end] = offsets[..] else {
            return Err(invalid(format!("tensor `{name}` needs two data_offsets")));
        };
        if begin > end || end > data_len {
            return Err(invalid(format!(
                "tensor `{name}` spans bytes {begin}..{end} outside the {data_len}-byte data section"
            )));
        }
        if let Some(bits) = dtype_bits(dtype) {
            let elements = shape
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d))
                .ok_or_else(|| invalid(format!("tensor `{name}` shape overflows")))?;
            let expected = elements
                .checked_mul(bits)
                .map(|b| b.div_ceil(8))
                .ok_or_else(|| invalid(format!("tensor `{name}` size overflows")))?;
            if expected != end - begin {
                return Err(invalid(format!(
                    "tensor `{name}` of {dtype} {shape:?} needs {expected} bytes but spans {}",
                    end - begin
                )));
            }
        }
        let blake3 = hash_range(&mut file, path, data_start + begin, end - begin, ctx)?;
        tensors.push(TensorInfo {
            name: name.clone(),
            dtype: dtype.to_string(),
            shape,
            bytes: end - begin,
            blake3,
        });
    }
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ArtifactDetail::Safetensors { metadata, tensors })
}

fn text_of(node: Option<Node>) -> Option<String> {
    match node? {
        Node::Text(text) => Some(super::flat::bounded_text(&text)),
        Node::Null => None,
        Node::Map(_) | Node::List(_) => None,
        other => match scalar(&other) {
            Scalar::Int(v) => Some(v.to_string()),
            Scalar::UInt(v) => Some(v.to_string()),
            Scalar::Number(v) => Some(v.to_string()),
            Scalar::Bool(v) => Some(v.to_string()),
            _ => None,
        },
    }
}

fn read_metadata(workspace: &Path, file: &str) -> Result<ModelMetadata, Error> {
    let path = workspace.join(file);
    let node = read_document(&path, None)?;
    let Node::Map(mut map) = node else {
        return Err(Error::Parse {
            path,
            format: "model metadata",
            message: "the top level must be a map".into(),
        });
    };
    let mut metadata = ModelMetadata {
        file: file.to_string(),
        name: text_of(map.remove("name")),
        version: text_of(map.remove("version")),
        framework: text_of(map.remove("framework")),
        training_data: text_of(map.remove("training_data")),
        ..ModelMetadata::default()
    };
    if let Some(node) = map.remove("hyperparameters") {
        flatten(&node, "", &mut metadata.hyperparameters);
    }
    if let Some(node) = map.remove("metrics") {
        flatten(&node, "", &mut metadata.metrics);
    }
    flatten(&Node::Map(map), "", &mut metadata.other);
    Ok(metadata)
}

pub(crate) fn capture(
    options: &ModelOptions,
    workspace: &Path,
    files: &[PathBuf],
    ctx: &CaptureContext<'_>,
) -> Result<ModelRecord, Error> {
    let mut paths = Vec::new();
    for path in files {
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                let entry = entry.map_err(|e| Error::Io {
                    path: path.clone(),
                    source: e.into(),
                })?;
                if entry.file_type().is_file() {
                    paths.push(entry.into_path());
                }
            }
        } else {
            paths.push(path.clone());
        }
    }
    let metadata_path = options.metadata.as_ref().map(|m| workspace.join(m));
    paths.retain(|p| Some(p) != metadata_path.as_ref());
    if paths.is_empty() && options.metadata.is_none() {
        return Err(Error::FileCount {
            kind: "model",
            expected: "at least one artifact or a `metadata` file",
            found: 0,
        });
    }
    let mut artifacts = Vec::new();
    for path in &paths {
        let mut file = File::open(path).map_err(io_error(path))?;
        let bytes = file.metadata().map_err(io_error(path))?.len();
        let blake3 = hash_range(&mut file, path, 0, bytes, ctx)?;
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let detail = match extension.as_deref() {
            Some("safetensors") => read_safetensors(path, options.max_header_bytes, ctx)?,
            Some("onnx") => ArtifactDetail::Onnx,
            _ => ArtifactDetail::Other,
        };
        artifacts.push(Artifact {
            path: display_path(workspace, path),
            bytes,
            blake3,
            detail,
        });
    }
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    let metadata = match &options.metadata {
        Some(file) => Some(read_metadata(workspace, file)?),
        None => None,
    };
    Ok(ModelRecord {
        format: RECORD_FORMAT,
        artifacts,
        metadata,
    })
}
