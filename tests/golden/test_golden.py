"""``pelviscope analyze --json --csv`` of the demo sessions and a seeded simulation, pinned.

A change of results fails here with what changed and the instruction to bump
``analysis.session.ANALYSIS_VERSION`` (review caches of the old results must not be
served) and regenerate; a missing golden file fails the same way, it is never written
by the test. What is pinned and how it is compared: :mod:`tests.golden.golden`.

The results must also be deterministic: byte-identical outputs from a second run in a
fresh process (another hash seed), and the same golden document when the session is
analysed in parallel parts (``workers=2``) as in one process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from analysis import session
from analysis.pipeline import offline
from tests.golden.golden import (
    DEMO,
    ROOT,
    SESSIONS,
    differences,
    fingerprint,
    golden_path,
    input_path,
    message,
    normalise_json,
    produce,
    report,
    summarise_csv,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scratch folder for the module (the simulated input is made once)."""
    return tmp_path_factory.mktemp("golden")


def _golden(name: str) -> dict[str, Any]:
    path = golden_path(name)
    if not path.exists():
        pytest.fail(message(f"{path.name} is missing."), pytrace=False)
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


@pytest.mark.parametrize("name", list(SESSIONS))
def test_results_equal_the_golden_file(name: str, folder: Path) -> None:
    golden = _golden(name)
    if "input" in golden:
        # The simulator (or the CSV writer) changed, not necessarily the analysis.
        changed = list(differences(golden["input"], fingerprint(input_path(name, folder))))
        if changed:
            pytest.fail(
                f"the simulated input of {name} changed (simulator, not the analysis): "
                "regenerate with `.venv/bin/python -m tests.golden.regenerate`; bump "
                "analysis.session.ANALYSIS_VERSION only if the demo sessions changed too."
                + report(changed),
                pytrace=False,
            )
    diffs = list(differences(golden, produce(name, folder)))
    if diffs:
        pytest.fail(message(f"{name}: {len(diffs)} difference(s):") + report(diffs), pytrace=False)


def test_a_missing_golden_file_fails_and_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "demo_clinic.json"
    monkeypatch.setattr(sys.modules[__name__], "golden_path", lambda name: missing)
    with pytest.raises(pytest.fail.Exception, match=r"results changed: bump analysis\.session"):
        test_results_equal_the_golden_file("demo_clinic", tmp_path)
    assert not missing.exists()


def test_missing_or_changed_golden_is_reported_not_written(tmp_path: Path) -> None:
    # The comparison itself must catch changes: a tolerance that swallowed them would
    # make every golden test pass.
    golden = _golden("demo_clinic")
    assert not list(differences(golden, json.loads(json.dumps(golden))))
    changed = json.loads(json.dumps(golden))
    changed["json"]["hip_hike_episodes"][0]["peak_deg"] += 0.01
    changed["json"]["steps"].pop()
    changed["csv"]["activity_runs"][1][0] = "sitting"
    diffs = list(differences(golden, changed))
    assert len(diffs) >= 3
    assert any("hip_hike_episodes[0]/peak_deg" in d for d in diffs)
    assert any(d.startswith("/json/steps: ") for d in diffs)
    assert any("activity_runs[1][0]" in d for d in diffs)
    # One rounding step (a value at a rounding boundary on another machine) is the same.
    flipped = json.loads(json.dumps(golden))
    flipped["json"]["hip_hike_episodes"][0]["peak_deg"] += 0.001
    assert not list(differences(golden, flipped))
    assert "results changed: bump analysis.session.ANALYSIS_VERSION and regenerate" in message("")


def test_outputs_are_identical_in_a_fresh_process(folder: Path) -> None:
    name = "demo_clinic_tilted"
    here = folder / "here"
    produce(name, here)
    there = folder / "there"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    code = (
        "import sys; from pathlib import Path; from tests.golden.golden import produce; "
        f"produce({name!r}, Path(sys.argv[1]))"
    )
    subprocess.run([sys.executable, "-c", code, str(there)], cwd=ROOT, env=env, check=True)
    for suffix in (".out.json", ".out.csv"):
        a = (here / f"{name}{suffix}").read_bytes()
        b = (there / f"{name}{suffix}").read_bytes()
        assert a == b, f"{suffix}: a second run in a fresh process gave other bytes"


def _document(result: session.SessionResult, source: str) -> dict[str, Any]:
    """The golden document's results (``json`` and ``csv``) of an in-memory result."""
    return {
        "json": normalise_json(json.loads(json.dumps(result.to_json())), source),
        "csv": summarise_csv(result.per_sample, result.rate_hz),
    }


def test_parallel_parts_give_the_golden_results(monkeypatch: pytest.MonkeyPatch) -> None:
    path = DEMO / "clinic_tilted.psrec"
    whole = session.analyze(path, workers=1)
    calls: list[int] = []
    real = offline._analyze_in_parts

    def spy(*args: Any, **kwargs: Any) -> session.SessionResult:
        calls.append(len(args[1]) - 1)  # parts
        return real(*args, **kwargs)

    monkeypatch.setattr(offline, "_analyze_in_parts", spy)
    # a 5-minute session in parts of 2 minutes
    parts = session.analyze(path, params=session.SessionParams(workers=2, part_s=120.0))
    assert calls and calls[0] >= 2, "the session was not analysed in parts"
    diffs = list(differences(_document(whole, str(path)), _document(parts, str(path))))
    assert not diffs, "workers=2 in parts differs from workers=1:" + report(diffs)
    golden = _golden("demo_clinic_tilted")
    diffs = list(differences({k: golden[k] for k in ("json", "csv")},
                             _document(parts, str(path))))  # fmt: skip
    assert not diffs, message("parts differ from the golden file:") + report(diffs)
