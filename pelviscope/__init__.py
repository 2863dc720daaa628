"""pelviscope: pelvic posture from one pelvis-worn IMU (command line entry point)."""

__version__ = "0.1.0"
