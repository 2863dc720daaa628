"""Physical units and constants shared by every layer (one definition each)."""

from __future__ import annotations

import math

#: Standard gravity, m/s^2 per g (ISO 80000-3): what "g" means in a sensor's range or unit.
G_MPS2 = 9.80665
#: Radians per degree (gyroscopes report deg/s, pelviscope computes in rad/s).
DEG_TO_RAD = math.pi / 180.0
