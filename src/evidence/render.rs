//! Plain-text rendering of stored records for `ev show`. Returns strings and never prints.

use std::fmt::Write;

use super::EvidenceRecord;
use super::flat::Scalar;
use super::golden::{GoldenRecord, GoldenSource};
use super::metrics::MetricsRecord;
use super::model::{ArtifactDetail, ModelRecord};
use super::sample::SampleRecord;
use super::schema::{FieldRecord, SchemaRecord};
use crate::profile::{ColumnProfile, ColumnStats, NumericStats, TableProfile, ValueUnit};

/// Renders any record as readable text ending with a newline.
pub fn render_record(record: &EvidenceRecord) -> String {
    match record {
        EvidenceRecord::Sample(r) => render_sample(r),
        EvidenceRecord::Schema(r) => render_schema(r),
        EvidenceRecord::Golden(r) => render_golden(r),
        EvidenceRecord::Model(r) => render_model(r),
        EvidenceRecord::Metrics(r) => render_metrics(r),
    }
}

/// Formats a numeric value in its unit: dates and timestamps as ISO 8601, others as numbers.
pub fn format_value(unit: &ValueUnit, x: f64) -> String {
    match unit {
        ValueUnit::DaysSinceEpoch => {
            chrono::DateTime::from_timestamp((x as i64).saturating_mul(86_400), 0)
                .map(|t| t.date_naive().to_string())
                .unwrap_or_else(|| format!("{x} days"))
        }
        ValueUnit::MicrosSinceEpoch { timezone } => {
            let text = chrono::DateTime::from_timestamp_micros(x as i64)
                .map(|t| t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string())
                .unwrap_or_else(|| format!("{x} µs"));
            match timezone {
                Some(_) => format!("{text}Z"),
                None => text,
            }
        }
        ValueUnit::MicrosSinceMidnight => {
            let micros = x as i64;
            let seconds = micros.div_euclid(1_000_000);
            format!(
                "{:02}:{:02}:{:02}.{:06}",
                seconds / 3600,
                (seconds / 60) % 60,
                seconds % 60,
                micros.rem_euclid(1_000_000)
            )
        }
        ValueUnit::Micros => format!("{x} µs"),
        _ => format_number(x),
    }
}

fn format_number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.6}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".into();
    }
    format!("{:.1}%", 100.0 * part as f64 / whole as f64)
}

fn render_numeric(out: &mut String, stats: &NumericStats, indent: &str) {
    let unit = &stats.unit;
    let (min, max) = match &stats.exact {
        Some(exact) if matches!(unit, ValueUnit::Plain | ValueUnit::Decimal { .. }) => {
            (Some(exact.min.clone()), Some(exact.max.clone()))
        }
        _ => (
            stats.moments.min.map(|v| format_value(unit, v)),
            stats.moments.max.map(|v| format_value(unit, v)),
        ),
    };
    if let (Some(min), Some(max)) = (min, max) {
        let _ = writeln!(out, "{indent}range      {min} .. {max}");
    }
    if let Some(mean) = stats.moments.mean {
        let std = stats.variance().map(f64::sqrt).unwrap_or(0.0);
        let _ = writeln!(
            out,
            "{indent}mean       {}  std {}",
            format_number(mean),
            format_number(std)
        );
    }
    let qs = [0.01, 0.25, 0.5, 0.75, 0.99];
    let values: Vec<String> = stats
        .sketch
        .quantiles(&qs)
        .iter()
        .zip(qs)
        .filter_map(|(v, q)| {
            v.map(|v| format!("p{}={}", (q * 100.0) as u32, format_value(unit, v)))
        })
        .collect();
    if !values.is_empty() {
        let _ = writeln!(out, "{indent}quantiles  {}", values.join(" "));
    }
    if stats.nan + stats.pos_inf + stats.neg_inf > 0 {
        let _ = writeln!(
            out,
            "{indent}non-finite NaN {}  +inf {}  -inf {}",
            stats.nan, stats.pos_inf, stats.neg_inf
        );
    }
    let _ = writeln!(
        out,
        "{indent}distinct   {}{}",
        if stats.distinct.exact { "" } else { "~" },
        stats.distinct.estimate
    );
}

fn render_column(out: &mut String, column: &ColumnProfile) {
    let _ = writeln!(
        out,
        "  {}  {}{}  nulls {} ({})",
        column.name,
        column.logical_type,
        if column.nullable { "" } else { " not null" },
        column.nulls,
        percent(column.nulls, column.rows)
    );
    let indent = "      ";
    match &column.stats {
        ColumnStats::Numeric(stats) => render_numeric(out, stats, indent),
        ColumnStats::Boolean(b) => {
            let _ = writeln!(
                out,
                "{indent}true {}  false {}",
                b.true_count, b.false_count
            );
        }
        ColumnStats::Categorical(c) => {
            let _ = writeln!(
                out,
                "{indent}distinct   {}{}",
                if c.distinct.exact { "" } else { "~" },
                c.distinct.estimate
            );
            let top: Vec<String> = c
                .top
                .values
                .iter()
                .take(5)
                .map(|v| format!("{:?} {}", v.value, v.count))
                .collect();
            if !top.is_empty() {
                let _ = writeln!(out, "{indent}top        {}", top.join(", "));
            }
        }
        ColumnStats::List(list) => {
            let _ = writeln!(out, "{indent}list lengths:");
            render_numeric(out, &list.lengths, "        ");
        }
        ColumnStats::Struct { fields } => {
            let _ = writeln!(out, "{indent}struct of {fields} fields (profiled below)");
        }
        ColumnStats::Null => {}
        ColumnStats::Unsupported { reason } => {
            let _ = writeln!(out, "{indent}not profiled: {reason}");
        }
    }
}

fn render_profile(out: &mut String, profile: &TableProfile) {
    for column in &profile.columns {
        render_column(out, column);
    }
}

fn render_sample(record: &SampleRecord) -> String {
    let mut out = String::new();
    let files: Vec<&str> = record.files.iter().map(|f| f.path.as_str()).collect();
    let _ = writeln!(
        out,
        "sample: {} rows, {} columns from {}",
        record.profile.rows,
        record.profile.columns.len(),
        files.join(", ")
    );
    if let Some(redaction) = &record.redaction {
        let _ = writeln!(
            out,
            "redacted ({}): {}",
            redaction.mode,
            redaction.columns.join(", ")
        );
    }
    render_profile(&mut out, &record.profile);
    for slices in &record.slices {
        let _ = writeln!(
            out,
            "slices by {} ({} values):",
            slices.column, slices.distinct_values
        );
        for slice in &slices.slices {
            let value = slice.value.as_deref().unwrap_or("(null)");
            let _ = writeln!(
                out,
                "  {}={}: {} rows ({})",
                slices.column,
                value,
                slice.profile.rows,
                percent(slice.profile.rows, record.profile.rows)
            );
        }
        if let Some(other) = &slices.other {
            let _ = writeln!(
                out,
                "  other ({} values): {} rows ({})",
                other.values,
                other.profile.rows,
                percent(other.profile.rows, record.profile.rows)
            );
        }
    }
    out
}

fn render_fields(out: &mut String, fields: &[FieldRecord], depth: usize) {
    for field in fields {
        let _ = write!(
            out,
            "{}{}  {}{}",
            "  ".repeat(depth + 1),
            field.name,
            field.logical_type,
            if field.nullable { "" } else { " not null" }
        );
        if let Some(categories) = &field.categories {
            let _ = write!(out, "  categories [{}]", categories.join(", "));
        }
        out.push('\n');
        if !field.children.is_empty() && depth < 16 {
            render_fields(out, &field.children, depth + 1);
        }
    }
}

fn render_schema(record: &SchemaRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "schema: {} fields from {} ({})",
        record.fields.len(),
        record.file,
        record.source
    );
    render_fields(&mut out, &record.fields, 0);
    out
}

fn render_golden(record: &GoldenRecord) -> String {
    let mut out = String::new();
    match &record.source {
        GoldenSource::File { path } => {
            let _ = writeln!(out, "golden result from {path}");
        }
        GoldenSource::Command {
            command,
            exit_code,
            signal,
            timed_out,
            stderr,
            stderr_bytes,
        } => {
            let status = match (timed_out, exit_code, signal) {
                (true, _, _) => "timed out".to_string(),
                (_, Some(code), _) => format!("exit code {code}"),
                (_, None, Some(signal)) => format!("signal {signal}"),
                _ => "unknown status".to_string(),
            };
            let _ = writeln!(out, "golden result of `{command}` ({status})");
            if *stderr_bytes > 0 {
                let _ = writeln!(out, "stderr ({stderr_bytes} bytes):");
                for line in stderr.lines().take(20) {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
    }
    if let Some(query) = &record.query {
        let _ = writeln!(out, "query:");
        for line in query.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    match &record.result {
        Some(table) => {
            let _ = writeln!(
                out,
                "result: {} rows, {} columns",
                table.rows,
                table.schema.len()
            );
            render_fields(&mut out, &table.schema, 0);
        }
        None => {
            let _ = writeln!(out, "result: none (the command failed; stored as evidence)");
        }
    }
    if !record.key_columns.is_empty() {
        let _ = writeln!(out, "key columns: {}", record.key_columns.join(", "));
    }
    let _ = writeln!(
        out,
        "tolerance: absolute {} relative {}",
        record.tolerance.default.absolute, record.tolerance.default.relative
    );
    for (column, t) in &record.tolerance.columns {
        let _ = writeln!(
            out,
            "  {column}: absolute {} relative {}",
            t.absolute, t.relative
        );
    }
    out
}

fn format_scalar(value: &Scalar) -> String {
    match value {
        Scalar::Int(v) => v.to_string(),
        Scalar::UInt(v) => v.to_string(),
        Scalar::Number(v) => format_number(*v),
        Scalar::NonFinite { non_finite } => non_finite.to_string(),
        Scalar::Bool(v) => v.to_string(),
        Scalar::Text(v) => format!("{v:?}"),
        Scalar::Null => "null".into(),
    }
}

fn render_model(record: &ModelRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "model: {} artifacts", record.artifacts.len());
    for artifact in &record.artifacts {
        let _ = writeln!(
            out,
            "  {}  {} bytes  blake3 {}",
            artifact.path,
            artifact.bytes,
            &artifact.blake3[..16.min(artifact.blake3.len())]
        );
        if let ArtifactDetail::Safetensors { tensors, .. } = &artifact.detail {
            for tensor in tensors.iter().take(50) {
                let _ = writeln!(
                    out,
                    "    {}  {} {:?}  {}",
                    tensor.name,
                    tensor.dtype,
                    tensor.shape,
                    &tensor.blake3[..16.min(tensor.blake3.len())]
                );
            }
            if tensors.len() > 50 {
                let _ = writeln!(out, "    … {} more tensors", tensors.len() - 50);
            }
        }
    }
    if let Some(meta) = &record.metadata {
        let _ = writeln!(out, "metadata from {}:", meta.file);
        for (label, value) in [
            ("name", &meta.name),
            ("version", &meta.version),
            ("framework", &meta.framework),
            ("training data", &meta.training_data),
        ] {
            if let Some(value) = value {
                let _ = writeln!(out, "  {label}: {value}");
            }
        }
        for (title, map) in [
            ("hyperparameters", &meta.hyperparameters),
            ("metrics", &meta.metrics),
            ("other", &meta.other),
        ] {
            if !map.is_empty() {
                let _ = writeln!(out, "  {title}:");
                for (name, value) in map {
                    let _ = writeln!(out, "    {name} = {}", format_scalar(value));
                }
            }
        }
    }
    out
}

fn render_metrics(record: &MetricsRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "metrics from {}", record.files.join(", "));
    for (name, value) in &record.values {
        let _ = writeln!(out, "  {name} = {}", format_number(*value));
    }
    for (name, value) in &record.non_finite {
        let _ = writeln!(out, "  {name} = {value}");
    }
    for (name, value) in &record.non_numeric {
        let _ = writeln!(out, "  {name} = {} (not a number)", format_scalar(value));
    }
    out
}
