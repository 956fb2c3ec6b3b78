//! Profiling benchmark (not a test). Subcommands:
//!
//! - `generate PATH ROWS`: writes a Parquet sample of ROWS rows × 20 mixed columns (integers,
//!   floats with nulls, low- and high-cardinality strings, booleans, timestamps, a date).
//! - `decode PATH`: decodes every batch with the parquet crate and does nothing else.
//! - `decode-encoded PATH`: decodes with ev's reader as profiling does (dictionary-encoded
//!   string columns as Arrow dictionaries, decoding on its own thread) and does nothing else.
//! - `profile PATH`: decodes and profiles the sample as `ev commit` does.
//! - `columns PATH`: decodes into memory, then times profiling each column alone.
//!
//! Each prints one line of `key=value` figures; `scripts/bench_profile.sh` runs them all.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray, TimestampMillisecondArray,
};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use ev::profile::ProfileOptions;
use ev::profile::read::{CsvOptions, TableFormat, TableSource};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

#[path = "support/rng.rs"]
#[allow(dead_code)]
mod rng;

use rng::Rng;

fn batch(rng: &mut Rng, start: usize, rows: usize) -> RecordBatch {
    let carriers = ["UA", "AA", "DL", "WN", "B6", "AS", "NK", "F9", "HA", "G4"];
    let ints = |f: &mut dyn FnMut(usize) -> Option<i64>| -> ArrayRef {
        Arc::new((start..start + rows).map(f).collect::<Int64Array>())
    };
    let mut columns: Vec<(&str, ArrayRef)> = Vec::new();
    columns.push(("row_id", ints(&mut |i| Some(i as i64))));
    columns.push((
        "i_uniform",
        ints(&mut |_| Some((rng.next() % 1_000_000) as i64)),
    ));
    columns.push(("i_small", ints(&mut |_| Some((rng.next() % 7) as i64))));
    columns.push((
        "i_nullable",
        ints(&mut |_| {
            let v = rng.next();
            (v % 10 != 0).then_some((v >> 8) as i64 % 5000)
        }),
    ));
    let mut floats = |null_every: u64, f: &mut dyn FnMut(&mut Rng) -> f64| -> ArrayRef {
        Arc::new(
            (0..rows)
                .map(|_| {
                    let v = rng.next();
                    (null_every == 0 || v % null_every != 0).then(|| f(rng))
                })
                .collect::<Float64Array>(),
        )
    };
    columns.push((
        "f_normal",
        floats(0, &mut |r| 100.0 + 15.0 * r.approx_normal()),
    ));
    columns.push((
        "f_lognormal",
        floats(20, &mut |r| (r.approx_normal()).exp()),
    ));
    columns.push(("f_uniform", floats(5, &mut |r| r.unit())));
    columns.push((
        "f_delay",
        floats(50, &mut |r| (r.unit() * 180.0).floor() - 20.0),
    ));
    columns.push((
        "f_price",
        floats(0, &mut |r| (r.unit() * 100_000.0).round() / 100.0),
    ));
    columns.push(("f_score", floats(3, &mut |r| r.approx_normal() * 1e-3)));
    let mut strings = |f: &mut dyn FnMut(&mut Rng, usize) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(
            (start..start + rows).map(|i| f(rng, i)),
        ))
    };
    columns.push((
        "carrier",
        strings(&mut |r, _| carriers[(r.next() % 10) as usize].to_string()),
    ));
    columns.push((
        "origin",
        strings(&mut |r, _| format!("A{:02}", r.next() % 50)),
    ));
    columns.push((
        "route",
        strings(&mut |r, _| format!("R{:03}", r.next() % 300)),
    ));
    columns.push(("user_id", strings(&mut |_, i| format!("user-{i:010}"))));
    columns.push(("session", strings(&mut |r, _| format!("{:016x}", r.next()))));
    let flags: ArrayRef = Arc::new(
        (0..rows)
            .map(|_| Some(rng.next() % 3 == 0))
            .collect::<BooleanArray>(),
    );
    columns.push(("b_flag", flags));
    let nullable: ArrayRef = Arc::new(
        (0..rows)
            .map(|_| {
                let v = rng.next();
                (v % 4 != 0).then_some(v % 2 == 0)
            })
            .collect::<BooleanArray>(),
    );
    columns.push(("b_nullable", nullable));
    let base_ms = 1_704_067_200_000i64; // 2024-01-01T00:00:00Z
    let millis: ArrayRef = Arc::new(
        (start..start + rows)
            .map(|i| Some(base_ms + i as i64 * 250 + (rng.next() % 1000) as i64))
            .collect::<TimestampMillisecondArray>()
            .with_timezone("UTC"),
    );
    columns.push(("t_event", millis));
    let micros: ArrayRef = Arc::new(
        (0..rows)
            .map(|_| Some(base_ms * 1000 + (rng.next() % 86_400_000_000) as i64))
            .collect::<TimestampMicrosecondArray>(),
    );
    columns.push(("t_local", micros));
    let days: ArrayRef = Arc::new(
        (0..rows)
            .map(|_| Some(19_723 + (rng.next() % 365) as i32))
            .collect::<Date32Array>(),
    );
    columns.push(("d_day", days));

    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .expect("columns have equal length")
}

fn generate(path: &Path, rows: usize) {
    let mut rng = Rng(42);
    let chunk = 100_000;
    let first = batch(&mut rng, 0, 0);
    let file = std::fs::File::create(path).expect("create output");
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(file, first.schema(), Some(properties)).expect("writer");
    let mut start = 0;
    while start < rows {
        let n = chunk.min(rows - start);
        writer
            .write(&batch(&mut rng, start, n))
            .expect("write batch");
        start += n;
    }
    writer.close().expect("close");
    println!(
        "generated rows={rows} bytes={}",
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    );
}

fn decode(path: &Path) {
    let started = Instant::now();
    let file = std::fs::File::open(path).expect("open");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("footer")
        .with_batch_size(ev::profile::read::BATCH_SIZE)
        .build()
        .expect("reader");
    let mut rows = 0usize;
    for batch in reader {
        rows += batch.expect("decode").num_rows();
    }
    report_decode("decode", rows, started);
}

/// Prints the figures of a decoding run that started at `started`.
fn report_decode(mode: &str, rows: usize, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{mode} rows={rows} seconds={seconds:.3} rows_per_second={:.0}",
        rows as f64 / seconds
    );
}

fn parquet_source(path: &Path) -> TableSource {
    TableSource::new(
        vec![path.to_path_buf()],
        Some(TableFormat::Parquet),
        CsvOptions::default(),
    )
    .expect("source")
}

fn decode_encoded(path: &Path) {
    let started = Instant::now();
    let source = parquet_source(path);
    let schema = source.schema().expect("schema");
    let interrupt = AtomicBool::new(false);
    let mut rows = 0usize;
    source
        .for_each_batch_encoded(&schema, None, &[], &interrupt, |_, batch| {
            rows += batch.num_rows();
            Ok::<(), ev::profile::read::ReadError>(())
        })
        .expect("decode");
    report_decode("decode-encoded", rows, started);
}

fn profile(path: &Path) {
    let started = Instant::now();
    let source = parquet_source(path);
    let interrupt = AtomicBool::new(false);
    let profile =
        ev::evidence::sample::profile_source(&source, &ProfileOptions::default(), &interrupt)
            .expect("profile");
    let seconds = started.elapsed().as_secs_f64();
    let json = serde_json::to_vec(&profile).expect("serialize");
    println!(
        "profile rows={} columns={} seconds={seconds:.3} rows_per_second={:.0} json_bytes={}",
        profile.rows,
        profile.columns.len(),
        profile.rows as f64 / seconds,
        json.len()
    );
}

/// Decodes the file into memory, then profiles each column alone on one thread.
fn columns(path: &Path) {
    let file = std::fs::File::open(path).expect("open");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("footer")
        .with_batch_size(ev::profile::read::BATCH_SIZE)
        .build()
        .expect("reader");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("decode")).collect();
    let schema = batches[0].schema();
    for (index, field) in schema.fields().iter().enumerate() {
        let single = Arc::new(Schema::new(vec![field.as_ref().clone()]));
        let parts: Vec<RecordBatch> = batches
            .iter()
            .map(|b| {
                RecordBatch::try_new(single.clone(), vec![b.column(index).clone()]).expect("column")
            })
            .collect();
        let started = Instant::now();
        let mut profiler =
            ev::profile::TableProfiler::new(single, &ProfileOptions::default()).expect("profiler");
        for part in &parts {
            profiler.update(part).expect("update");
        }
        let _ = profiler.finish();
        println!(
            "column {} seconds={:.3}",
            field.name(),
            started.elapsed().as_secs_f64()
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") if args.len() == 4 => generate(
            Path::new(&args[2]),
            args[3].parse().expect("ROWS is a number"),
        ),
        Some("decode") if args.len() == 3 => decode(Path::new(&args[2])),
        Some("decode-encoded") if args.len() == 3 => decode_encoded(Path::new(&args[2])),
        Some("profile") if args.len() == 3 => profile(Path::new(&args[2])),
        Some("columns") if args.len() == 3 => columns(Path::new(&args[2])),
        _ => {
            eprintln!(
                "usage: bench_profile generate PATH ROWS | decode PATH | decode-encoded PATH | \
                 profile PATH | columns PATH"
            );
            std::process::exit(2);
        }
    }
}
