"""Write the golden files anew: ``.venv/bin/python -m tests.golden.regenerate [NAME ...]``.

Run from the project root after a change that alters results, with
``analysis.session.ANALYSIS_VERSION`` bumped (stale review caches must not be served as
valid). Prints what changed per session, for the commit message. Without names, every
session of :data:`tests.golden.golden.SESSIONS` is regenerated.
"""

from __future__ import annotations

import json
import shutil
import sys

from tests.golden.golden import SESSIONS, differences, golden_path, produce, scratch_folder


def main(argv: list[str]) -> int:
    """Regenerate the named sessions (all without names); 2 for an unknown name."""
    names = argv or list(SESSIONS)
    unknown = [n for n in names if n not in SESSIONS]
    if unknown:
        print(f"unknown session(s) {unknown}; known: {list(SESSIONS)}", file=sys.stderr)
        return 2
    folder = scratch_folder()
    try:
        for name in names:
            doc = produce(name, folder)
            path = golden_path(name)
            old = json.loads(path.read_text()) if path.exists() else None
            diffs = [] if old is None else list(differences(old, doc))
            path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
            what = "new" if old is None else f"{len(diffs)} difference(s)" if diffs else "unchanged"
            print(f"{path.relative_to(path.parents[2])}: {what}")
            for line in diffs[:40]:
                print(f"  {line}")
            if len(diffs) > 40:
                print(f"  ... and {len(diffs) - 40} more")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
