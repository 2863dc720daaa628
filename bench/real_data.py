"""Loading and scoring of the real labelled data sets in ``../shared/data``.

Shared by ``tests/analysis/test_gait_real_data.py`` and ``bench/eval_real.py``; the data
root is passed in (the tests find it with ``tests.conftest.require_data``).

mobgap_lab initial contacts (the rules matter for the numbers):
- the detector runs on the whole recording (not on the reference bouts cut out);
- only the reference walking bouts (INDIP ``walking_bouts``) are scored, as mobgap does;
- a detection matches a reference IC within +-0.2 s, one-to-one, closest pairs first;
- matched detections may lie up to 0.2 s outside a bout; an unmatched detection is a false
  positive only if it lies inside a bout ``[start_s, end_s]``;
- L/R accuracy is over matched ICs (detected side == reference side; "unknown" is wrong).

HAPT activities and postural transitions (video labels, ``*.labels.json``):
- :data:`HAPT_ACTIVITY` maps the steady labels to pelviscope's activities; stairs up and
  down count as walking (HAPT README; pelviscope has no stairs class);
- activity agreement is per labelled sample of the steady labels only: the labelled
  transitions are scored as events (:func:`score_transitions`), unlabelled time not at all;
- a labelled transition is found when a detected one of the same kind
  (:data:`HAPT_TRANSITION`) has its midpoint within +-2.5 s of the labelled midpoint,
  one-to-one, closest pairs first; an unmatched detection is extra only when its midpoint
  lies inside labelled time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

IC_TOL_S = 0.2
TRANSITION_TOL_S = 2.5

HAPT_ACTIVITY = {
    "WALKING": "walking",
    "WALKING_UPSTAIRS": "walking",
    "WALKING_DOWNSTAIRS": "walking",
    "SITTING": "sitting",
    "STANDING": "standing",
    "LAYING": "lying",
}
HAPT_TRANSITION = {
    "SIT_TO_STAND": "sit_to_stand",
    "STAND_TO_SIT": "stand_to_sit",
    "SIT_TO_LIE": "lie_down",
    "STAND_TO_LIE": "lie_down",
    "LIE_TO_SIT": "get_up",
    "LIE_TO_STAND": "get_up",
}


def mobgap_trials(root: Path) -> list[Path]:
    """The trial CSVs of ``mobgap_lab`` (``<participant>/<Test>_<Trial>.csv``), sorted."""
    return sorted(root.glob("*/*.csv"))


def mobgap_events(csv_path: Path) -> dict[str, Any]:
    """The INDIP reference (``.events.json``) beside a mobgap_lab trial CSV."""
    return json.loads(csv_path.with_name(csv_path.stem + ".events.json").read_text())


def score_initial_contacts(
    det_time_s: ArrayLike, det_side: ArrayLike, events: dict[str, Any]
) -> dict[str, int]:
    """TP/FP/FN and L/R-correct counts of one mobgap_lab trial (rules in the module doc).

    Parameters
    ----------
    det_time_s : array_like of float
        Detected initial contacts, trial time.
    det_side : array_like of str
        Their sides (``"left"``, ``"right"`` or anything else for unknown).
    events : dict
        The trial's reference (:func:`mobgap_events`).

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn`` and ``lr`` (matched ICs with the right side).
    """
    ref_t = np.array([e["time_s"] for e in events["initial_contacts"]])
    ref_side = np.array([e["side"] for e in events["initial_contacts"]])
    det_t, det_s = np.asarray(det_time_s, float), np.asarray(det_side)
    near = np.zeros(det_t.size, bool)
    inside = np.zeros(det_t.size, bool)
    for b in events["walking_bouts"]:
        near |= (det_t >= b["start_s"] - IC_TOL_S) & (det_t <= b["end_s"] + IC_TOL_S)
        inside |= (det_t >= b["start_s"]) & (det_t <= b["end_s"])
    cand = np.flatnonzero(near)
    pairs = _closest_pairs(det_t[cand], ref_t, IC_TOL_S)
    lr = sum(int(det_s[cand[i]] == ref_side[j]) for i, j in pairs)
    used = {int(cand[i]) for i, _ in pairs}
    fp = sum(1 for i in cand if int(i) not in used and inside[i])
    return {"tp": len(pairs), "fp": fp, "fn": ref_t.size - len(pairs), "lr": lr}


def f1(counts: dict[str, int]) -> float:
    """F1 of ``tp``/``fp``/``fn`` counts (NaN when there is nothing to score)."""
    denom = 2 * counts["tp"] + counts["fp"] + counts["fn"]
    return 2 * counts["tp"] / denom if denom else float("nan")


def hapt_sessions(root: Path) -> list[Path]:
    """The session CSVs of ``hapt`` (``hapt_expXX_userYY.csv``), sorted."""
    return sorted(root.glob("hapt_exp*_user*.csv"))


def hapt_labels(csv_path: Path) -> dict[str, Any]:
    """The video labels (``.labels.json``) beside a HAPT session CSV."""
    return json.loads(csv_path.with_name(csv_path.stem + ".labels.json").read_text())


def label_per_sample(time_s: ArrayLike, segments: Sequence[dict[str, Any]]) -> NDArray[np.str_]:
    """The label of each sample's segment (``[start_s, end_s)``), ``""`` where unlabelled."""
    t = np.asarray(time_s, float)
    out = np.full(t.size, "", dtype="<U20")
    for seg in segments:
        out[(t >= seg["start_s"]) & (t < seg["end_s"])] = seg["label"]
    return out


def label_at(time_s: float, segments: Sequence[dict[str, Any]]) -> str:
    """The label of the segment holding ``time_s`` (``""`` where unlabelled)."""
    for seg in segments:
        if seg["start_s"] <= time_s < seg["end_s"]:
            return str(seg["label"])
    return ""


def score_activity(labels: ArrayLike, activity: ArrayLike) -> dict[str, int]:
    """Sample counts of activity agreement with HAPT's steady labels.

    Parameters
    ----------
    labels : array_like of str
        HAPT label per sample (:func:`label_per_sample`).
    activity : array_like of str
        pelviscope's activity per sample.

    Returns
    -------
    dict
        ``labelled`` and ``agree`` (steady labels, :data:`HAPT_ACTIVITY`), ``sitting`` and
        ``sitting_as_standing``, ``standing`` and ``standing_as_sitting``.
    """
    lab, act = np.asarray(labels), np.asarray(activity)
    want = np.full(lab.size, "", dtype="<U20")
    for name, mapped in HAPT_ACTIVITY.items():
        want[lab == name] = mapped
    steady = want != ""
    sitting, standing = lab == "SITTING", lab == "STANDING"
    return {
        "labelled": int(steady.sum()),
        "agree": int((steady & (act == want)).sum()),
        "sitting": int(sitting.sum()),
        "sitting_as_standing": int((sitting & (act == "standing")).sum()),
        "standing": int(standing.sum()),
        "standing_as_sitting": int((standing & (act == "sitting")).sum()),
    }


def score_transitions(
    detected: Sequence[dict[str, Any]], segments: Sequence[dict[str, Any]]
) -> dict[str, int]:
    """Labelled postural transitions found by kind and time (rules in the module doc).

    Parameters
    ----------
    detected : sequence of dict
        pelviscope's transitions (``kind``, ``time_s``, ``duration_s``).
    segments : sequence of dict
        HAPT's labelled segments (``start_s``, ``end_s``, ``label``).

    Returns
    -------
    dict
        ``ref`` (labelled transitions), ``found`` and ``extra``.
    """
    refs = [s for s in segments if s["label"] in HAPT_TRANSITION]
    det_mid_s = np.array([d["time_s"] + d["duration_s"] / 2 for d in detected])
    found = 0
    used: set[int] = set()
    for kind in set(HAPT_TRANSITION.values()):
        di = [i for i, d in enumerate(detected) if d["kind"] == kind]
        rs = [r for r in refs if HAPT_TRANSITION[r["label"]] == kind]
        ref_mid_s = np.array([(r["start_s"] + r["end_s"]) / 2 for r in rs])
        pairs = _closest_pairs(det_mid_s[di], ref_mid_s, TRANSITION_TOL_S)
        found += len(pairs)
        used |= {di[i] for i, _ in pairs}
    extra = sum(
        1
        for i in range(len(detected))
        if i not in used and label_at(float(det_mid_s[i]), segments) != ""
    )
    return {"ref": len(refs), "found": found, "extra": extra}


def _closest_pairs(
    a: NDArray[np.float64], b: NDArray[np.float64], tol: float
) -> list[tuple[int, int]]:
    """One-to-one pairs ``(i, j)`` with ``|a[i] - b[j]| <= tol``, closest pairs first."""
    cands = sorted(
        (abs(float(a[i] - b[j])), i, j)
        for i in range(a.size)
        for j in range(b.size)
        if abs(a[i] - b[j]) <= tol
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    out = []
    for _, i, j in cands:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            out.append((i, j))
    return out
