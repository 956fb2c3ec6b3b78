//! Streaming count, sum, mean and M2 (sum of squared deviations), mergeable with Chan's formula.

use serde::{Deserialize, Serialize};

/// Running moments of finite values (Welford's update, Chan et al. for merging).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub count: u64,
    pub sum: f64,
    pub mean: f64,
    pub m2: f64,
    pub min: f64,
    pub max: f64,
}

impl Moments {
    #[inline]
    pub fn update(&mut self, x: f64) {
        if self.count == 0 {
            self.min = x;
            self.max = x;
        } else {
            if x < self.min {
                self.min = x;
            }
            if x > self.max {
                self.max = x;
            }
        }
        self.count += 1;
        self.sum += x;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Adds a slice of finite values: a two-pass mean and M2 over the slice (loops the compiler
    /// vectorizes, no division per value), merged in with Chan's formula. Gives the same figures
    /// as calling [`Moments::update`] per value up to rounding.
    pub fn update_slice(&mut self, values: &[f64]) {
        let Some(&first) = values.first() else {
            return;
        };
        let (mut min, mut max, mut sum) = (first, first, 0.0);
        for &x in values {
            min = if x < min { x } else { min };
            max = if x > max { x } else { max };
            sum += x;
        }
        let mean = sum / values.len() as f64;
        let m2: f64 = values.iter().map(|&x| (x - mean) * (x - mean)).sum();
        self.merge(&Moments {
            count: values.len() as u64,
            sum,
            mean,
            m2,
            min,
            max,
        });
    }

    pub fn merge(&mut self, other: &Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let n_a = self.count as f64;
        let n_b = other.count as f64;
        let n = n_a + n_b;
        let delta = other.mean - self.mean;
        self.mean += delta * n_b / n;
        self.m2 += other.m2 + delta * delta * n_a * n_b / n;
        self.sum += other.sum;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Returns the stored form; any statistic that overflowed to a non-finite value is `None`.
    pub fn summary(&self) -> MomentsSummary {
        let finite = |x: f64| (self.count > 0 && x.is_finite()).then_some(x);
        MomentsSummary {
            min: finite(self.min),
            max: finite(self.max),
            sum: finite(self.sum),
            mean: finite(self.mean),
            m2: finite(self.m2),
        }
    }
}

/// Stored moments of the finite values. A field is `None` when there are no finite values or when
/// the value overflowed the `f64` range (for example a sum of values near `f64::MAX`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MomentsSummary {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub sum: Option<f64>,
    pub mean: Option<f64>,
    /// Sum of squared deviations from the mean.
    pub m2: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // numpy: x = [2, 4, 4, 4, 5, 5, 7, 9]; mean 5.0, var(ddof=0) 4.0, var(ddof=1) 4.571428571
        let mut m = Moments::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            m.update(x);
        }
        assert_eq!(m.count, 8);
        assert!((m.mean - 5.0).abs() < 1e-12);
        assert!((m.m2 / 8.0 - 4.0).abs() < 1e-12);
        assert!((m.m2 / 7.0 - 4.571428571428571).abs() < 1e-12);
        assert_eq!(m.min, 2.0);
        assert_eq!(m.max, 9.0);
        assert_eq!(m.sum, 40.0);
    }

    #[test]
    fn large_offset_keeps_precision() {
        // Naive sum-of-squares loses everything here; numpy var of 1e9 + [4, 7, 13, 16] is 22.5.
        let mut m = Moments::default();
        for x in [4.0, 7.0, 13.0, 16.0] {
            m.update(1e9 + x);
        }
        assert!((m.m2 / 4.0 - 22.5).abs() < 1e-6);
    }

    #[test]
    fn slices_match_single_updates() {
        // numpy: x = 1e6 + [0.5, 1.5, ..., 999.5] in 7 uneven slices; mean 1000500.0,
        // var(ddof=0) = (1000^2 - 1) / 12 = 83333.25.
        let values: Vec<f64> = (0..1000).map(|i| 1e6 + i as f64 + 0.5).collect();
        let mut sliced = Moments::default();
        for chunk in values.chunks(143) {
            sliced.update_slice(chunk);
        }
        assert_eq!(sliced.count, 1000);
        assert!((sliced.mean - 1_000_500.0).abs() < 1e-6);
        assert!((sliced.m2 / 1000.0 - 83_333.25).abs() < 1e-6);
        assert_eq!(sliced.min, 1e6 + 0.5);
        assert_eq!(sliced.max, 1e6 + 999.5);
        assert!((sliced.sum - 1_000_500_000.0).abs() < 1e-3);
    }

    #[test]
    fn overflow_is_none() {
        let mut m = Moments::default();
        m.update(f64::MAX);
        m.update(f64::MAX);
        let summary = m.summary();
        assert_eq!(summary.sum, None);
        assert_eq!(summary.max, Some(f64::MAX));
    }
}
