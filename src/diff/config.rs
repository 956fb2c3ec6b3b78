//! The `[diff]` table of evidence.toml: drift options and thresholds as defaults, per item and
//! per column.
//!
//! ```toml
//! [diff]
//! bins = 10
//! min_rows = 30
//! [diff.thresholds]            # every column of every item
//! psi = 0.2
//! [diff.columns.dep_delay]     # a column of any item, or "item.column"
//! ks = 0.1
//! [diff.items.flights.thresholds]
//! psi = 0.25
//! [diff.items.flights.columns.carrier]
//! js = 0.2
//! ```
//!
//! Precedence, lowest first: built-in defaults, `[diff.thresholds]`, the item's `thresholds`,
//! `[diff.columns]`, the item's `columns`, then command-line flags, which override everything.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::drift::{DriftOptions, Thresholds};

/// Thresholds where each field may be left to an outer level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialThresholds {
    pub psi: Option<f64>,
    pub js: Option<f64>,
    pub ks: Option<f64>,
    pub wasserstein: Option<f64>,
    pub null_rate: Option<f64>,
    pub nan_rate: Option<f64>,
}

impl PartialThresholds {
    /// Applies the fields that are set on top of `base`.
    pub fn apply(&self, base: Thresholds) -> Thresholds {
        Thresholds {
            psi: self.psi.unwrap_or(base.psi),
            js: self.js.unwrap_or(base.js),
            ks: self.ks.unwrap_or(base.ks),
            wasserstein: self.wasserstein.unwrap_or(base.wasserstein),
            null_rate: self.null_rate.unwrap_or(base.null_rate),
            nan_rate: self.nan_rate.unwrap_or(base.nan_rate),
        }
    }

    /// Layers `over` on top of `self`.
    pub fn then(&self, over: &PartialThresholds) -> PartialThresholds {
        PartialThresholds {
            psi: over.psi.or(self.psi),
            js: over.js.or(self.js),
            ks: over.ks.or(self.ks),
            wasserstein: over.wasserstein.or(self.wasserstein),
            null_rate: over.null_rate.or(self.null_rate),
            nan_rate: over.nan_rate.or(self.nan_rate),
        }
    }

    fn values(&self) -> [Option<f64>; 6] {
        [
            self.psi,
            self.js,
            self.ks,
            self.wasserstein,
            self.null_rate,
            self.nan_rate,
        ]
    }
}

/// Per-item settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ItemConfig {
    pub thresholds: PartialThresholds,
    pub columns: BTreeMap<String, PartialThresholds>,
}

/// The `[diff]` table.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiffConfig {
    pub bins: Option<usize>,
    pub top_categories: Option<usize>,
    pub min_rows: Option<u64>,
    pub noise_multiplier: Option<f64>,
    pub min_slice_rows: Option<u64>,
    pub max_examples: Option<usize>,
    pub thresholds: PartialThresholds,
    pub columns: BTreeMap<String, PartialThresholds>,
    pub items: BTreeMap<String, ItemConfig>,
}

/// Error of an invalid `[diff]` table.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid [diff] table in {file}: {message}")]
    Invalid { file: String, message: String },
}

impl DiffConfig {
    /// Reads the `[diff]` table from evidence.toml text; an absent table gives the defaults.
    pub fn parse(text: &str, file: &str) -> Result<DiffConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_owned(),
            message,
        };
        let doc: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let Some(value) = doc.get("diff") else {
            return Ok(DiffConfig::default());
        };
        let config: DiffConfig = value
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.message().to_owned()))?;
        config.validate().map_err(invalid)?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let mut all = vec![("thresholds".to_owned(), self.thresholds)];
        all.extend(
            self.columns
                .iter()
                .map(|(k, v)| (format!("columns.{k}"), *v)),
        );
        for (name, item) in &self.items {
            all.push((format!("items.{name}.thresholds"), item.thresholds));
            all.extend(
                item.columns
                    .iter()
                    .map(|(k, v)| (format!("items.{name}.columns.{k}"), *v)),
            );
        }
        for (name, t) in all {
            if t.values()
                .iter()
                .flatten()
                .any(|v| !v.is_finite() || *v < 0.0)
            {
                return Err(format!(
                    "{name}: thresholds must be finite and not negative"
                ));
            }
        }
        if self.bins == Some(0) {
            return Err("bins must be at least 1".to_owned());
        }
        Ok(())
    }

    /// Drift options for one item, with `flags` (command-line thresholds) on top of everything.
    pub fn drift_options(&self, item: &str, flags: &PartialThresholds) -> DriftOptions {
        let defaults = DriftOptions::default();
        let item_config = self.items.get(item);
        let item_level = self
            .thresholds
            .then(&item_config.map(|i| i.thresholds).unwrap_or_default());
        let mut columns: BTreeMap<String, Thresholds> = BTreeMap::new();
        let prefix = format!("{item}.");
        let mut column_names: Vec<&String> = self.columns.keys().collect();
        if let Some(i) = item_config {
            column_names.extend(i.columns.keys());
        }
        for name in column_names {
            let column = name.strip_prefix(&prefix).unwrap_or(name);
            let mut layered = item_level;
            if let Some(t) = self.columns.get(column) {
                layered = layered.then(t);
            }
            if let Some(t) = self.columns.get(&format!("{prefix}{column}")) {
                layered = layered.then(t);
            }
            if let Some(t) = item_config.and_then(|i| i.columns.get(column)) {
                layered = layered.then(t);
            }
            columns.insert(
                column.to_owned(),
                layered.then(flags).apply(defaults.thresholds),
            );
        }
        DriftOptions {
            bins: self.bins.unwrap_or(defaults.bins),
            top_categories: self.top_categories.unwrap_or(defaults.top_categories),
            min_rows: self.min_rows.unwrap_or(defaults.min_rows),
            noise_multiplier: self.noise_multiplier.unwrap_or(defaults.noise_multiplier),
            thresholds: item_level.then(flags).apply(defaults.thresholds),
            columns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
[[item]]
name = "flights"
kind = "sample"
path = "flights.csv"

[diff]
min_rows = 50
[diff.thresholds]
psi = 0.2
[diff.columns.dep_delay]
ks = 0.3
[diff.items.flights.thresholds]
psi = 0.25
[diff.items.flights.columns.carrier]
js = 0.2
"#;

    #[test]
    fn layers_apply_in_order() {
        let config = DiffConfig::parse(TEXT, "evidence.toml").unwrap();
        let none = PartialThresholds::default();
        let flights = config.drift_options("flights", &none);
        assert_eq!(flights.min_rows, 50);
        assert_eq!(flights.thresholds.psi, 0.25);
        assert_eq!(flights.thresholds.ks, 0.2);
        assert_eq!(flights.thresholds_for("dep_delay").ks, 0.3);
        assert_eq!(flights.thresholds_for("dep_delay").psi, 0.25);
        assert_eq!(flights.thresholds_for("carrier").js, 0.2);
        let other = config.drift_options("other", &none);
        assert_eq!(other.thresholds.psi, 0.2);
        let flags = PartialThresholds {
            psi: Some(0.5),
            ..PartialThresholds::default()
        };
        let flagged = config.drift_options("flights", &flags);
        assert_eq!(flagged.thresholds.psi, 0.5);
        assert_eq!(flagged.thresholds_for("dep_delay").psi, 0.5);
        assert_eq!(flagged.thresholds_for("dep_delay").ks, 0.3);
    }

    #[test]
    fn absent_table_gives_defaults() {
        let config = DiffConfig::parse("[[item]]\nname = \"a\"\n", "evidence.toml").unwrap();
        assert_eq!(config, DiffConfig::default());
        assert_eq!(
            config.drift_options("a", &PartialThresholds::default()),
            DriftOptions::default()
        );
    }

    #[test]
    fn invalid_values_are_rejected() {
        let bad = "[diff.thresholds]\npsi = -1\n";
        assert!(DiffConfig::parse(bad, "evidence.toml").is_err());
        let unknown = "[diff]\npsy = 1\n";
        let err = DiffConfig::parse(unknown, "evidence.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("psy"), "{err}");
    }
}
