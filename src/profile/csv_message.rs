//! Rewording of the CSV reader errors of arrow-csv 60.1 that confuse users.
//!
//! arrow-csv reports a ragged row as "Expected 2 records, found 1 records" (meaning fields) and a
//! value that does not parse as "for column 0 ... Row data: '[...]'", with the column's index and
//! the whole row. The functions here match those message shapes narrowly and return `None` for
//! anything else, so the caller keeps the original text when a new arrow version words it
//! differently.

use arrow::datatypes::Schema;
use arrow::error::ArrowError;

/// Rewords `error` from the CSV reader, naming columns from `schema` (the file's full schema, in
/// file order) when it is given. Returns the original text for messages it does not recognize.
///
/// The file must have a header row, as ev's CSV format always does: line numbers are converted
/// with that assumption. NOTE: arrow-csv counts records, not lines, while decoding batches, so
/// after a quoted field that spans lines the reported line is too small.
pub(crate) fn describe(error: &ArrowError, schema: Option<&Schema>) -> String {
    let reworded = match error {
        ArrowError::CsvError(message) => {
            unequal_lengths(message).or_else(|| incorrect_field_count(message))
        }
        ArrowError::ParseError(message) => parse_failure(message, schema),
        _ => None,
    };
    reworded.unwrap_or_else(|| error.to_string())
}

fn fields(n: &str) -> String {
    if n == "1" {
        "1 field".to_owned()
    } else {
        format!("{n} fields")
    }
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Rewords a ragged row found by schema inference (the `csv` crate): "Encountered unequal
/// lengths between records on CSV file. Expected {e} records, found {f} records[ at line {l}]".
fn unequal_lengths(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("Encountered unequal lengths between records on CSV file. Expected ")?;
    let (expected, rest) = rest.split_once(" records, found ")?;
    let (found, rest) = rest.split_once(" records")?;
    if !is_number(expected) || !is_number(found) {
        return None;
    }
    let line = match rest {
        "" => None,
        _ => Some(rest.strip_prefix(" at line ").filter(|l| is_number(l))?),
    };
    Some(match line {
        Some(line) => format!(
            "line {line} has {}, but the header row has {}",
            fields(found),
            fields(expected)
        ),
        None => format!(
            "a row has {}, but the header row has {}",
            fields(found),
            fields(expected)
        ),
    })
}

/// Rewords a ragged row found by batch decoding: "incorrect number of fields for line {l},
/// expected {e} got {f}", where `f` may be "more than {n}".
fn incorrect_field_count(message: &str) -> Option<String> {
    let rest = message.strip_prefix("incorrect number of fields for line ")?;
    let (line, rest) = rest.split_once(", expected ")?;
    let (expected, found) = rest.split_once(" got ")?;
    let found_is_valid =
        is_number(found) || found.strip_prefix("more than ").is_some_and(is_number);
    if !is_number(line) || !is_number(expected) || !found_is_valid {
        return None;
    }
    Some(format!(
        "line {line} has {}, but the header row has {}",
        fields(found),
        fields(expected)
    ))
}

/// Rewords a value that does not parse as its column's type: "Error while parsing value '{v}' as
/// type '{t}' for column {i} at line {l}. Row data: '{row}'". There `l` is the 1-based data row,
/// not counting the header row, so the file line is `l + 1`. The value and the row may contain
/// any text, so each occurrence of the separator after the value is tried until the rest matches.
fn parse_failure(message: &str, schema: Option<&Schema>) -> Option<String> {
    const SEPARATOR: &str = "' as type '";
    let body = message.strip_prefix("Error while parsing value '")?;
    for (at, _) in body.match_indices(SEPARATOR) {
        let value = &body[..at];
        let rest = &body[at + SEPARATOR.len()..];
        // arrow's type names contain no single quote, so a quote means the split is too early.
        let Some((type_name, rest)) = rest
            .split_once("' for column ")
            .filter(|(type_name, _)| !type_name.contains('\''))
        else {
            continue;
        };
        let Some((index, rest)) = rest.split_once(" at line ") else {
            continue;
        };
        let Some((line, _row)) = rest.split_once(". Row data: '") else {
            continue;
        };
        let Some(line) = line.parse::<u64>().ok().and_then(|l| l.checked_add(1)) else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        let column = match schema.and_then(|s| s.fields().get(index)) {
            Some(field) => format!("column `{}`", field.name()),
            None => format!("column number {}", index + 1),
        };
        return Some(format!(
            "line {line}: value {value:?} in {column} is not a valid {type_name}"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field};

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("age", DataType::Int64, true),
        ])
    }

    #[test]
    fn unequal_lengths_names_fields_and_line() {
        let error = ArrowError::CsvError(
            "Encountered unequal lengths between records on CSV file. Expected 2 records, \
             found 1 records at line 3"
                .into(),
        );
        assert_eq!(
            describe(&error, None),
            "line 3 has 1 field, but the header row has 2 fields"
        );
    }

    #[test]
    fn incorrect_field_count_names_header() {
        let error =
            ArrowError::CsvError("incorrect number of fields for line 4, expected 2 got 3".into());
        assert_eq!(
            describe(&error, None),
            "line 4 has 3 fields, but the header row has 2 fields"
        );
        let error = ArrowError::CsvError(
            "incorrect number of fields for line 4, expected 2 got more than 2".into(),
        );
        assert_eq!(
            describe(&error, None),
            "line 4 has more than 2 fields, but the header row has 2 fields"
        );
    }

    #[test]
    fn parse_failure_names_column() {
        let error = ArrowError::ParseError(
            "Error while parsing value 'x' as type 'Int64' for column 1 at line 4. \
             Row data: '[7,x]'"
                .into(),
        );
        let message = describe(&error, Some(&schema()));
        assert_eq!(
            message,
            "line 5: value \"x\" in column `age` is not a valid Int64"
        );
        assert!(!message.contains("[7,x]"), "{message}");
        // Without a schema the column is numbered from 1, as people count columns.
        assert_eq!(
            describe(&error, None),
            "line 5: value \"x\" in column number 2 is not a valid Int64"
        );
    }

    #[test]
    fn parse_failure_value_with_separator() {
        let error = ArrowError::ParseError(
            "Error while parsing value 'a' as type 'b' as type 'Int64' for column 0 at line 1. \
             Row data: '[a' as type 'b]'"
                .into(),
        );
        assert_eq!(
            describe(&error, Some(&schema())),
            "line 2: value \"a' as type 'b\" in column `id` is not a valid Int64"
        );
    }

    #[test]
    fn unknown_shapes_keep_original_text() {
        let cases = [
            ArrowError::CsvError("Encountered unequal lengths, somehow".into()),
            ArrowError::CsvError(
                "Encountered unequal lengths between records on CSV file. Expected two \
                 records, found 1 records"
                    .into(),
            ),
            ArrowError::CsvError("incorrect number of fields for line x, expected 2 got 1".into()),
            ArrowError::ParseError("Error while parsing value 'x' in a new way".into()),
            ArrowError::ComputeError("unrelated".into()),
        ];
        for error in cases {
            assert_eq!(describe(&error, Some(&schema())), error.to_string());
        }
    }
}
