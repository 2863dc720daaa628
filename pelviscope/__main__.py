"""``python -m pelviscope``."""

import sys

from pelviscope.cli import main

if __name__ == "__main__":  # not when a worker process imports the main module
    sys.exit(main())
