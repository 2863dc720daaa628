"""The native recording format (``.psrec``): writer, reader and sniffing.

The byte layout is specified in ``recordings/README.md``; this package is its reference
implementation. In short: a 12-byte preamble (8-byte magic, ``u16`` major and minor
version), then chunks ``[tag 4s][length u32][crc32 u32][payload]``, all little-endian.
The CRC covers the tag, the length and the payload. Chunks: ``HEAD`` (JSON metadata,
always first), ``DATA`` (a batch table and packed sample records), ``GAP `` and ``MARK``
(JSON), ``META`` (a JSON patch merged over the metadata), ``END `` (written by
:meth:`RecordingWriter.close`).

Modules: :mod:`~recordings.format.layout` (constants, framing, record fields),
:mod:`~recordings.format.writer`, :mod:`~recordings.format.reader`.
"""

from recordings.format.layout import (
    DESCRIPTIVE_KEYS,
    EXTENSION,
    MAGIC,
    MAX_CHUNK_S,
    MAX_CHUNK_SAMPLES,
    STRUCTURAL_KEYS,
    VERSION_MAJOR,
    VERSION_MINOR,
    chunk_samples,
    dtype_of,
    record_fields,
)
from recordings.format.reader import Allocator, read_batch_index, read_recording
from recordings.format.writer import RecordingWriter, is_recording, write_recording

__all__ = [
    "DESCRIPTIVE_KEYS",
    "EXTENSION",
    "MAGIC",
    "MAX_CHUNK_S",
    "MAX_CHUNK_SAMPLES",
    "STRUCTURAL_KEYS",
    "VERSION_MAJOR",
    "VERSION_MINOR",
    "Allocator",
    "RecordingWriter",
    "chunk_samples",
    "dtype_of",
    "is_recording",
    "read_batch_index",
    "read_recording",
    "record_fields",
    "write_recording",
]
