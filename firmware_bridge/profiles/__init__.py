"""Device profiles: how to find, configure and decode each kind of BLE IMU."""
