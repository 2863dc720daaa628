"""Pure signal processing on numpy arrays: orientation, calibration, tilt, activity, gait,
hip-hiking, and whole-session analysis (``analysis.session``, the only module doing I/O).
"""
