"""A simulated 8-week rehabilitation course in a fresh history database, and its report.

Run by hand: ``.venv/bin/python bench/history_demo.py OUT_FOLDER`` writes the recordings,
``history.sqlite`` and ``progress.html`` there (docs/history_report.png is its screenshot).
The right static hip-hike while standing shortens week by week, the gait hike on the
right fades, cadence and walking speed rise.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

from history.db import open_database
from history.models import Side
from history.report import render_progress_html
from history.store import add_subject, find_recordings, import_files
from history.trends import load_trends
from recordings import write_recording
from simulator import Scenario, Sit, Stand, Walk, simulate


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    start = dt.datetime(2026, 1, 5, 9, 0)
    for week in range(8):
        hike_s = max(0.0, 40.0 - 6.0 * week)
        phases = [Stand(8), Walk(15, cadence_spm=92 + 2.5 * week), Stand(12)]
        if hike_s >= 5:
            phases.append(Stand(hike_s, lateral_deg=-6.0))
        phases += [
            Stand(10),
            Walk(
                40,
                cadence_spm=92 + 2.5 * week,
                speed_mps=0.9 + 0.05 * week,
                hike_side="right" if week < 5 else None,
                hike_deg=5.0 - 0.8 * week,
            ),
            Stand(10),
            Sit(40),
        ]
        rec = simulate(Scenario(phases), rate_hz=100.0, seed=week).recording
        rec.meta["start_time_utc"] = (start + dt.timedelta(days=7 * week)).isoformat() + "Z"
        write_recording(out / f"week{week + 1}.psrec", rec, overwrite=True)
    db_path = out / "history.sqlite"
    db_path.unlink(missing_ok=True)
    with open_database(str(db_path)) as db:
        add_subject(db, "DEMO-01", affected_side=Side.RIGHT)
        import_files(db, "DEMO-01", find_recordings([out]))
        t0 = time.perf_counter()
        html = render_progress_html(load_trends(db, "DEMO-01"))
        print(f"report in {time.perf_counter() - t0:.3f} s")
    (out / "progress.html").write_text(html, encoding="utf-8")


if __name__ == "__main__":
    main()
