"""The recording format (spec in ``recordings/README.md``), CSV interchange, demo sessions.

Load anything with :func:`load`; write with :func:`write_recording` / :func:`write_csv`
or stream with :class:`RecordingWriter`.
"""

from recordings.csv_io import read_csv, write_csv
from recordings.data import Gap, Marker, Recording
from recordings.errors import InputError
from recordings.format import (
    EXTENSION,
    RecordingWriter,
    is_recording,
    read_batch_index,
    read_recording,
    write_recording,
)
from recordings.io import load

__all__ = [
    "EXTENSION",
    "Gap",
    "InputError",
    "Marker",
    "Recording",
    "RecordingWriter",
    "is_recording",
    "load",
    "read_batch_index",
    "read_csv",
    "read_recording",
    "write_csv",
    "write_recording",
]
