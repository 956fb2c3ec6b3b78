//! Canonical, version-independent names of Arrow logical types, and parsing of the names users
//! may write to pin CSV column types.

use arrow::datatypes::{DataType, TimeUnit};

fn unit_name(unit: &TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

/// Returns the canonical name stored in records, e.g. `int64`, `decimal128(10, 2)`,
/// `timestamp[us, UTC]`, `list<int32>`, `struct<a: int64, b: utf8>`.
pub fn logical_type_name(data_type: &DataType) -> String {
    use DataType::*;
    match data_type {
        Null => "null".into(),
        Boolean => "bool".into(),
        Int8 => "int8".into(),
        Int16 => "int16".into(),
        Int32 => "int32".into(),
        Int64 => "int64".into(),
        UInt8 => "uint8".into(),
        UInt16 => "uint16".into(),
        UInt32 => "uint32".into(),
        UInt64 => "uint64".into(),
        Float16 => "float16".into(),
        Float32 => "float32".into(),
        Float64 => "float64".into(),
        Utf8 | LargeUtf8 | Utf8View => "utf8".into(),
        Binary | LargeBinary | BinaryView => "binary".into(),
        FixedSizeBinary(n) => format!("fixed_size_binary({n})"),
        Date32 | Date64 => "date".into(),
        Time32(unit) | Time64(unit) => format!("time[{}]", unit_name(unit)),
        Timestamp(unit, None) => format!("timestamp[{}]", unit_name(unit)),
        Timestamp(unit, Some(tz)) => format!("timestamp[{}, {tz}]", unit_name(unit)),
        Duration(unit) => format!("duration[{}]", unit_name(unit)),
        Interval(_) => "interval".into(),
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) => format!("decimal128({p}, {s})"),
        Decimal256(p, s) => format!("decimal256({p}, {s})"),
        List(f) | LargeList(f) | ListView(f) | LargeListView(f) => {
            format!("list<{}>", logical_type_name(f.data_type()))
        }
        FixedSizeList(f, n) => {
            format!("fixed_size_list<{}, {n}>", logical_type_name(f.data_type()))
        }
        Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.name(), logical_type_name(f.data_type())))
                .collect();
            format!("struct<{}>", inner.join(", "))
        }
        Map(entries, _) => match entries.data_type() {
            Struct(kv) if kv.len() == 2 => format!(
                "map<{}, {}>",
                logical_type_name(kv[0].data_type()),
                logical_type_name(kv[1].data_type())
            ),
            other => format!("map<{}>", logical_type_name(other)),
        },
        Dictionary(_, value) => logical_type_name(value),
        RunEndEncoded(_, values) => logical_type_name(values.data_type()),
        Union(_, _) => "union".into(),
    }
}

/// Parses a type name accepted for pinned CSV columns: `bool`, `int8`…`int64`, `uint8`…`uint64`,
/// `float32`, `float64`, `utf8` (or `string`), `date`, `timestamp[s|ms|us|ns]` with an optional
/// `, ZONE`, and `decimal128(P, S)`.
pub fn parse_logical_type(name: &str) -> Option<DataType> {
    use DataType::*;
    let name = name.trim();
    let simple = match name {
        "bool" | "boolean" => Some(Boolean),
        "int8" => Some(Int8),
        "int16" => Some(Int16),
        "int32" => Some(Int32),
        "int64" => Some(Int64),
        "uint8" => Some(UInt8),
        "uint16" => Some(UInt16),
        "uint32" => Some(UInt32),
        "uint64" => Some(UInt64),
        "float32" => Some(Float32),
        "float64" => Some(Float64),
        "utf8" | "string" => Some(Utf8),
        "date" => Some(Date32),
        _ => None,
    };
    if simple.is_some() {
        return simple;
    }
    if let Some(inner) = name
        .strip_prefix("timestamp[")
        .and_then(|s| s.strip_suffix(']'))
    {
        let mut parts = inner.splitn(2, ',');
        let unit = match parts.next()?.trim() {
            "s" => TimeUnit::Second,
            "ms" => TimeUnit::Millisecond,
            "us" => TimeUnit::Microsecond,
            "ns" => TimeUnit::Nanosecond,
            _ => return None,
        };
        let tz = parts.next().map(|tz| tz.trim().into());
        return Some(Timestamp(unit, tz));
    }
    if let Some(inner) = name
        .strip_prefix("decimal128(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let (p, s) = inner.split_once(',')?;
        let precision: u8 = p.trim().parse().ok()?;
        let scale: i8 = s.trim().parse().ok()?;
        if precision == 0 || precision > 38 || scale as i16 > precision as i16 {
            return None;
        }
        return Some(Decimal128(precision, scale));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_for_pinnable_types() {
        for name in [
            "bool",
            "int64",
            "uint8",
            "float64",
            "utf8",
            "date",
            "timestamp[us]",
            "timestamp[ms, UTC]",
            "decimal128(10, 2)",
        ] {
            let parsed = parse_logical_type(name).unwrap();
            assert_eq!(logical_type_name(&parsed), name);
        }
        assert_eq!(parse_logical_type("decimal128(3, 5)"), None);
        assert_eq!(parse_logical_type("complex"), None);
    }
}
