"""``pelviscope simulate``."""

from __future__ import annotations

import argparse

from pelviscope.commands import not_implemented


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    return not_implemented("simulate")
