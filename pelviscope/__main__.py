"""``python -m pelviscope``."""

import sys

from pelviscope.cli import main

sys.exit(main())
