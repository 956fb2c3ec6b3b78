//! Schema diff: columns added, removed and renamed, type changes classed on a widening lattice,
//! nullability changes and categorical domain changes.
//!
//! Types are the canonical logical type names of stored field records (`int64`, `float32`,
//! `decimal128(10, 2)`, `timestamp[ms, UTC]`, `list<int32>`, ...). The lattice:
//! - integers: to a type that represents every value (`int32 → int64`, `uint32 → int64`) is widening;
//!   anything else between integers (`int64 → int32`, `int32 → uint64`) is narrowing.
//! - integer → float is widening, with a precision note when the float's mantissa is shorter
//!   than the integer (`int32 → float32` is exact only below 2^24, `int64 → float64` below
//!   2^53); float → integer is narrowing; `float32 → float64` widening, the reverse narrowing.
//! - decimals: widening when neither the integer digits nor the scale shrink; decimal → float is
//!   widening with a precision note; float → decimal is narrowing; integer → decimal is widening
//!   when the decimal has enough integer digits (10 for 32-bit, 19 for 64-bit, 3 and 5 for 8 and
//!   16 bits), narrowing otherwise.
//! - `date → timestamp` widening, `timestamp → date` narrowing; a finer timestamp unit is
//!   widening (with a range note for nanoseconds: 1677–2262), a coarser one narrowing; a time
//!   zone change between two zones is compatible (same instants, another display zone); adding
//!   or dropping the zone is incompatible, because the stored numbers change meaning.
//! - lists class by their element type; everything else that differs (string ↔ number,
//!   bool ↔ number, binary ↔ string, nested ↔ scalar) is incompatible.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::evidence::schema::FieldRecord;

/// Effect of a type change on readers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeChangeClass {
    /// Every old value is representable, with the same meaning.
    Compatible,
    /// Every old value is representable in the new type (perhaps with a precision note).
    Widening,
    /// Some old values may not fit the new type.
    Narrowing,
    /// The values cannot be compared or changed meaning.
    Incompatible,
}

/// A classified type change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TypeChange {
    pub old: String,
    pub new: String,
    pub class: TypeChangeClass,
    /// Precision or range caveat, empty when none.
    pub note: String,
}

/// One schema change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SchemaChange {
    Added {
        column: String,
        logical_type: String,
        nullable: bool,
    },
    Removed {
        column: String,
        logical_type: String,
    },
    /// A removed and an added column with the same type at the same position, or with the same
    /// profile fingerprint.
    Renamed {
        from: String,
        to: String,
        logical_type: String,
        evidence: String,
    },
    TypeChanged {
        column: String,
        #[serde(flatten)]
        change: TypeChange,
    },
    Nullability {
        column: String,
        old: bool,
        new: bool,
    },
    Categories {
        column: String,
        added: Vec<String>,
        removed: Vec<String>,
    },
}

impl SchemaChange {
    /// Returns the column the change is about (the new name for a rename).
    pub fn column(&self) -> &str {
        match self {
            SchemaChange::Added { column, .. }
            | SchemaChange::Removed { column, .. }
            | SchemaChange::TypeChanged { column, .. }
            | SchemaChange::Nullability { column, .. }
            | SchemaChange::Categories { column, .. } => column,
            SchemaChange::Renamed { to, .. } => to,
        }
    }

    /// Checks whether existing readers may break: removals, renames, narrowing or incompatible type
    /// changes, a column becoming nullable, and new values in a declared categorical domain.
    pub fn is_breaking(&self) -> bool {
        match self {
            SchemaChange::Added { .. } => false,
            SchemaChange::Removed { .. } | SchemaChange::Renamed { .. } => true,
            SchemaChange::TypeChanged { change, .. } => change.class >= TypeChangeClass::Narrowing,
            SchemaChange::Nullability { new, .. } => *new,
            SchemaChange::Categories { added, .. } => !added.is_empty(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Logical {
    Int { signed: bool, bits: u32 },
    Float { bits: u32 },
    Decimal { precision: u32, scale: i32 },
    Date,
    Timestamp { unit: u32, tz: Option<String> },
    List(Box<Logical>),
    Other(String),
}

fn parse(name: &str) -> Logical {
    let name = name.trim();
    let int = |signed, bits| Logical::Int { signed, bits };
    match name {
        "int8" => return int(true, 8),
        "int16" => return int(true, 16),
        "int32" => return int(true, 32),
        "int64" => return int(true, 64),
        "uint8" => return int(false, 8),
        "uint16" => return int(false, 16),
        "uint32" => return int(false, 32),
        "uint64" => return int(false, 64),
        "float16" => return Logical::Float { bits: 16 },
        "float32" => return Logical::Float { bits: 32 },
        "float64" => return Logical::Float { bits: 64 },
        "date" => return Logical::Date,
        _ => {}
    }
    let decimal = name
        .strip_prefix("decimal128(")
        .or_else(|| name.strip_prefix("decimal256("))
        .and_then(|s| s.strip_suffix(')'))
        .and_then(|s| s.split_once(','))
        .and_then(|(p, s)| Some((p.trim().parse().ok()?, s.trim().parse().ok()?)));
    if let Some((precision, scale)) = decimal {
        return Logical::Decimal { precision, scale };
    }
    if let Some(inner) = name
        .strip_prefix("timestamp[")
        .and_then(|s| s.strip_suffix(']'))
    {
        let (unit, tz) = match inner.split_once(',') {
            Some((u, tz)) => (u.trim(), Some(tz.trim().to_owned())),
            None => (inner.trim(), None),
        };
        // Unit as the decimal exponent of its fraction of a second.
        let unit = match unit {
            "s" => 0,
            "ms" => 3,
            "us" => 6,
            "ns" => 9,
            _ => return Logical::Other(name.to_owned()),
        };
        return Logical::Timestamp { unit, tz };
    }
    if let Some(inner) = name.strip_prefix("list<").and_then(|s| s.strip_suffix('>')) {
        return Logical::List(Box::new(parse(inner)));
    }
    Logical::Other(name.to_owned())
}

/// Mantissa bits of a float, counting the implicit bit.
fn mantissa(bits: u32) -> u32 {
    match bits {
        16 => 11,
        32 => 24,
        _ => 53,
    }
}

/// Decimal digits needed for every value of an integer type.
fn int_digits(signed: bool, bits: u32) -> u32 {
    match (signed, bits) {
        (_, 8) => 3,
        (_, 16) => 5,
        (_, 32) => 10,
        (true, _) => 19,
        (false, _) => 20,
    }
}

fn classify(old: &Logical, new: &Logical) -> (TypeChangeClass, String) {
    use TypeChangeClass::*;
    match (old, new) {
        _ if old == new => (Compatible, String::new()),
        (
            Logical::Int {
                signed: s1,
                bits: b1,
            },
            Logical::Int {
                signed: s2,
                bits: b2,
            },
        ) => {
            let fits = match (s1, s2) {
                (true, true) | (false, false) => b2 >= b1,
                (false, true) => b2 > b1,
                (true, false) => false,
            };
            (if fits { Widening } else { Narrowing }, String::new())
        }
        (Logical::Int { bits, .. }, Logical::Float { bits: fb }) => {
            let note = if *bits > mantissa(*fb) {
                format!("integers above 2^{} lose precision", mantissa(*fb))
            } else {
                String::new()
            };
            (Widening, note)
        }
        (Logical::Float { .. }, Logical::Int { .. }) => (
            Narrowing,
            "fractions, NaN and infinities are lost".to_owned(),
        ),
        (Logical::Float { bits: b1 }, Logical::Float { bits: b2 }) => {
            (if b2 >= b1 { Widening } else { Narrowing }, String::new())
        }
        (
            Logical::Decimal {
                precision: p1,
                scale: s1,
            },
            Logical::Decimal {
                precision: p2,
                scale: s2,
            },
        ) => {
            let int1 = *p1 as i64 - *s1 as i64;
            let int2 = *p2 as i64 - *s2 as i64;
            (
                if s2 >= s1 && int2 >= int1 {
                    Widening
                } else {
                    Narrowing
                },
                String::new(),
            )
        }
        (Logical::Decimal { .. }, Logical::Float { .. }) => (
            Widening,
            "decimal values become binary floating point".to_owned(),
        ),
        (Logical::Float { .. }, Logical::Decimal { .. }) => (Narrowing, String::new()),
        (Logical::Int { signed, bits }, Logical::Decimal { precision, scale }) => {
            let int_part = *precision as i64 - *scale as i64;
            let class = if int_part >= int_digits(*signed, *bits) as i64 {
                Widening
            } else {
                Narrowing
            };
            (class, String::new())
        }
        (Logical::Date, Logical::Timestamp { .. }) => (Widening, String::new()),
        (Logical::Timestamp { .. }, Logical::Date) => {
            (Narrowing, "the time of day is lost".to_owned())
        }
        (Logical::Timestamp { unit: u1, tz: t1 }, Logical::Timestamp { unit: u2, tz: t2 }) => {
            if t1.is_some() != t2.is_some() {
                return (
                    Incompatible,
                    "time zone added or dropped: the stored values change meaning".to_owned(),
                );
            }
            if u2 < u1 {
                return (Narrowing, "sub-unit precision is lost".to_owned());
            }
            let mut note = String::new();
            if *u2 == 9 && *u1 < 9 {
                note = "nanoseconds only span the years 1677 to 2262".to_owned();
            }
            if t1 != t2 {
                if !note.is_empty() {
                    note.push_str("; ");
                }
                note.push_str("same instants, shown in another time zone");
                if u1 == u2 {
                    return (Compatible, note);
                }
            }
            (Widening, note)
        }
        (Logical::List(a), Logical::List(b)) => {
            let (class, note) = classify(a, b);
            (
                class,
                if note.is_empty() {
                    note
                } else {
                    format!("list elements: {note}")
                },
            )
        }
        _ => (Incompatible, String::new()),
    }
}

/// Classifies a change of logical type.
pub fn classify_type_change(old: &str, new: &str) -> TypeChange {
    let (class, note) = classify(&parse(old), &parse(new));
    TypeChange {
        old: old.to_owned(),
        new: new.to_owned(),
        class,
        note,
    }
}

/// Compares two field lists. Nested children are compared as `parent.child`.
///
/// `fingerprint(side, column)` may return a profile fingerprint (`side` is `false` for the base,
/// `true` for the candidate). Equal fingerprints mark a rename when position and type do not.
pub fn diff_schema(
    base: &[FieldRecord],
    candidate: &[FieldRecord],
    fingerprint: &dyn Fn(bool, &str) -> Option<String>,
) -> Vec<SchemaChange> {
    let base = flatten(base);
    let cand = flatten(candidate);
    let base_names: BTreeSet<&str> = base.iter().map(|(n, _, _)| n.as_str()).collect();
    let cand_names: BTreeSet<&str> = cand.iter().map(|(n, _, _)| n.as_str()).collect();
    let mut changes = Vec::new();

    let mut removed: Vec<(usize, &String, &FieldRecord)> = base
        .iter()
        .filter(|(n, _, _)| !cand_names.contains(n.as_str()))
        .map(|(n, pos, f)| (*pos, n, *f))
        .collect();
    let mut added: Vec<(usize, &String, &FieldRecord)> = cand
        .iter()
        .filter(|(n, _, _)| !base_names.contains(n.as_str()))
        .map(|(n, pos, f)| (*pos, n, *f))
        .collect();

    // Renames: same type at the same position first, then an equal profile fingerprint.
    let mut renames: Vec<SchemaChange> = Vec::new();
    removed.retain(|(pos, name, field)| {
        let by_position = added
            .iter()
            .position(|(p, _, f)| p == pos && f.logical_type == field.logical_type);
        let by_fingerprint = || {
            let fp = fingerprint(false, name)?;
            added.iter().position(|(_, n, f)| {
                f.logical_type == field.logical_type
                    && fingerprint(true, n).as_deref() == Some(fp.as_str())
            })
        };
        let (idx, evidence) = match by_position {
            Some(i) => (i, "same type and position"),
            None => match by_fingerprint() {
                Some(i) => (i, "same type and column profile"),
                None => return true,
            },
        };
        let (_, to, _) = added.remove(idx);
        renames.push(SchemaChange::Renamed {
            from: (*name).clone(),
            to: to.clone(),
            logical_type: field.logical_type.clone(),
            evidence: evidence.to_owned(),
        });
        false
    });

    for (_, name, field) in removed {
        changes.push(SchemaChange::Removed {
            column: name.clone(),
            logical_type: field.logical_type.clone(),
        });
    }
    changes.extend(renames);
    for (_, name, field) in added {
        changes.push(SchemaChange::Added {
            column: name.clone(),
            logical_type: field.logical_type.clone(),
            nullable: field.nullable,
        });
    }
    for (name, _, old) in &base {
        let Some((_, _, new)) = cand.iter().find(|(n, _, _)| n == name) else {
            continue;
        };
        // A struct's own type string lists its children, which are compared one by one.
        if old.logical_type != new.logical_type && old.children.is_empty() {
            changes.push(SchemaChange::TypeChanged {
                column: name.clone(),
                change: classify_type_change(&old.logical_type, &new.logical_type),
            });
        }
        if old.nullable != new.nullable {
            changes.push(SchemaChange::Nullability {
                column: name.clone(),
                old: old.nullable,
                new: new.nullable,
            });
        }
        if let (Some(a), Some(b)) = (&old.categories, &new.categories) {
            let a: BTreeSet<&String> = a.iter().collect();
            let b: BTreeSet<&String> = b.iter().collect();
            let added: Vec<String> = b.difference(&a).map(|s| (*s).clone()).collect();
            let removed: Vec<String> = a.difference(&b).map(|s| (*s).clone()).collect();
            if !added.is_empty() || !removed.is_empty() {
                changes.push(SchemaChange::Categories {
                    column: name.clone(),
                    added,
                    removed,
                });
            }
        }
    }
    changes
}

/// Flattens nested fields into (`parent.child` name, position among siblings, field).
fn flatten(fields: &[FieldRecord]) -> Vec<(String, usize, &FieldRecord)> {
    let mut out = Vec::new();
    fn walk<'a>(
        prefix: &str,
        fields: &'a [FieldRecord],
        out: &mut Vec<(String, usize, &'a FieldRecord)>,
    ) {
        for (pos, field) in fields.iter().enumerate() {
            let name = if prefix.is_empty() {
                field.name.clone()
            } else {
                format!("{prefix}.{}", field.name)
            };
            out.push((name.clone(), pos, field));
            walk(&name, &field.children, out);
        }
    }
    walk("", fields, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, logical_type: &str, nullable: bool) -> FieldRecord {
        FieldRecord {
            name: name.into(),
            logical_type: logical_type.into(),
            nullable,
            children: Vec::new(),
            categories: None,
        }
    }

    fn class(old: &str, new: &str) -> TypeChangeClass {
        classify_type_change(old, new).class
    }

    #[test]
    fn lattice_classes() {
        use TypeChangeClass::*;
        assert_eq!(class("int32", "int64"), Widening);
        assert_eq!(class("int64", "int32"), Narrowing);
        assert_eq!(class("uint32", "int64"), Widening);
        assert_eq!(class("uint32", "int32"), Narrowing);
        assert_eq!(class("int32", "uint64"), Narrowing);
        assert_eq!(class("int64", "float64"), Widening);
        assert!(
            classify_type_change("int64", "float64")
                .note
                .contains("2^53")
        );
        assert!(classify_type_change("int16", "float32").note.is_empty());
        assert_eq!(class("float64", "int64"), Narrowing);
        assert_eq!(class("float32", "float64"), Widening);
        assert_eq!(class("float64", "float32"), Narrowing);
        assert_eq!(class("utf8", "int64"), Incompatible);
        assert_eq!(class("int64", "utf8"), Incompatible);
        assert_eq!(class("bool", "int8"), Incompatible);
        assert_eq!(class("decimal128(10, 2)", "decimal128(12, 2)"), Widening);
        assert_eq!(class("decimal128(10, 2)", "decimal128(10, 3)"), Narrowing);
        assert_eq!(class("int32", "decimal128(12, 2)"), Widening);
        assert_eq!(class("int64", "decimal128(12, 2)"), Narrowing);
        assert_eq!(class("decimal128(10, 2)", "float64"), Widening);
        assert_eq!(class("date", "timestamp[us]"), Widening);
        assert_eq!(class("timestamp[us]", "date"), Narrowing);
        assert_eq!(class("timestamp[ms]", "timestamp[us]"), Widening);
        assert_eq!(class("timestamp[us]", "timestamp[s]"), Narrowing);
        assert!(
            classify_type_change("timestamp[us]", "timestamp[ns]")
                .note
                .contains("1677")
        );
        assert_eq!(class("timestamp[us]", "timestamp[us, UTC]"), Incompatible);
        assert_eq!(
            class("timestamp[us, UTC]", "timestamp[us, Europe/Paris]"),
            Compatible
        );
        assert_eq!(class("list<int32>", "list<int64>"), Widening);
        assert_eq!(class("list<int32>", "int32"), Incompatible);
    }

    #[test]
    fn added_removed_renamed() {
        let base = vec![
            field("id", "int64", false),
            field("fare", "float64", true),
            field("old", "utf8", true),
        ];
        let cand = vec![
            field("id", "int64", false),
            field("price", "float64", true),
            field("new", "int32", true),
        ];
        let changes = diff_schema(&base, &cand, &|_, _| None);
        assert!(changes.contains(&SchemaChange::Renamed {
            from: "fare".into(),
            to: "price".into(),
            logical_type: "float64".into(),
            evidence: "same type and position".into(),
        }));
        assert!(changes.contains(&SchemaChange::Removed {
            column: "old".into(),
            logical_type: "utf8".into()
        }));
        assert!(changes.contains(&SchemaChange::Added {
            column: "new".into(),
            logical_type: "int32".into(),
            nullable: true
        }));
        assert_eq!(changes.len(), 3);
    }

    #[test]
    fn rename_by_fingerprint() {
        let base = vec![field("a", "int64", false), field("b", "float64", true)];
        let cand = vec![field("b2", "float64", true), field("a", "int64", false)];
        let fp = |_: bool, name: &str| {
            Some(
                if name.starts_with('b') {
                    "fp-b"
                } else {
                    "other"
                }
                .to_owned(),
            )
        };
        let changes = diff_schema(&base, &cand, &fp);
        assert_eq!(changes.len(), 1);
        assert!(
            matches!(&changes[0], SchemaChange::Renamed { from, to, .. } if from == "b" && to == "b2")
        );
    }

    #[test]
    fn type_nullability_categories_reported_once() {
        let mut old = field("carrier", "utf8", false);
        old.categories = Some(vec!["AA".into(), "UA".into()]);
        let mut new = field("carrier", "utf8", true);
        new.categories = Some(vec!["UA".into(), "ZZ".into()]);
        let base = vec![field("delay", "int32", true), old];
        let cand = vec![field("delay", "float64", true), new];
        let changes = diff_schema(&base, &cand, &|_, _| None);
        assert_eq!(changes.len(), 3);
        let type_changes: Vec<_> = changes
            .iter()
            .filter(|c| matches!(c, SchemaChange::TypeChanged { .. }))
            .collect();
        assert_eq!(type_changes.len(), 1);
        assert!(!type_changes[0].is_breaking());
        assert!(changes.contains(&SchemaChange::Nullability {
            column: "carrier".into(),
            old: false,
            new: true
        }));
        assert!(changes.contains(&SchemaChange::Categories {
            column: "carrier".into(),
            added: vec!["ZZ".into()],
            removed: vec!["AA".into()],
        }));
        assert!(
            changes
                .iter()
                .filter(|c| c.column() == "carrier")
                .all(SchemaChange::is_breaking)
        );
    }

    #[test]
    fn identical_schema_is_empty() {
        let base = vec![field("id", "int64", false), field("x", "float64", true)];
        assert!(diff_schema(&base, &base, &|_, _| None).is_empty());
    }

    #[test]
    fn nested_children_compared() {
        let mut parent = field("p", "struct<a: int32>", true);
        parent.children = vec![field("a", "int32", true)];
        let mut parent2 = field("p", "struct<a: int64>", true);
        parent2.children = vec![field("a", "int64", true)];
        let changes = diff_schema(&[parent], &[parent2], &|_, _| None);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].column(), "p.a");
    }
}
