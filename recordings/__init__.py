"""The recording format (spec in ``recordings/README.md``), CSV interchange, demo sessions."""

from recordings.data import Gap, Marker, Recording
from recordings.errors import InputError

__all__ = ["Gap", "InputError", "Marker", "Recording"]
