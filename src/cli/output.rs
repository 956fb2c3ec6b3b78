//! Rendering helpers shared by commands: colours, JSON, times and ids.
//!
//! Conventions: data goes to stdout, notes and progress to stderr. `--json` output is one
//! pretty-printed JSON document per command from a dedicated `serde` struct whose first field is
//! `"schema": "ev.<name>/1"`; fields may be added within a schema version but never removed.

use std::io::{IsTerminal, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::ColorWhen;
use super::error::CliError;

/// ANSI colouring that is a no-op when colour is off.
#[derive(Clone, Copy, Debug)]
pub struct Styler {
    enabled: bool,
}

impl Styler {
    /// Colour for stdout under `--color`, NO_COLOR and whether stdout is a terminal.
    pub fn for_stdout(when: ColorWhen) -> Styler {
        Styler {
            enabled: decide(when, std::io::stdout().is_terminal()),
        }
    }

    /// Colour for stderr, decided the same way.
    pub fn for_stderr(when: ColorWhen) -> Styler {
        Styler {
            enabled: decide(when, std::io::stderr().is_terminal()),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Commit ids in headers.
    pub fn id(&self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Ref names next to commits.
    pub fn refname(&self, text: &str) -> String {
        self.paint("1;32", text)
    }

    /// Added lines and paths.
    pub fn added(&self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Removed lines and paths.
    pub fn removed(&self, text: &str) -> String {
        self.paint("31", text)
    }

    /// The `Error:` prefix.
    pub fn error(&self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// The `Hint:` and `Warning:` prefixes.
    pub fn hint(&self, text: &str) -> String {
        self.paint("1;33", text)
    }
}

fn decide(when: ColorWhen, is_terminal: bool) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Writes `value` as pretty JSON and a newline.
pub fn write_json<T: Serialize>(out: &mut impl Write, value: &T) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| {
        if let Some(kind) = e.io_error_kind() {
            CliError::from(std::io::Error::from(kind))
        } else {
            CliError::new(
                super::ErrorClass::Internal,
                format!("failed to encode JSON: {e}"),
            )
        }
    })?;
    writeln!(out)?;
    Ok(())
}

/// A time as shown to people and in JSON: RFC 3339, UTC, whole seconds (`2026-01-15T10:00:00Z`).
pub fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}
