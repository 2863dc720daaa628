"""Benchmark: read an 8-hour 100 Hz recording (2.88 M samples) and compare with raw reads.

Run by hand: ``python bench/bench_read.py [--hours 8] [--rate-hz 100]``. Prints the best of
3 timings of ``read_recording``, a plain ``numpy.fromfile`` of the same records as one raw
array, and pyarrow Feather (uncompressed) / Parquet reads of the same columns.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
from timing import best_of

from recordings import Gap, Marker, Recording, RecordingWriter, read_recording, write_recording
from recordings.format import dtype_of, record_fields


def synthetic(n: int, rate_hz: float) -> Recording:
    rng = np.random.default_rng(1)
    time_s = np.arange(n) / rate_hz
    acc = rng.normal(0.0, 0.5, (n, 3))
    acc[:, 2] += 9.81
    gyr = rng.normal(0.0, 0.3, (n, 3))
    return Recording(
        time_s=time_s, acc_mps2=acc, gyr_rps=gyr, rate_hz=rate_hz, device_time_s=time_s + 5.0,
        gaps=[Gap(100.0, 100.5, 49)], markers=[Marker(10.0, "start")],
        meta={"subject_id": "bench", "start_time_utc": "2026-01-01T08:00:00Z"},
    )  # fmt: skip


def write_live(path: Path, rec: Recording, flush_every: int) -> None:
    """Write like a live recorder: one DATA chunk per flush of ``flush_every`` samples."""
    with RecordingWriter(
        path, rec.meta, rate_hz=rec.rate_hz, background_flush=False, fsync_interval_s=None
    ) as w:
        for a in range(0, rec.n_samples, flush_every):
            b = slice(a, a + flush_every)
            w.append(rec.time_s[b], rec.acc_mps2[b], rec.gyr_rps[b], seq=a)
            w.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--rate-hz", type=float, default=100.0)
    ap.add_argument("--no-live", action="store_true", help="skip the live-written file")
    args = ap.parse_args()
    n = round(args.hours * 3600 * args.rate_hz)
    rec = synthetic(n, args.rate_hz)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        write_recording(d / "s.psrec", rec)
        t_write = time.perf_counter() - t0
        dtype = dtype_of(record_fields(has_gyr=True, has_mag=False))
        raw = np.empty(n, dtype)
        raw["time_s"], raw["device_time_s"] = rec.time_s, rec.device_time_s
        raw["acc_mps2"], raw["gyr_rps"] = rec.acc_mps2, rec.gyr_rps
        raw.tofile(d / "s.raw")
        table = pa.table(
            {"time_s": rec.time_s, "device_time_s": rec.device_time_s}
            | {f"acc_{a}": rec.acc_mps2[:, i].astype(np.float32) for i, a in enumerate("xyz")}
            | {f"gyr_{a}": rec.gyr_rps[:, i].astype(np.float32) for i, a in enumerate("xyz")}
        )
        feather.write_feather(table, d / "s.feather", compression="uncompressed")
        pq.write_table(table, d / "s.parquet", compression="none")
        for name in ("s.psrec", "s.raw", "s.feather", "s.parquet"):
            (d / name).read_bytes()  # warm the page cache for every contender

        def ours() -> None:
            read_recording(d / "s.psrec")

        def raw_read() -> None:
            np.fromfile(d / "s.raw", dtype=dtype)

        def raw_read_f8() -> None:
            a = np.fromfile(d / "s.raw", dtype=dtype)
            for field in ("time_s", "device_time_s", "acc_mps2", "gyr_rps"):
                a[field].astype(np.float64)

        def feather_read() -> None:
            feather.read_table(d / "s.feather", memory_map=False).combine_chunks()

        def parquet_read() -> None:
            pq.read_table(d / "s.parquet").combine_chunks()

        check = read_recording(d / "s.psrec")
        assert check.n_samples == n and not check.warnings
        t_ours = best_of(ours)
        t_raw, t_raw_f8 = best_of(raw_read), best_of(raw_read_f8)
        t_feather = best_of(feather_read)
        t_parquet = best_of(parquet_read)
        size_mb = (d / "s.psrec").stat().st_size / 1e6
        print(f"samples: {n:,} ({args.hours:g} h at {args.rate_hz:g} Hz), file {size_mb:.1f} MB, "
              f"write_recording {t_write:.2f} s")  # fmt: skip
        print(f"read_recording     {t_ours:7.3f} s  {n / t_ours / 1e6:7.1f} M samples/s "
              "(to float64 Recording arrays)")  # fmt: skip
        rows = (("numpy.fromfile", t_raw), ("fromfile+float64", t_raw_f8),
                ("pyarrow feather", t_feather), ("pyarrow parquet", t_parquet))  # fmt: skip
        for label, t in rows:
            print(f"{label:18s} {t:7.3f} s  {n / t / 1e6:7.1f} M samples/s  "
                  f"read_recording / this = {t_ours / t:5.2f}")  # fmt: skip
        if not args.no_live:
            every = max(round(args.rate_hz / 2), 1)
            write_live(d / "live.psrec", rec, every)
            n_chunks = -(-n // every)
            t_live = best_of(lambda: read_recording(d / "live.psrec"))
            print(f"read_recording     {t_live:7.3f} s  {n / t_live / 1e6:7.1f} M samples/s "
                  f"(live-written file, {n_chunks:,} DATA chunks of 0.5 s)")  # fmt: skip


if __name__ == "__main__":
    main()
