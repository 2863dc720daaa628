"""The sensor side of pelviscope.

BLE client (bleak), GATT profiles and frame codecs, the pelvis IMU simulator, the
emulated sensor firmware (bumble) and the recorder.
"""
