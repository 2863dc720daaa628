"""Cohort-scale benchmarks (issue 20): batch throughput, a week of AX6 data, the 8 h profile.

Run by hand, one part at a time (the machine's load changes every figure; compare only
figures of one run)::

    .venv/bin/python bench/bench_cohort.py throughput [--n 8] [--minutes 60]
    .venv/bin/python bench/bench_cohort.py week [--days 7] [--rate-hz 100]
    .venv/bin/python bench/bench_cohort.py profile [--hours 8] [--top 15]

throughput: N copies of one simulated recording analysed by ``pelviscope analyze FOLDER``
on the local process pool (``--jobs 2``) and as Dask tasks on a LocalCluster of 1 and of
2 worker processes (127.0.0.1, dashboard off; cluster start-up timed apart): files per
minute and the ratios.
week: a synthetic AX6 file (a simulated mixed day repeated) analysed day by day
(``--per-day --parquet``) in a child process: wall and CPU time, the child's peak RSS.
profile: the two Test11 trials of ``../shared/data/mobgap_lab`` tiled end to end to 8 h
at 100 Hz as a CSV; CPU time of ``pandas.read_csv`` + ``vqf.offlineVQF`` against
``analyze`` of the same file (one process, ``workers=1``), and cProfile's top functions
of that ``analyze`` by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pelviscope.cli import main as cli  # noqa: E402
from recordings import load  # noqa: E402
from recordings.plausibility import G_MPS2  # noqa: E402
from tests.recordings.cwa_synth import write_ax6  # noqa: E402

TMP = Path(tempfile.gettempdir())


def cpu_s() -> float:
    """CPU time of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def simulated(minutes: float, seed: int = 1, rate_hz: float = 100.0) -> Path:
    path = TMP / f"pelviscope_cohort_{minutes:g}min_{rate_hz:g}hz_{seed}.psrec"
    if not path.exists():
        cli(["simulate", str(path), "--scenario", "day", "--duration", str(minutes * 60),
             "--seed", str(seed), "--rate-hz", str(rate_hz)])  # fmt: skip
    return path


def throughput(args: argparse.Namespace) -> None:
    from distributed import Client, LocalCluster

    source = simulated(args.minutes)
    folder = Path(tempfile.mkdtemp(prefix="pelviscope_cohort_"))
    for i in range(args.n):
        shutil.copy(source, folder / f"p{i:03d}.psrec")
    print(f"{args.n} files of {args.minutes:g} min at 100 Hz in {folder}")

    def batch(label: str, extra: list[str]) -> float:
        out = folder.parent / f"{folder.name}_{label}"
        t0, c0 = time.perf_counter(), cpu_s()
        rc = cli(["analyze", str(folder), "--parquet", str(out), "-q", "--summary-csv",
                  str(out) + ".csv", *extra])  # fmt: skip
        wall, cpu = time.perf_counter() - t0, cpu_s() - c0
        assert rc == 0, rc
        rate = args.n / wall * 60
        print(f"  {label:<14} {wall:7.1f} s wall  {rate:6.2f} files/min  (client CPU {cpu:.1f} s)")
        return rate

    rates = {"pool 2 jobs": batch("pool2", ["--jobs", "2"])}
    for workers in (1, 2):
        t0 = time.perf_counter()
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=40,
            ) as cluster,
            Client(cluster),
        ):
            print(f"  LocalCluster({workers}) up in {time.perf_counter() - t0:.1f} s")
            rates[f"dask {workers} worker"] = batch(
                f"dask{workers}", ["--scheduler", cluster.scheduler_address, "--jobs", "2"]
            )
    pool, d1, d2 = rates.values()
    print(f"dask 2 / pool 2 = {d2 / pool:.2f}   dask 2 / dask 1 = {d2 / d1:.2f} "
          f"(per core: dask2/2 vs dask1 = {d2 / 2 / d1:.2f})")  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)


def week(args: argparse.Namespace) -> None:
    day = load(simulated(60, seed=3, rate_hz=args.rate_hz))
    acc_g, gyr_dps = day.acc_mps2 / G_MPS2, np.degrees(day.gyr_rps)
    n = day.n_samples

    def signal(t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.round(t_s * args.rate_hz).astype(int) % n
        return acc_g[i], gyr_dps[i]

    path = TMP / f"pelviscope_cohort_week_{args.days:g}d.cwa"
    if not path.exists():
        t0 = time.perf_counter()
        write_ax6(path, args.days * 86400, start=datetime(2026, 3, 2, 9, 0, 0),
                  rate_hz=int(args.rate_hz), signal=signal, subject="W1")  # fmt: skip
        print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    out = TMP / "pelviscope_cohort_week_pq"
    code = (
        "import resource, sys, time\n"
        "from pelviscope.cli import main\n"
        "t = time.perf_counter()\n"
        f"rc = main(['analyze', {str(path)!r}, '--per-day', '--parquet', {str(out)!r}, "
        f"'--overwrite', '-q', '--summary-csv', {str(out) + '.csv'!r}])\n"
        "self = resource.getrusage(resource.RUSAGE_SELF)\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print('rc', rc, 'wall_s', round(time.perf_counter() - t, 1), 'cpu_s',"
        " round(self.ru_utime + self.ru_stime + kids.ru_utime + kids.ru_stime, 1),"
        " 'peak_rss_mb', round(max(self.ru_maxrss, kids.ru_maxrss) / 1024))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    print(run.stdout.strip() or run.stderr[-2000:])
    table = pd.read_csv(str(out) + ".csv", keep_default_na=False)
    print(table[["day", "duration_s", "steps", "episodes", "walking_s"]].to_string(index=False))


def tiled_csv(hours: float) -> Path:
    path = TMP / f"pelviscope_mobgap_test11_tiled_{hours:g}h.csv"
    if path.exists():
        return path
    data = ROOT.parent / "shared" / "data" / "mobgap_lab"
    parts = [pd.read_csv(data / p / "Test11_Trial1.csv") for p in ("MS_001", "HA_001")]
    one = pd.concat(parts, ignore_index=True)
    reps = int(np.ceil(hours * 3600 * 100 / len(one)))
    tiled = pd.concat([one] * reps, ignore_index=True).iloc[: int(hours * 3600 * 100)]
    tiled["time_s"] = np.arange(len(tiled)) / 100.0
    tiled.to_csv(path, index=False, float_format="%.7g")
    return path


def profile(args: argparse.Namespace) -> None:
    import vqf

    from analysis.session import analyze

    path = tiled_csv(args.hours)
    print(f"{path}: {path.stat().st_size / 1e6:.0f} MB")
    c0 = cpu_s()
    frame = pd.read_csv(path)
    acc = np.ascontiguousarray(frame[["acc_x", "acc_y", "acc_z"]].to_numpy())
    gyr = np.ascontiguousarray(frame[["gyr_x", "gyr_y", "gyr_z"]].to_numpy())
    c1 = cpu_s()
    vqf.offlineVQF(gyr, acc, None, 0.01)
    c2 = cpu_s()
    read_s, vqf_s = c1 - c0, c2 - c1
    print(f"pandas read_csv {read_s:.2f} s CPU + offlineVQF {vqf_s:.2f} s CPU = "
          f"{read_s + vqf_s:.2f} s")  # fmt: skip
    del frame, acc, gyr
    for workers in (1, None):
        c0, t0 = cpu_s(), time.perf_counter()
        analyze(path, workers=workers)
        cpu, wall = cpu_s() - c0, time.perf_counter() - t0
        print(f"analyze workers={workers}: {cpu:.2f} s CPU ({cpu / (read_s + vqf_s):.2f}x), "
              f"{wall:.2f} s wall")  # fmt: skip
    prof = cProfile.Profile()
    prof.enable()
    analyze(path, workers=1)
    prof.disable()
    for key in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats(key).print_stats(args.top)
        print(f"--- top {args.top} by {key}")
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[-4000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="part", required=True)
    p = sub.add_parser("throughput")
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--minutes", type=float, default=60.0)
    p = sub.add_parser("week")
    p.add_argument("--days", type=float, default=7.0)
    p.add_argument("--rate-hz", type=float, default=100.0)
    p = sub.add_parser("profile")
    p.add_argument("--hours", type=float, default=8.0)
    p.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    {"throughput": throughput, "week": week, "profile": profile}[args.part](args)


if __name__ == "__main__":
    main()
