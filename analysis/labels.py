"""The label vocabularies of pelviscope: :class:`Activity`, :class:`Side`, :class:`EpisodeKind`.

Inside the analysis, per-sample labels are ``int8`` arrays of these codes (one byte a
sample, where strings took 40); they become words only at the edges - the JSON, the
CSV, the screen - through :meth:`Activity.label` / :func:`activity_names` and their
counterparts. The codes are stored in review caches: never renumber them.
"""

from __future__ import annotations

import enum

import numpy as np
from numpy.typing import ArrayLike, NDArray

Codes = NDArray[np.int8]


class Activity(enum.IntEnum):
    """What the wearer is doing, per sample (DESIGN section 3's ``activity`` column)."""

    STANDING = 0
    WALKING = 1
    SITTING = 2
    LYING = 3
    TRANSITION = 4
    UNKNOWN = 5

    @property
    def label(self) -> str:
        """The word used in files and on screen (``"walking"``)."""
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> Activity:
        """The activity of a word (``"walking"``); ValueError for any other word."""
        try:
            return cls[label.upper()]
        except KeyError:
            raise ValueError(f"not an activity: {label!r}") from None


class Side(enum.IntEnum):
    """A side of the body: the raised side of a hip-hike, the foot of a step."""

    NONE = 0
    LEFT = 1
    RIGHT = 2
    UNKNOWN = 3

    @property
    def label(self) -> str:
        """``"left"``, ``"right"``, ``"unknown"``, and ``""`` for no side (no flag)."""
        return "" if self is Side.NONE else self.name.lower()

    @classmethod
    def parse(cls, label: str) -> Side:
        """The side of a word (``""`` is :attr:`NONE`); ValueError for any other word."""
        for side in cls:
            if side.label == label:
                return side
        raise ValueError(f"not a side: {label!r}")


class EpisodeKind(enum.StrEnum):
    """How a hip-hike shows: held in a posture, or during gait swings."""

    STATIC = "static"
    GAIT = "gait"


#: Words of the activity codes, in code order.
ACTIVITY_LABELS: tuple[str, ...] = tuple(a.label for a in Activity)
#: Words of the side codes, in code order.
SIDE_LABELS: tuple[str, ...] = tuple(s.label for s in Side)


def _encode(labels: ArrayLike, words: tuple[str, ...], fallback: int) -> Codes:
    arr = np.asarray(labels)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int8, copy=False)
    if arr.size == 0:
        return np.empty(arr.shape, np.int8)
    uniq, inverse = np.unique(arr.astype(str), return_inverse=True)
    table = np.array([words.index(u) if u in words else fallback for u in uniq], np.int8)
    return table[inverse.reshape(arr.shape)]


def activity_codes(labels: ArrayLike) -> Codes:
    """Codes of activity words (codes pass through; an unknown word is UNKNOWN)."""
    return _encode(labels, ACTIVITY_LABELS, Activity.UNKNOWN)


def activity_names(codes: ArrayLike) -> NDArray[np.str_]:
    """Words of activity codes (the edge: CSV, tables for people)."""
    return np.array(ACTIVITY_LABELS, dtype="<U10")[np.asarray(codes, np.intp)]


def side_codes(labels: ArrayLike) -> Codes:
    """Codes of side words (``""`` no side; an unknown word is UNKNOWN)."""
    return _encode(labels, SIDE_LABELS, Side.UNKNOWN)


def side_names(codes: ArrayLike) -> NDArray[np.str_]:
    """Words of side codes (``""`` where there is no side)."""
    return np.array(SIDE_LABELS, dtype="<U7")[np.asarray(codes, np.intp)]
