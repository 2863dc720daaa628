"""Reading recordings: one scan over the chunks, damage found and skipped, samples decoded."""

from __future__ import annotations

import contextlib
import heapq
import json
import math
import mmap
import os
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from recordings.data import Gap, Marker, Recording
from recordings.errors import InputError
from recordings.format.layout import (
    BATCH_DTYPE,
    CHUNK,
    DATA_HEAD,
    INDEX_DTYPE,
    KNOWN_TAGS,
    MAGIC,
    MAX_PAYLOAD,
    PREAMBLE,
    SEQ_UNKNOWN,
    STRUCTURAL_KEYS,
    TAG_DATA,
    TAG_END,
    TAG_GAP,
    TAG_HEAD,
    TAG_MARK,
    TAG_META,
    VERSION_MAJOR,
    check_layout,
    finite_number,
    gap_of,
    strict_json,
)
from recordings.plausibility import drop_implausible

_Buffer = bytes | mmap.mmap


class _Scan:
    """What one pass over the chunks found (payload positions, events, damage)."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.data: list[tuple[int, int, int, int]] = []  # (payload start, n, n_batches, end)
        self.gaps: list[Gap] = []
        self.markers: list[Marker] = []
        self.damage: list[tuple[int, int | None, str, int]] = []  # (pos, next, what, n_data)
        self.end: dict[str, Any] | None = None
        self.end_pos = 0
        self.trailing = 0
        self.notes: list[str] = []


def _valid_at(buf: _Buffer, pos: int) -> int:
    """Length of the valid chunk at ``pos`` or -1."""
    n = len(buf)
    if pos + CHUNK.size > n:
        return -1
    tag, length, crc = CHUNK.unpack_from(buf, pos)
    end = pos + CHUNK.size + length
    if length > MAX_PAYLOAD or end > n or not all(0x20 <= c < 0x7F for c in tag):
        return -1
    mv = memoryview(buf)
    if zlib.crc32(mv[pos + CHUNK.size : end], zlib.crc32(mv[pos : pos + 8])) != crc:
        return -1
    return length


def _resync(buf: _Buffer, start: int) -> int | None:
    """Byte offset of the next valid chunk with a known tag at or after ``start``."""
    heap = [(p, t) for t in KNOWN_TAGS if (p := buf.find(t, start)) >= 0]
    heapq.heapify(heap)
    while heap:
        p, t = heap[0]
        if _valid_at(buf, p) >= 0:
            return p
        q = buf.find(t, p + 1)
        if q >= 0:
            heapq.heapreplace(heap, (q, t))
        else:
            heapq.heappop(heap)
    return None


def _describe_damage(buf: _Buffer, pos: int) -> str:
    n = len(buf)
    if n - pos < CHUNK.size:
        return f"the file ends inside a chunk header ({n - pos} of {CHUNK.size} bytes)"
    tag, length, _ = CHUNK.unpack_from(buf, pos)
    name = tag.decode("ascii", "replace").strip()
    if tag not in KNOWN_TAGS:
        return "unrecognisable chunk header"
    if pos + CHUNK.size + length > n:
        return (
            f"the file ends inside a {name} chunk ({n - pos} of {CHUNK.size + length} bytes "
            "present): interrupted or truncated"
        )
    return f"{name} chunk fails its CRC check (corrupted)"


def _scan(buf: _Buffer, path: str) -> _Scan:
    n = len(buf)
    if n < PREAMBLE.size:
        if buf and MAGIC.startswith(buf[: len(MAGIC)]):
            raise InputError(path, f"byte {n}", "recording is truncated inside its preamble")
        raise InputError(path, "byte 0", "not a pelviscope recording (bad magic)")
    magic, major, minor = PREAMBLE.unpack_from(buf, 0)
    if magic != MAGIC:
        raise InputError(path, "byte 0", "not a pelviscope recording (bad magic)")
    if major != VERSION_MAJOR:
        raise InputError(
            path, "byte 8",
            f"recording format version {major}.{minor} is not supported by this pelviscope "
            f"(reads {VERSION_MAJOR}.x); upgrade pelviscope",
        )  # fmt: skip
    pos = PREAMBLE.size
    hlen = _valid_at(buf, pos)
    if hlen < 0 or buf[pos : pos + 4] != TAG_HEAD:
        what = "missing" if n == pos else _describe_damage(buf, pos)
        raise InputError(
            path, f"byte {pos}", f"header chunk is unusable ({what}); the data cannot be decoded"
        )
    s = _Scan()
    try:
        # NaN in a descriptive field (another tool's file) is not worth losing the file
        meta = json.loads(
            buf[pos + CHUNK.size : pos + CHUNK.size + hlen], parse_constant=lambda _: None
        )
        if not isinstance(meta, dict):
            raise ValueError("it is not a JSON object")
        dtype = check_layout(meta.get("record_fields"))
        rate_hz = meta.get("rate_hz")
        if isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, float)):
            raise ValueError("rate_hz is missing or not a number")
        try:
            finite = math.isfinite(rate_hz)
        except OverflowError:  # an integer beyond any float
            finite = False
        if not (finite and rate_hz > 0):
            raise ValueError("rate_hz is not a positive finite number")
        s.meta = meta
    except (ValueError, RecursionError, OverflowError) as exc:
        raise InputError(path, f"byte {pos}", f"header chunk is unusable: {exc}") from None
    s.meta["__dtype__"] = dtype
    rsize = dtype.itemsize
    pos += CHUNK.size + hlen
    mv = memoryview(buf)
    # the hot loop (one pass per chunk): names bound locally
    unpack, hsize, crc32 = CHUNK.unpack_from, CHUNK.size, zlib.crc32
    data_head, dsize, bsize = DATA_HEAD.unpack_from, DATA_HEAD.size, BATCH_DTYPE.itemsize
    add_data, tag_data = s.data.append, TAG_DATA
    while pos < n:
        if s.end is not None:
            s.trailing = n - pos
            break
        ok = False
        if n - pos >= hsize:
            tag, length, crc = unpack(buf, pos)
            p0 = pos + hsize
            end = p0 + length
            ok = end <= n and crc32(mv[p0:end], crc32(mv[pos : pos + 8])) == crc
            if ok and tag == tag_data:
                if length >= dsize:
                    ns, nb = data_head(buf, p0)
                    start = p0 + dsize + nb * bsize
                    if start + ns * rsize == end:
                        add_data((start, ns, nb, p0))
                        pos = end
                        continue
                ok = False
        if ok:
            try:
                obj: Any = None
                if tag in (TAG_GAP, TAG_MARK, TAG_META, TAG_END):
                    obj = strict_json(mv[p0:end].tobytes())
                    if not isinstance(obj, dict):
                        raise ValueError("it is not a JSON object")
                if tag == TAG_GAP:
                    s.gaps.append(gap_of(obj))
                elif tag == TAG_MARK:
                    s.markers.append(Marker(finite_number(obj["time_s"], "time_s"),
                                            str(obj["label"]), str(obj["note"])))  # fmt: skip
                elif tag == TAG_META:
                    s.meta.update({k: v for k, v in obj.items() if k not in STRUCTURAL_KEYS})
                elif tag == TAG_END:
                    s.end, s.end_pos = obj, pos
                elif tag == TAG_HEAD:
                    s.notes.append(f"byte {pos}: a second header chunk was ignored")
                # any other tag: a chunk of a newer minor version, skipped by design
            except (ValueError, KeyError, TypeError, RecursionError, OverflowError) as exc:
                what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
                s.notes.append(f"byte {pos}: {tag.decode('ascii', 'replace').strip()} chunk "
                               f"ignored (invalid content: {what})")  # fmt: skip
            pos = end
            continue
        what = _describe_damage(buf, pos)
        nxt = _resync(buf, pos + 1)
        s.damage.append((pos, nxt, what, len(s.data)))
        if nxt is None:
            break
        pos = nxt
    return s


def _load(path: str | os.PathLike[str]) -> tuple[_Buffer, str]:
    """The file's bytes: memory-mapped when large (saves a copy), else read."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < (1 << 20):
                return f.read(), name
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), name
    except IsADirectoryError:
        raise InputError(name, "", "is a directory, not a recording") from None
    except FileNotFoundError:
        raise InputError(name, "", "file not found") from None
    except OSError as exc:
        raise InputError(name, "", f"cannot read ({exc.strerror or exc})") from None


def _release(buf: _Buffer) -> None:
    if isinstance(buf, mmap.mmap):
        # a view may still be referenced (e.g. by a traceback): then the GC closes it
        with contextlib.suppress(BufferError):
            buf.close()


#: Allocates a float64 array for a recording field: ``empty(field_name, shape)``.
Allocator = Callable[[str, tuple[int, ...]], NDArray[np.float64]]


def read_recording(path: str | os.PathLike[str], *, empty: Allocator | None = None) -> Recording:
    """Read a native recording, keeping everything up to any damage.

    Parameters
    ----------
    path : str or Path
        A ``.psrec`` file.
    empty : callable, optional
        Allocates the per-sample arrays (default ``numpy.empty``), e.g. in memory that
        other processes share.

    Returns
    -------
    Recording
        Samples as float64 arrays. Damage (truncation, corruption, a missing end chunk)
        is described in ``Recording.warnings``; spans lost to damage become gaps with
        reason ``"file_damage"``. Samples with a time that is not finite or does not
        increase are dropped, and samples beyond the sensor's range become gaps with
        reason ``"out_of_range"`` (:func:`recordings.plausibility.drop_implausible`),
        each with a warning.

    Raises
    ------
    InputError
        Not a recording, an unsupported version, or an unusable header chunk.
    """
    buf, name = _load(path)
    try:
        rec = _decode(buf, name, empty or (lambda _name, shape: np.empty(shape)))
    finally:
        _release(buf)
    return drop_implausible(rec, name)


#: Bytes of records converted per step when decoding (cache-sized, few numpy calls).
_DECODE_BYTES = 1 << 20


def _fill(
    buf: _Buffer, data: list[tuple[int, int, int, int]], dtype: np.dtype[Any],
    fields: dict[str, NDArray[np.float64]],
) -> None:  # fmt: skip
    """Convert the DATA chunks' records into ``fields``, a cache-sized group at a time."""
    mv = memoryview(buf)
    rsize = dtype.itemsize
    done = 0
    k = 0
    while k < len(data):
        # Small chunks (about 1 s each) are joined into one block so that numpy is called
        # per MiB, not per chunk; a big chunk is converted straight from the file's bytes.
        group = [data[k]]
        size = data[k][1] * rsize
        k += 1
        while k < len(data) and size < _DECODE_BYTES:
            group.append(data[k])
            size += data[k][1] * rsize
            k += 1
        if len(group) == 1:
            a, ns = group[0][0], group[0][1]
            block = np.frombuffer(buf, dtype=dtype, count=ns, offset=a)
        else:
            joined = b"".join([mv[a : a + ns * rsize] for a, ns, _, _ in group])
            block = np.frombuffer(joined, dtype=dtype)
        n = block.shape[0]
        for f, out in fields.items():
            out[done : done + n] = block[f]
        done += n
        del block


def _kept_times(time_s: NDArray[np.float64]) -> NDArray[np.bool_] | None:
    """Which samples to keep so that time is finite and strictly increasing (None: all)."""
    n = time_s.shape[0]
    if n == 0 or (
        math.isfinite(time_s[0]) and math.isfinite(time_s[-1]) and (np.diff(time_s) > 0).all()
    ):
        return None
    finite = np.isfinite(time_s)
    t = np.where(finite, time_s, -np.inf)
    # the running maximum of all earlier finite times is the last kept time
    keep = finite.copy()
    keep[1:] &= t[1:] > np.maximum.accumulate(t)[:-1]
    return keep


def _decode(buf: _Buffer, name: str, empty: Allocator) -> Recording:
    s = _scan(buf, name)
    dtype: np.dtype[Any] = s.meta.pop("__dtype__")
    counts = np.cumsum([0] + [d[1] for d in s.data])
    n_read = int(counts[-1])
    # Every field as float64 (into memory ``empty`` chose, e.g. shared with workers).
    fields: dict[str, NDArray[np.float64]] = {
        f: empty(f, (n_read, *dtype[f].shape)) for f in dtype.names or ()
    }
    _fill(buf, s.data, dtype, fields)
    raw_time_s = fields["time_s"]
    warnings = [f"{name}: {note}" for note in s.notes]
    gaps = list(s.gaps)
    keep = _kept_times(raw_time_s)
    if keep is None:
        kept_index = None
        time_s = raw_time_s
    else:
        kept_index = np.flatnonzero(keep)
        time_s = raw_time_s[kept_index]
        n_nonfinite = int((~np.isfinite(raw_time_s)).sum())
        n_order = n_read - kept_index.shape[0] - n_nonfinite
        if n_nonfinite:
            warnings.append(f"{name}: {n_nonfinite} sample(s) with an invalid time (not a "
                            "finite number) were dropped")  # fmt: skip
        if n_order:
            first = int(np.flatnonzero(~keep & np.isfinite(raw_time_s))[0])
            warnings.append(
                f"{name}: {n_order} sample(s) whose time does not increase (duplicated or "
                f"out-of-order data) were dropped, the first at {raw_time_s[first]:.3f} s"
            )

    def kept_position(raw: int) -> int:
        """Position in the kept samples of the first kept sample at raw index >= ``raw``."""
        return raw if kept_index is None else int(np.searchsorted(kept_index, raw))

    rate_hz = float(s.meta["rate_hz"])
    n = time_s.shape[0]
    damage_at: set[int] = set()
    for pos, nxt, what, k in s.damage:
        j = kept_position(int(counts[k]))
        before = float(time_s[j - 1]) if j > 0 else None
        after = float(time_s[j]) if j < n else None
        kept = "no data before it" if before is None else f"data kept up to {before:.3f} s"
        if nxt is None:
            warnings.append(
                f"{name}: byte {pos}: {what}; the last {len(buf) - pos} bytes were dropped, "
                f"{kept} ({n} samples)"
            )
        else:
            lost = "" if after is None else f"; data resumes at {after:.3f} s"
            warnings.append(
                f"{name}: byte {pos}: {what}; skipped {nxt - pos} bytes to the next valid chunk "
                f"at byte {nxt}, {kept}{lost}"
            )
            if before is not None and after is not None and j not in damage_at:
                damage_at.add(j)
                lost_n = max(round((after - before) * rate_hz) - 1, 0)
                gaps.append(Gap(before, after, lost_n, "file_damage"))
    if keep is not None and kept_index is not None and n > 1:
        # Dropped samples leave holes: where their time belonged (a chunk stored after
        # later data) or where they were (a sample without a valid time). A duplicate
        # falls on a kept time and leaves none.
        late = ~keep & np.isfinite(raw_time_s)
        holes = np.searchsorted(time_s, raw_time_s[late]).tolist()
        holes += (np.flatnonzero(np.diff(kept_index) > 1) + 1).tolist()
        known = {(g.start_s, g.end_s) for g in gaps}
        for j in sorted(set(holes) - damage_at):
            if 0 < j < n:
                before, after = float(time_s[j - 1]), float(time_s[j])
                lost_n = round((after - before) * rate_hz) - 1
                if lost_n >= 1 and (before, after) not in known:
                    gaps.append(Gap(before, after, lost_n, "file_damage"))
    if s.end is None and not any(d[1] is None for d in s.damage):
        dur = float(time_s[-1] - time_s[0]) if n else 0.0
        warnings.append(
            f"{name}: byte {len(buf)}: no end chunk - the recording was not closed cleanly "
            f"(interrupted?); kept {n} samples, {dur:.3f} s"
        )
    if s.trailing:
        warnings.append(
            f"{name}: byte {len(buf) - s.trailing}: {s.trailing} bytes of unexpected data after "
            "the end chunk were ignored"
        )
    if s.end is not None and s.end.get("n_samples") not in (None, n_read):
        warnings.append(
            f"{name}: end chunk lists {s.end['n_samples']!r} samples but {n_read} were read"
        )

    def column(field: str) -> NDArray[np.float64]:
        return fields[field] if kept_index is None else fields[field][kept_index]

    def channel(field: str) -> NDArray[np.float64] | None:
        if field not in fields:
            return None
        col = column(field)
        if col.size and np.isnan(col.flat[0]) and np.isnan(col).all():
            return None  # a channel the sensor does not have
        return col

    return Recording(
        time_s=time_s,
        acc_mps2=column("acc_mps2"),  # required by the header check, never dropped as absent
        gyr_rps=channel("gyr_rps"),
        rate_hz=rate_hz,
        mag=channel("mag"),
        device_time_s=channel("device_time_s"),
        gaps=sorted(gaps, key=lambda g: g.start_s),
        markers=sorted(s.markers, key=lambda m: m.time_s),
        meta=s.meta,
        warnings=warnings,
    )


def read_batch_index(path: str | os.PathLike[str]) -> NDArray[Any]:
    """Per-batch timing of a recording: where each appended batch starts.

    Returns
    -------
    ndarray
        Structured array with fields ``sample_index`` (int64, index into the samples of
        :func:`read_recording`), ``seq`` (int64, first packet sequence number or -1) and
        ``host_time_s`` (float64, host Unix time the batch arrived, NaN if unknown).
    """
    buf, name = _load(path)
    try:
        s = _scan(buf, name)
        parts: list[NDArray[Any]] = [np.empty(0, INDEX_DTYPE)]
        base = 0
        for _start, ns, nb, p0 in s.data:
            table = np.frombuffer(buf, BATCH_DTYPE, count=nb, offset=p0 + DATA_HEAD.size)
            part = np.empty(nb, INDEX_DTYPE)
            part["sample_index"] = table["sample_offset"].astype(np.int64) + base
            part["seq"] = np.where(table["seq"] == SEQ_UNKNOWN, -1, table["seq"])
            part["host_time_s"] = table["host_time_s"]
            parts.append(part)
            base += ns
            del table  # release the view of the mapped file
        return np.concatenate(parts)
    finally:
        _release(buf)
