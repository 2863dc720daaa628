"""``pelviscope clinic``: guided clinical tests and exercises.

``pelviscope clinic --simulate --test sls --side right`` runs the guided screen on a
simulated execution (needs a display, or ``--screenshot`` headless).
``pelviscope clinic RECORDING --markers --json out.json`` analyses the tests and
exercises marked in a recording (markers labelled ``sls-left``, ``sts``, ... - see
``analysis.clinical.LABELS``), or spans given with ``--mark TIME:LABEL``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pelviscope.cli import UsageError, add_overwrite, number_in, report

if TYPE_CHECKING:
    from analysis.clinical import Person, TiltTargets

TESTS = ("standing", "sls", "sts", "walk", "tilt_control", "level_balance", "sts_no_shift",
         "level_walking")


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    parser.add_argument("input", nargs="?", type=Path, metavar="RECORDING",
                        help="recording (.psrec) or CSV whose marked tests to analyse")
    parser.add_argument("--markers", action="store_true",
                        help="analyse the spans of the recording's own markers")
    parser.add_argument("--mark", action="append", default=[], metavar="TIME:LABEL",
                        help="a test starting at TIME s (repeatable), e.g. 12.5:sls-left")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    parser.add_argument("--html", type=Path, metavar="FILE",
                        help="write the results as an HTML page")
    parser.add_argument("--age", type=number_in(5, 120), metavar="YEARS",
                        help="age for the sit-to-stand norms")
    parser.add_argument("--targets", default="8,-8", metavar="DEG,DEG",
                        help="tilt-control targets, anterior tilt in deg (default 8,-8)")
    parser.add_argument("--band", type=number_in(0.5, 10.0), default=2.0, metavar="DEG",
                        help="tilt-control band around each target (default 2)")
    parser.add_argument("--hold", type=number_in(0.5, 60.0), default=3.0, metavar="S",
                        help="tilt-control hold time that counts (default 3)")
    parser.add_argument("--mount", help="known wearing position, e.g. sacral-mm+ (default: "
                        "automatic calibration from the first standing and walking)")
    parser.add_argument("--simulate", action="store_true",
                        help="run the guided screen on a simulated execution")
    parser.add_argument("--test", choices=TESTS, default="sls",
                        help="test or exercise for --simulate (default sls)")
    parser.add_argument("--side", choices=("left", "right"), default="right",
                        help="stance leg of sls / level_balance (default right)")
    parser.add_argument("--speed", type=number_in(0.1, 100.0), default=1.0,
                        help="replay speed of --simulate (default 1 = real time)")
    parser.add_argument("--screenshot", type=Path, metavar="FILE.png",
                        help="with --simulate: save the screen as PNG at the end and quit")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated person")
    add_overwrite(parser)


def _marks(args: argparse.Namespace, recording_markers: list[Any]) -> list[tuple[float, str]]:
    from analysis.clinical import LABELS

    marks: list[tuple[float, str]] = []
    for text in args.mark:
        time_text, sep, label = text.partition(":")
        try:
            at = float(time_text)
        except ValueError:
            at = float("nan")
        if not sep or not at == at or label.strip().lower() not in LABELS:
            raise UsageError(f"--mark {text}: use TIME:LABEL with LABEL one of "
                             f"{', '.join(LABELS)}")
        marks.append((at, label))
    if args.markers:
        marks += [(float(m.time_s), str(m.label)) for m in recording_markers]
    return marks


def _targets(args: argparse.Namespace) -> TiltTargets:
    from analysis.clinical import TiltTargets

    try:
        values = tuple(float(v) for v in args.targets.split(","))
    except ValueError:
        values = ()
    if not values or not all(abs(v) <= 30 for v in values):
        raise UsageError(f"--targets {args.targets}: give anterior tilts in deg within +-30, "
                         "e.g. 8,-8")
    return TiltTargets(targets_deg=values, band_deg=args.band, hold_s=args.hold)


def _simulate(args: argparse.Namespace) -> int:
    from gui.clinic.app import ClinicOptions
    from gui.clinic.app import run as run_app
    from gui.clinic.model import ClinicSpec
    from gui.live.app import needs_offscreen

    if args.screenshot is not None:
        if args.screenshot.suffix.lower() != ".png":
            raise UsageError(f"--screenshot {args.screenshot}: use the .png extension")
        from pelviscope.common import check_output

        check_output(args.screenshot, overwrite=args.overwrite)
    if needs_offscreen():
        if args.screenshot is None:
            raise UsageError("no display found: for headless use give --screenshot FILE.png")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    spec = ClinicSpec(kind=args.test, side=args.side, age_years=args.age,
                      targets=_targets(args))
    return run_app(ClinicOptions(spec, seed=args.seed, speed=args.speed,
                                 screenshot=args.screenshot))


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    if args.simulate:
        if args.input is not None:
            raise UsageError("give either --simulate or a RECORDING, not both")
        return _simulate(args)
    if args.input is None:
        raise UsageError("give a RECORDING to analyse (or --simulate)")
    if not args.markers and not args.mark:
        raise UsageError("say which spans are tests: --markers and/or --mark TIME:LABEL")
    from pelviscope.common import check_input_file, check_output, distinct_outputs

    check_input_file(args.input)
    outputs = [("--json", args.json), ("--html", args.html)]
    distinct_outputs(outputs, [args.input])
    for _, path in outputs:
        if path is not None:
            check_output(path, overwrite=args.overwrite)
    from recordings import load

    rec = load(args.input)
    marks = _marks(args, rec.markers)
    if not marks:
        raise UsageError(f"{args.input}: no markers (give --mark TIME:LABEL)")
    from analysis.clinical import Person

    who = Person(age_years=args.age, targets=_targets(args))
    doc = analyze_recording(rec, marks, mount=args.mount, person=who, path=str(args.input))
    status = _write(doc, args)
    for group in ("tests", "exercises"):
        for item in doc[group]:
            verdict = "ok" if item["valid"] else "REPEAT: " + item.get("repeat_reason", "")
            side = f" {item['side']}" if "side" in item else ""
            print(f"{item['start_s']:8.1f} s  {item['kind']}{side}: {verdict}")
    return status


def analyze_recording(rec: Any, marks: list[tuple[float, str]], *, mount: str | None,
                      person: Person, path: str) -> dict[str, Any]:
    """Calibrate, then analyse every marked span (``{"tests", "exercises", ...}``)."""
    import numpy as np

    from analysis.calibration import CalibrationError, calibrate_auto, mount_preset
    from analysis.clinical import analyze_marked, signals_from_imu
    from analysis.orientation import estimate_quat_wxyz
    from recordings.errors import InputError

    try:
        if mount:
            cal = mount_preset(mount)
        else:
            # The calibration protocol (stand, walk) comes before the first test: repeated
            # sit-to-stands look periodic enough to pass as walking and would skew the
            # anterior direction (~5 deg on simulated sessions).
            first = min(t for t, _ in marks)
            n = int(np.searchsorted(rec.time_s, first))
            if n < int(15 * rec.rate_hz):
                n = rec.time_s.size
            gyr = None if rec.gyr_rps is None else rec.gyr_rps[:n]
            q = estimate_quat_wxyz(rec.acc_mps2[:n], gyr, rec.rate_hz, offline=True)
            cal = calibrate_auto(rec.acc_mps2[:n], gyr, q, rec.rate_hz, time_s=rec.time_s[:n])
    except CalibrationError as exc:
        if mount:
            raise UsageError(f"--mount {mount}: {exc}") from None
        raise InputError(path, "", f"cannot calibrate ({exc}); give --mount") from None
    sig = signals_from_imu(rec.time_s, rec.acc_mps2, rec.gyr_rps, rec.rate_hz, cal)
    doc: dict[str, Any] = {"format": "pelviscope.clinic/1", "input": path,
                           "calibration": {"method": cal.method}}
    doc.update(analyze_marked(sig, marks, person))
    return doc


def _write(doc: dict[str, Any], args: argparse.Namespace) -> int:
    """Write the outputs asked for, each on its own; the exit status."""
    from analysis.clinical import html_section
    from pelviscope.common import json_text, write_each

    jobs = []
    if args.json is not None:
        jobs.append((args.json, lambda f: f.write(json_text(doc))))
    if args.html is not None:
        page = ("<!doctype html><html><head><meta charset='utf-8'><title>pelviscope clinic"
                "</title></head><body>" + html_section(doc["tests"], doc["exercises"])
                + "</body></html>\n")
        jobs.append((args.html, lambda f: f.write(page)))
    failed = write_each(jobs, overwrite=args.overwrite)
    for _, message in failed:
        report("clinic", "", message)
    return max((status for status, _ in failed), default=0)
