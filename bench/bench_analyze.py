"""End-to-end ``analyze`` of an 8-hour 100 Hz session (2.88 M samples) from the native format.

Run by hand: ``.venv/bin/python bench/bench_analyze.py [--hours 8] [--file F.psrec]``.
The session is simulated once (a mixed day with hip-hikes) and kept in the temp folder.
Prints samples/s, the ratio to ``vqf.offlineVQF`` alone on the same data in the same run,
the time per analysis stage, and the size of the HTML report.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import vqf

from analysis.report import render_html
from analysis.session import analyze
from pelviscope.cli import main as cli
from recordings import read_recording


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    path = args.file or Path(tempfile.gettempdir()) / f"pelviscope_bench_{args.hours:g}h.psrec"
    if not path.exists():
        print(f"simulating {args.hours:g} h into {path} ...")
        cli(
            [
                "simulate",
                str(path),
                "--scenario",
                "day",
                "--duration",
                str(args.hours * 3600),
                "--seed",
                "3",
            ]
        )

    t0 = time.perf_counter()
    rec = read_recording(path)
    t_read = time.perf_counter() - t0
    n = rec.n_samples
    t0 = time.perf_counter()
    vqf.offlineVQF(rec.gyr_rps, rec.acc_mps2, None, 1.0 / rec.rate_hz)
    t_vqf = time.perf_counter() - t0

    stages: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    result = analyze(path, progress=lambda f, stage: stages.append((time.perf_counter(), stage)))
    t_total = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = render_html(result)
    t_html = time.perf_counter() - t0

    print(f"{path.name}: {n:,} samples ({n / rec.rate_hz / 3600:.1f} h at {rec.rate_hz:g} Hz)")
    print(f"  read_recording            {t_read:7.2f} s")
    print(f"  vqf.offlineVQF alone      {t_vqf:7.2f} s  {n / t_vqf:12,.0f} samples/s  (baseline)")
    print(
        f"  analyze end to end        {t_total:7.2f} s  {n / t_total:12,.0f} samples/s  "
        f"= {t_vqf / t_total:.2f}x offlineVQF alone"
    )
    print("  stages (time until the next stage starts):")
    for (t, stage), (t_next, _) in itertools.pairwise(stages):
        print(f"    {stage:<12} {t_next - t:7.2f} s")
    print(
        f"  HTML report               {t_html:7.2f} s, {len(html.encode()) / 1e6:.2f} MB, "
        f"{len(result.episodes)} episodes, {len(result.steps)} steps"
    )


if __name__ == "__main__":
    main()
