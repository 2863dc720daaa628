"""Writing under faults: existing names, planted symlinks, full and read-only disks,
directories in the way, two writers on one name (issue 13).

Disk full and read-only use real file systems (a 256 KiB tmpfs, a read-only tmpfs); where
mounting is not allowed, a file-size limit in a child process and a read-only folder stand
in for them - the tests never skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.recorder import record
from firmware_bridge.source import Batch, SourceStatus, State
from recordings import Recording, RecordingWriter, read_csv, read_recording, write_csv
from recordings import write_recording as write_whole
from recordings.files import OutputError
from tests.conftest import mounted_tmpfs
from tests.recordings.conftest import make_recording

ROOT = Path(__file__).resolve().parents[2]
WRITERS = ["psrec", "csv", "streaming"]


def _write(kind: str, path: Path, rec: Recording, *, overwrite: bool = False) -> None:
    if kind == "psrec":
        write_whole(path, rec, overwrite=overwrite)
    elif kind == "csv":
        write_csv(path, rec, overwrite=overwrite)
    else:
        with RecordingWriter(path, rec.meta, rate_hz=rec.rate_hz, background_flush=False,
                             overwrite=overwrite) as w:  # fmt: skip
            for a in range(0, rec.n_samples, 10):
                b = slice(a, a + 10)
                w.append(rec.time_s[b], rec.acc_mps2[b], rec.gyr_rps[b])


def _read(kind: str, path: Path) -> Recording:
    return read_csv(path) if kind == "csv" else read_recording(path)


def _one_line(exc: BaseException, path: Path) -> str:
    message = str(exc)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


@pytest.fixture
def full_disk() -> Iterator[Path | None]:
    """A 256 KiB file system (None where mounting is not allowed)."""
    with mounted_tmpfs("size=256k") as d:
        yield d


@pytest.fixture
def read_only(tmp_path) -> Iterator[Path]:
    """A folder nothing can be created in: a read-only tmpfs, else a mode 0555 folder."""
    with mounted_tmpfs("ro,size=64k") as d:
        if d is not None:
            yield d
            return
    if os.geteuid() == 0:
        pytest.fail("cannot mount a read-only tmpfs as root (chmod does not stop root)")
    d = tmp_path / "ro"
    d.mkdir(mode=0o555)
    try:
        yield d
    finally:
        d.chmod(0o755)


FSIZE_CHILD = r"""
import resource, signal, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from tests.recordings.conftest import make_recording
from tests.recordings.test_outputs import _write
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))
try:
    _write(sys.argv[1], Path(sys.argv[2]), make_recording(30_000))
except Exception as exc:
    print(f"{type(exc).__name__}|{exc}")
"""


@pytest.mark.parametrize("kind", WRITERS)
def test_a_full_disk_is_one_line_and_leaves_nothing_half_written(tmp_path, full_disk, kind):
    rec = make_recording(30_000)  # about 1.2 MB in any format: more than the disk holds
    if full_disk is None:  # no mount allowed: the same fault as a file-size limit
        out = tmp_path / f"big.{kind}"
        proc = subprocess.run([sys.executable, "-c", FSIZE_CHILD, kind, str(out), str(ROOT)],
                              capture_output=True, text=True, check=True, cwd=ROOT)  # fmt: skip
        name, _, message = proc.stdout.strip().partition("|")
        assert name == "OutputError" and message.startswith(f"{out}: cannot write")
        return
    out = full_disk / f"big.{kind}"
    with pytest.raises(OutputError) as err:
        _write(kind, out, rec)
    assert "the disk is full" in _one_line(err.value, out)
    if kind == "streaming":
        # a live recording keeps what reached the disk, and it reads
        got = read_recording(out)
        assert 0 < got.n_samples < rec.n_samples and got.warnings
        out.unlink()
    assert os.listdir(full_disk) == []  # no temporary file left behind
    _write(kind, full_disk / f"small.{kind}", make_recording(200))  # the space is free again
    assert _read(kind, full_disk / f"small.{kind}").n_samples == 200


def test_a_full_disk_met_by_the_flush_thread_reaches_the_producer(full_disk):
    if full_disk is None:
        pytest.fail("needs a mounted tmpfs (root); the other full-disk tests cover the rest")
    out = full_disk / "live.psrec"
    rec = make_recording(30_000)
    w = RecordingWriter(out, {}, rate_hz=100.0, flush_interval_s=0.02)
    with pytest.raises(OutputError) as err:
        for a in range(0, rec.n_samples, 100):
            b = slice(a, a + 100)
            w.append(rec.time_s[b], rec.acc_mps2[b], rec.gyr_rps[b])
            time.sleep(0.002)  # let the background thread do some of the flushing
        w.close()
    assert "the disk is full" in _one_line(err.value, out)
    with pytest.raises(OutputError):
        w.close()  # still one clear error, and the file is closed
    assert read_recording(out).n_samples > 0


@pytest.mark.parametrize("kind", WRITERS)
def test_a_read_only_folder_is_one_line(read_only, kind):
    out = read_only / f"x.{kind}"
    with pytest.raises(OutputError) as err:
        _write(kind, out, make_recording(50))
    message = _one_line(err.value, out)
    assert "read-only" in message or "not writable" in message or "permission" in message
    assert os.listdir(read_only) == []


@pytest.mark.parametrize("kind", WRITERS)
def test_a_directory_as_output_is_one_line(tmp_path, kind):
    out = tmp_path / "folder"
    (out / "inside").mkdir(parents=True)
    for overwrite in (False, True):
        with pytest.raises(OutputError) as err:
            _write(kind, out, make_recording(50), overwrite=overwrite)
        assert "is a directory" in _one_line(err.value, out)
    assert os.listdir(out) == ["inside"]


@pytest.mark.parametrize("kind", WRITERS)
def test_an_existing_file_is_never_replaced_without_overwrite(tmp_path, kind):
    out = tmp_path / f"x.{kind}"
    out.write_bytes(b"the first session")
    with pytest.raises(OutputError) as err:
        _write(kind, out, make_recording(50))
    assert "exists already" in _one_line(err.value, out) and "--overwrite" in str(err.value)
    assert out.read_bytes() == b"the first session"
    assert os.listdir(tmp_path) == [out.name]
    _write(kind, out, make_recording(50), overwrite=True)
    assert _read(kind, out).n_samples == 50


@pytest.mark.parametrize("kind", WRITERS)
def test_planted_symlinks_are_never_followed(tmp_path, kind):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    out = tmp_path / f"x.{kind}"
    # the target itself is a link to someone else's file
    out.symlink_to(victim)
    for overwrite in (False, True):
        with pytest.raises(OutputError) as err:
            _write(kind, out, make_recording(50), overwrite=overwrite)
        _one_line(err.value, out)
    assert victim.read_bytes() == b"precious" and out.is_symlink()
    out.unlink()
    # links at the temporary names writers used to use (``<name>.partial``, ``.tmp``)
    for suffix in (".partial", ".tmp", ".part"):
        Path(f"{out}{suffix}").symlink_to(victim)
    _write(kind, out, make_recording(50))
    assert victim.read_bytes() == b"precious" and not out.is_symlink()
    assert _read(kind, out).n_samples == 50
    assert sorted(os.listdir(tmp_path)) == sorted(
        [victim.name, out.name, *(f"{out.name}{s}" for s in (".partial", ".tmp", ".part"))]
    )


def test_a_second_writer_on_one_name_fails_at_once_and_the_first_is_intact(tmp_path):
    out = tmp_path / "session.psrec"
    rec = make_recording(1000)
    first = RecordingWriter(out, {"subject_id": "first"}, rate_hz=100.0)
    first.append(rec.time_s[:500], rec.acc_mps2[:500], rec.gyr_rps[:500])
    t0 = time.monotonic()
    with pytest.raises(OutputError) as err:
        RecordingWriter(out, {"subject_id": "second"}, rate_hz=100.0)
    assert time.monotonic() - t0 < 0.5
    assert "exists already" in _one_line(err.value, out)
    first.append(rec.time_s[500:], rec.acc_mps2[500:], rec.gyr_rps[500:])
    first.close()
    got = read_recording(out)
    assert got.warnings == [] and got.n_samples == 1000 and got.meta["subject_id"] == "first"


HOLDER = r"""
import sys, time
import numpy as np
sys.path.insert(0, sys.argv[2])
from recordings import RecordingWriter
w = RecordingWriter(sys.argv[1], {"subject_id": "child"}, rate_hz=100.0)
t = np.arange(100) / 100.0
w.append(t, np.tile([0.0, 0.0, 9.81], (100, 1)), np.zeros((100, 3)))
print("ready", flush=True)
sys.stdin.readline()
w.append(t + 1.0, np.tile([0.0, 0.0, 9.81], (100, 1)), np.zeros((100, 3)))
w.close()
"""


def test_a_recorder_in_another_process_keeps_its_file(tmp_path):
    out = tmp_path / "shared.psrec"
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(out), str(ROOT)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ready"
        with pytest.raises(OutputError):
            RecordingWriter(out, {"subject_id": "parent"}, rate_hz=100.0)
        with pytest.raises(OutputError):
            write_whole(out, make_recording(10))
        child.stdin.write("go\n")
        child.stdin.close()
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    got = read_recording(out)
    assert got.warnings == [] and got.n_samples == 200 and got.meta["subject_id"] == "child"


class _Replay:
    """A sample source replaying a recording in packets (the SampleSource interface)."""

    def __init__(self, rec: Recording, packet: int = 10) -> None:
        self._batches = [
            Batch(rec.time_s[a : a + packet], rec.acc_mps2[a : a + packet],
                  rec.gyr_rps[a : a + packet] if rec.gyr_rps is not None else None, rec.rate_hz)
            for a in range(0, rec.n_samples, packet)
        ]  # fmt: skip
        self.started = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        pass

    def poll(self) -> list[Batch]:
        out, self._batches = self._batches[:5], self._batches[5:]
        return out

    @property
    def status(self) -> SourceStatus:
        return SourceStatus(state=State.STREAMING, rate_hz=100.0)


def test_record_refuses_an_existing_file_before_starting_the_source(tmp_path):
    out = tmp_path / "r.psrec"
    out.write_bytes(b"an earlier session")
    source = _Replay(make_recording(100))
    with pytest.raises(OutputError) as err:
        record(source, out, {})
    assert "exists already" in _one_line(err.value, out)
    assert not source.started and out.read_bytes() == b"an earlier session"
    summary = record(_Replay(make_recording(100)), out, {}, overwrite=True, poll_interval_s=0.001,
                     duration_s=0.99)  # fmt: skip
    assert summary.samples == 100 and read_recording(out).n_samples == 100


def test_two_recorders_on_one_name_one_wins_one_fails(tmp_path):
    out = tmp_path / "both.psrec"
    results: dict[int, object] = {}
    go = threading.Barrier(2)

    def run(k: int) -> None:
        go.wait()
        try:
            results[k] = record(_Replay(make_recording(300, seed=k)), out, {"subject_id": str(k)},
                                poll_interval_s=0.001, duration_s=2.99)  # fmt: skip
        except OutputError as exc:
            results[k] = exc

    threads = [threading.Thread(target=run, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    errors = [r for r in results.values() if isinstance(r, OutputError)]
    assert len(results) == 2 and len(errors) == 1
    assert "exists already" in _one_line(errors[0], out)
    (winner,) = [k for k, r in results.items() if not isinstance(r, OutputError)]
    got = read_recording(out)
    assert got.warnings == [] and got.n_samples == 300 and got.meta["subject_id"] == str(winner)
    np.testing.assert_allclose(got.acc_mps2, make_recording(300, seed=winner).acc_mps2, rtol=1e-6)
