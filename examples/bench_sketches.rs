//! Sketch benchmark (not a test): ev's KLL quantile sketch and distinct counter against the
//! Apache DataSketches Rust crate (`datasketches`) on the same 10,000,000 values, in one run.
//!
//! For each sketch it prints the update cost in ns per value, the accuracy against the exact
//! value and the number of retained items. It also prints whether building the sketch twice
//! from the same values gives the same bytes: ev stores profiles by content hash, so a sketch
//! must be reproducible.
//!
//! Run: `cargo run --release --example bench_sketches [VALUES]`
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use datasketches::common::SearchCriteria;
use datasketches::hll::{HllSketch, HllType};
use datasketches::kll::{KllFloat, KllSketch as ApacheKll};
use ev::profile::hll::{DistinctSketch, hash_u64};
use ev::profile::kll::{DEFAULT_K, KllSketch};

#[path = "support/rng.rs"]
#[allow(dead_code)]
mod rng;

use rng::Rng;

/// Largest |estimated rank − exact rank| over 1,000 evenly spaced points of the sorted values.
fn max_rank_error(sorted: &[f64], rank: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len();
    (1..1000)
        .map(|i| {
            let x = sorted[i * n / 1000];
            // Exact inclusive rank: the fraction of values <= x.
            let exact = sorted.partition_point(|&v| v <= x) as f64 / n as f64;
            (rank(x) - exact).abs()
        })
        .fold(0.0, f64::max)
}

fn ev_kll(values: &[f64]) -> KllSketch {
    let mut sketch = KllSketch::new(DEFAULT_K);
    // Profiling feeds each decoded array at once; 8192 values is the batch size.
    for chunk in values.chunks(8192) {
        sketch.update_many(chunk);
    }
    sketch.finish();
    sketch
}

fn apache_kll(values: &[f64]) -> ApacheKll<KllFloat<f64>> {
    let mut sketch = ApacheKll::new(DEFAULT_K as u16).expect("k is in range");
    for &value in values {
        sketch.update(KllFloat::<f64>::new(value).expect("no NaN in the data"));
    }
    sketch
}

fn timed<T>(values: usize, build: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let result = build();
    let ns = started.elapsed().as_nanos() as f64 / values as f64;
    (result, ns)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("VALUES is a number"))
        .unwrap_or(10_000_000);
    let mut rng = Rng(42);
    let values: Vec<f64> = (0..n).map(|_| 100.0 + 15.0 * rng.normal()).collect();
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    println!("values={n} (normal, mean 100, sd 15); KLL k={DEFAULT_K}");

    let (ours, ns) = timed(n, || ev_kll(&values));
    let error = max_rank_error(&sorted, |x| ours.cdf(x));
    let bytes = serde_json::to_vec(&ours).expect("serialize");
    let again = serde_json::to_vec(&ev_kll(&values)).expect("serialize");
    println!(
        "ev KLL: {ns:.1} ns/value, max rank error {:.3} %, {} retained items, \
         same bytes when rebuilt: {}",
        error * 100.0,
        ours.levels.iter().map(Vec::len).sum::<usize>(),
        bytes == again
    );

    let (theirs, ns) = timed(n, || apache_kll(&values));
    let error = max_rank_error(&sorted, |x| {
        theirs
            .rank(
                &KllFloat::<f64>::new(x).expect("no NaN"),
                SearchCriteria::Inclusive,
            )
            .unwrap_or(0.0)
    });
    // The crate seeds its compaction coin per thread from the standard library's random
    // hasher keys, so a second build on another thread shows whether the result repeats.
    let bytes = theirs.serialize();
    let again = std::thread::scope(|scope| {
        scope
            .spawn(|| apache_kll(&values).serialize())
            .join()
            .expect("thread")
    });
    println!(
        "datasketches KLL: {ns:.1} ns/value, max rank error {:.3} %, {} retained items, \
         same bytes when rebuilt: {}",
        error * 100.0,
        theirs.num_retained(),
        bytes == again
    );

    // Distinct counting: every value is distinct, so the exact count is n.
    let ids: Vec<u64> = (0..n as u64).map(|i| i.wrapping_mul(0x9e37_79b9)).collect();
    let (ours, ns) = timed(n, || {
        let mut sketch = DistinctSketch::new();
        for chunk in ids.chunks(8192) {
            sketch.insert_hashes(chunk.iter().map(|&id| hash_u64(id)));
        }
        sketch
    });
    let estimate = ours.distinct().estimate as f64;
    println!(
        "ev distinct (HLL, 2^12 registers): {ns:.1} ns/value, error {:.2} %",
        (estimate - n as f64).abs() / n as f64 * 100.0
    );
    let (theirs, ns) = timed(n, || {
        let mut sketch = HllSketch::new(12, HllType::Hll8).expect("lg_k is in range");
        for &id in &ids {
            sketch.update(id);
        }
        sketch
    });
    println!(
        "datasketches HLL (lg_k 12, 8-bit registers): {ns:.1} ns/value, error {:.2} %",
        (theirs.estimate() - n as f64).abs() / n as f64 * 100.0
    );
}
