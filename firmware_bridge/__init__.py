"""The sensor side: BLE client (bleak), GATT profiles and frame codecs, the pelvis IMU
simulator and emulated sensor firmware (bumble), and the recorder.
"""
