from __future__ import annotations

import pytest

from recordings import InputError, load, write_csv, write_recording
from tests.recordings.conftest import make_recording


def test_dispatch_by_content_not_extension(tmp_path):
    rec = make_recording(50)
    write_recording(tmp_path / "native.csv", rec)  # misnamed: the magic wins
    write_csv(tmp_path / "data.dat", rec)  # unknown extension: sniffed as text
    write_csv(tmp_path / "data.txt", rec)
    assert load(tmp_path / "native.csv").meta["format"] == "pelviscope.recording"
    assert load(tmp_path / "data.dat").n_samples == 50
    assert load(tmp_path / "data.txt").meta["source_file"] == "data.txt"


def test_units_are_passed_to_csv(tmp_path):
    rec = make_recording(50)
    rec.acc_mps2 = rec.acc_mps2 / 9.80665
    write_csv(tmp_path / "g.csv", rec)
    with pytest.raises(InputError, match="--acc-unit g"):
        load(tmp_path / "g.csv")
    assert load(tmp_path / "g.csv", acc_unit="g").acc_mps2[:, 2].mean() == pytest.approx(9.81, 0.01)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.psrec", None, "file not found"),
        ("empty.bin", b"", "file is empty"),
        ("blob.bin", bytes(range(256)) * 4, "not a pelviscope recording (.psrec) or a CSV file"),
        ("latin1.csv", "time_s,acc_\xe9\n".encode("latin-1"), "not a UTF-8 text"),
    ],
)
def test_unusable_inputs(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        load(path)
    assert str(err.value).startswith(str(path))


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        load(tmp_path)
