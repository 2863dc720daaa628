"""Pure signal processing on numpy arrays.

Orientation, calibration, tilt, activity, gait, hip-hiking, and whole-session analysis
(``analysis.session``, the only module that reads files).
"""
