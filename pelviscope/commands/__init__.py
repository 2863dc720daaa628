"""One module per sub-command, each with ``register(parser)`` and ``run(args) -> int``."""

import sys


def not_implemented(name: str) -> int:
    """Tell the user a sub-command is not available yet (exit status 2)."""
    print(f"pelviscope {name}: not implemented yet", file=sys.stderr)
    return 2
