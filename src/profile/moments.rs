//! Streaming count, sum, mean and M2 (sum of squared deviations), mergeable with Chan's formula.

use serde::{Deserialize, Serialize};

/// Independent partial sums per pass of [`Moments::update_slice`]; the final additions below
/// assume four.
const LANES: usize = 4;

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

    /// Adds a slice of finite values: a two-pass mean and M2 over the slice, merged in with
    /// Chan's formula. Gives the same figures as calling [`Moments::update`] per value up to
    /// rounding.
    ///
    /// Each pass keeps [`LANES`] independent partial results (value `i` goes to lane
    /// `i % LANES`), so the compiler can use vector instructions and the additions do not wait
    /// on each other. The lane order is fixed, so the result is the same on every run and
    /// machine.
    pub fn update_slice(&mut self, values: &[f64]) {
        let Some(&first) = values.first() else {
            return;
        };
        let chunks = values.chunks_exact(LANES);
        let tail = chunks.remainder();
        let (mut min, mut max, mut sum) = ([first; LANES], [first; LANES], [0.0; LANES]);
        for chunk in chunks.clone() {
            for lane in 0..LANES {
                let x = chunk[lane];
                min[lane] = if x < min[lane] { x } else { min[lane] };
                max[lane] = if x > max[lane] { x } else { max[lane] };
                sum[lane] += x;
            }
        }
        for (lane, &x) in tail.iter().enumerate() {
            min[lane] = if x < min[lane] { x } else { min[lane] };
            max[lane] = if x > max[lane] { x } else { max[lane] };
            sum[lane] += x;
        }
        let min = min
            .into_iter()
            .fold(first, |a, b| if b < a { b } else { a });
        let max = max
            .into_iter()
            .fold(first, |a, b| if b > a { b } else { a });
        let sum = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        let mean = sum / values.len() as f64;
        let mut squares = [0.0; LANES];
        for chunk in chunks {
            for lane in 0..LANES {
                let d = chunk[lane] - mean;
                squares[lane] += d * d;
            }
        }
        for (lane, &x) in tail.iter().enumerate() {
            squares[lane] += (x - mean) * (x - mean);
        }
        let m2 = (squares[0] + squares[1]) + (squares[2] + squares[3]);
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

/// Exact moments of non-negative integers (byte lengths): integer sums, so the result does not
/// depend on the order or grouping in which values arrive. A string column then gets the same
/// figures whether its values are read one by one or counted by dictionary key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntMoments {
    pub count: u64,
    pub sum: u128,
    pub sum_squares: u128,
    pub min: u64,
    pub max: u64,
}

impl IntMoments {
    /// Adds `times` occurrences of `value`.
    #[inline]
    pub fn add(&mut self, value: u64, times: u64) {
        if times == 0 {
            return;
        }
        if self.count == 0 {
            self.min = value;
            self.max = value;
        } else {
            self.min = self.min.min(value);
            self.max = self.max.max(value);
        }
        let v = u128::from(value);
        let t = u128::from(times);
        self.count += times;
        self.sum = self.sum.saturating_add(v * t);
        self.sum_squares = self.sum_squares.saturating_add((v * v).saturating_mul(t));
    }

    pub fn merge(&mut self, other: &IntMoments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        self.count += other.count;
        self.sum = self.sum.saturating_add(other.sum);
        self.sum_squares = self.sum_squares.saturating_add(other.sum_squares);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Returns the stored form: mean `sum / n` and M2 `(n·Σx² − (Σx)²) / n`, each rounded once from
    /// exact integers. Should a 128-bit product overflow (sums beyond 2^64 bytes), M2 falls
    /// back to floating point.
    pub fn summary(&self) -> MomentsSummary {
        if self.count == 0 {
            return MomentsSummary::default();
        }
        let n = u128::from(self.count);
        let m2 = match (
            n.checked_mul(self.sum_squares),
            self.sum.checked_mul(self.sum),
        ) {
            (Some(a), Some(b)) => a.saturating_sub(b) as f64 / n as f64,
            _ => {
                let mean = self.sum as f64 / n as f64;
                (self.sum_squares as f64 - n as f64 * mean * mean).max(0.0)
            }
        };
        MomentsSummary {
            min: Some(self.min as f64),
            max: Some(self.max as f64),
            sum: Some(self.sum as f64),
            mean: Some(self.sum as f64 / n as f64),
            m2: Some(m2),
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
    fn integer_moments_known_values() {
        // Lengths [2, 4, 4, 4, 5, 5, 7, 9] as counts: mean 5.0, M2 = 8 · var(ddof=0) = 32.
        let mut m = IntMoments::default();
        m.add(4, 3);
        m.add(2, 1);
        m.add(5, 2);
        m.add(0, 0);
        let mut rest = IntMoments::default();
        rest.add(9, 1);
        rest.add(7, 1);
        m.merge(&rest);
        let s = m.summary();
        assert_eq!(s.mean, Some(5.0));
        assert_eq!(s.m2, Some(32.0));
        assert_eq!((s.min, s.max, s.sum), (Some(2.0), Some(9.0), Some(40.0)));
        assert_eq!(IntMoments::default().summary(), MomentsSummary::default());
    }

    #[test]
    fn integer_moments_ignore_grouping() {
        let values: Vec<u64> = (0..10_000u64).map(|i| (i * 7919) % 97).collect();
        let mut one_by_one = IntMoments::default();
        values.iter().for_each(|&v| one_by_one.add(v, 1));
        let mut counted = IntMoments::default();
        for v in 0..97 {
            counted.add(v, values.iter().filter(|&&x| x == v).count() as u64);
        }
        assert_eq!(one_by_one, counted);
        assert_eq!(one_by_one.summary(), counted.summary());
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
