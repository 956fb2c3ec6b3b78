//! Benchmark driver for the object store, used by `scripts/bench_store.sh`.
//!
//! Subcommands:
//! - `gen FILE MIB`: writes MIB mebibytes of mixed content: even-numbered 1 MiB blocks are
//!   xorshift64 pseudo-random bytes (incompressible), odd-numbered blocks are CSV-like text rows
//!   (`row,<n>,<value>,label_<k>`, compressible about 3-4x by zstd -1). Deterministic.
//! - `parquet FILE ROWS`: writes a Parquet file (snappy, 1,048,576-row row groups) with columns
//!   `id` (sequential i64), `x` (pseudo-random f64), `y` (pseudo-random i64) and `label` (one of
//!   16 strings). Row `n` depends only on `n`, so a file with more rows repeats the first rows.
//! - `commit REPO FILE`: stores FILE in `REPO/.ev/objects` the way a commit does (stat cache
//!   lookup, else chunked write, then cache save) and prints one JSON line with the outcome.
//!   `EV_ZSTD_LEVEL` sets the zstd level.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use ev::chunker::{ChunkParams, write_file};
use ev::progress::NoProgress;
use ev::repo_path::RepoPath;
use ev::stat_cache::StatCache;
use ev::store::Store;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

const MIB: usize = 1024 * 1024;

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn generate(path: &Path, mib: usize) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(MIB, File::create(path)?);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut block = Vec::with_capacity(MIB + 128);
    let mut row = 0u64;
    for i in 0..mib {
        block.clear();
        if i % 2 == 0 {
            while block.len() < MIB {
                block.extend_from_slice(&xorshift(&mut state).to_le_bytes());
            }
        } else {
            while block.len() < MIB {
                let value = xorshift(&mut state) % 1_000_000;
                let label = xorshift(&mut state) % 16;
                writeln!(
                    block,
                    "row,{row},{}.{:02},label_{label}",
                    value / 100,
                    value % 100
                )?;
                row += 1;
            }
        }
        out.write_all(&block[..MIB])?;
    }
    out.flush()
}

/// Pseudo-random u64 for row `n`, column `c`, independent of other rows (splitmix64).
fn cell(n: u64, c: u64) -> u64 {
    let mut z = n
        .wrapping_mul(4)
        .wrapping_add(c)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn parquet(path: &Path, rows: u64) -> Result<(), Box<dyn std::error::Error>> {
    const GROUP: u64 = 1 << 20;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Int64, false),
        Field::new("label", DataType::Utf8, false),
    ]));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(GROUP as usize))
        .build();
    let mut writer = ArrowWriter::try_new(File::create(path)?, schema.clone(), Some(props))?;
    let labels: Vec<String> = (0..16).map(|k| format!("label_{k}")).collect();
    let mut start = 0u64;
    while start < rows {
        // Batches of a whole row group keep row-group boundaries at multiples of GROUP.
        let end = (start + GROUP).min(rows);
        let ids: Vec<i64> = (start..end).map(|n| n as i64).collect();
        let xs: Vec<f64> = (start..end)
            .map(|n| (cell(n, 1) >> 11) as f64 / (1u64 << 53) as f64)
            .collect();
        let ys: Vec<i64> = (start..end)
            .map(|n| (cell(n, 2) % 1_000_000_000) as i64)
            .collect();
        let ls: Vec<&str> = (start..end)
            .map(|n| labels[(cell(n, 3) % 16) as usize].as_str())
            .collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Float64Array::from(xs)),
            Arc::new(Int64Array::from(ys)),
            Arc::new(StringArray::from(ls)),
        ];
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
        start = end;
    }
    writer.close()?;
    Ok(())
}

fn commit(repo: &Path, file: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let level = std::env::var("EV_ZSTD_LEVEL")
        .ok()
        .map(|v| v.parse::<i32>())
        .transpose()?;
    let mut store = Store::init(&repo.join(".ev").join("objects"))?;
    if let Some(level) = level {
        store = store.with_zstd_level(level);
    }
    let params = ChunkParams::default();
    let mut cache = StatCache::load(&repo.join(".ev").join("cache"), &params);

    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("file name is not UTF-8")?;
    let path = RepoPath::new(name)?;
    // Metadata is taken before reading, so a change during the write is never cached.
    let meta = fs::symlink_metadata(file)?;
    if let Some((id, _)) = cache.lookup(&path, &meta) {
        println!(
            "{{\"cached\":true,\"id\":\"{id}\",\"seconds\":{:.3}}}",
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }

    // Deferred writes plus one barrier, as a commit does before it moves its ref.
    let batch = store.deferred();
    let out = write_file(&batch, &params, file, &NoProgress, &AtomicBool::new(false))?;
    batch.sync_pending()?;
    cache.insert(&path, &meta, out.id, ev::object::EntryType::File);
    cache.save()?;
    println!(
        "{{\"cached\":false,\"id\":\"{}\",\"size\":{},\"chunks_written\":{},\"bytes_new\":{},\"seconds\":{:.3}}}",
        out.id,
        out.size,
        out.chunks_written,
        out.bytes_new,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen", file, mib] => generate(Path::new(file), mib.parse()?)?,
        ["parquet", file, rows] => parquet(Path::new(file), rows.parse()?)?,
        ["commit", repo, file] => commit(Path::new(repo), Path::new(file))?,
        _ => {
            eprintln!("usage: bench_store gen FILE MIB | parquet FILE ROWS | commit REPO FILE");
            std::process::exit(2);
        }
    }
    Ok(())
}
