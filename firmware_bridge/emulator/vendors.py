"""Emulated vendor firmware, built from each vendor's documented packet layout.

Each class reuses the profile module's own encoders (the byte layouts documented and
tested there) and behaves like the vendor's firmware where the client can see it: what
starts and stops the stream, which characteristic replies, how packets are split.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from bumble import gatt
from bumble.core import AdvertisingData
from bumble.device import Connection

from firmware_bridge.emulator.personality import Packet, VendorSensor
from firmware_bridge.emulator.sensor import EmulatedSensor, FloatArray
from firmware_bridge.profiles import movella_dot as dot
from firmware_bridge.profiles import movesense as ms
from firmware_bridge.profiles import polar
from firmware_bridge.profiles import thingy52 as thingy
from firmware_bridge.profiles import witmotion as wit
from firmware_bridge.profiles.common import DEG2RAD, G_MPS2

P = gatt.Characteristic.Properties
NAME = AdvertisingData.COMPLETE_LOCAL_NAME
UUIDS_16 = AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS
UUIDS_128 = AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS
RW = gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE


class WitMotionSensor(VendorSensor):
    """BWT901BLE: streams ``55 61`` packets once notifications are on."""

    kind, default_name, manufacturer, model = "witmotion", "WT901BLE", "WitMotion", "BWT901BLE"
    has_battery = False
    default_stream_rate_hz = 10.0  # the module's factory default

    def vendor_services(self) -> list[gatt.Service]:
        """Service ffe5: notify ffe4, write ffe9."""
        self._notify_char = gatt.Characteristic(wit.NOTIFY_CHAR_UUID, P.NOTIFY,
                                           gatt.Characteristic.READABLE, b"")
        write: gatt.Characteristic[bytes] = gatt.Characteristic(
            wit.WRITE_CHAR_UUID, P.WRITE | P.WRITE_WITHOUT_RESPONSE,
            gatt.Characteristic.WRITEABLE, gatt.CharacteristicValue(write=self._on_write))
        self._unlocked = False
        return [gatt.Service(wit.SERVICE_UUID, [self._notify_char, write])]

    def adv_fields(self) -> list[tuple[int, bytes]]:
        """Name and the ffe5 service."""
        return [(NAME, self.name.encode()[:10]), (UUIDS_128, self.uuid_bytes(wit.SERVICE_UUID))]

    def _on_write(self, _conn: Connection, value: bytes) -> None:
        v = bytes(value)
        if v == wit.CMD_UNLOCK:
            self._unlocked = True
        elif len(v) == 5 and v[:3] == b"\xff\xaa\x03" and self._unlocked:
            rates = {code: hz for hz, code in wit.RATE_CODES.items()}
            self.stream_rate_hz = rates.get(v[3], self.stream_rate_hz)

    def on_subscription(self, connection: Connection, char: Any, enabled: bool) -> None:
        """Notifications on ffe4 start (or stop) the stream."""
        self.stream_while_subscribed(connection, char, self._notify_char, enabled)

    def encode(self, acc_mps2: FloatArray, gyr_rps: FloatArray,
               device_time_us: FloatArray) -> list[Packet]:
        """One 20-byte packet per sample."""
        return [(self._notify_char, wit.encode_packet(acc_mps2, gyr_rps), False)]


class Thingy52Sensor(VendorSensor):
    """Thingy:52 motion service: raw data notifications at the configured frequency."""

    kind, default_name, manufacturer, model = "thingy52", "Thingy", "Nordic Semiconductor", \
        "Thingy:52"
    default_stream_rate_hz = 10.0

    def vendor_services(self) -> list[gatt.Service]:
        """Motion service 0400: config 0401, raw data 0406."""
        self._config = thingy.encode_config(10)
        config: gatt.Characteristic[bytes] = gatt.Characteristic(
            thingy.MOTION_CONFIG_CHAR_UUID, P.READ | P.WRITE, RW,
            gatt.CharacteristicValue(read=lambda _c: self._config, write=self._on_config))
        self._raw = gatt.Characteristic(thingy.RAW_DATA_CHAR_UUID, P.NOTIFY,
                                        gatt.Characteristic.READABLE, b"")
        return [gatt.Service(thingy.MOTION_SERVICE_UUID, [config, self._raw])]

    def adv_fields(self) -> list[tuple[int, bytes]]:
        """Name and the Thingy configuration service (what the stock firmware advertises)."""
        return [(NAME, self.name.encode()[:8]),
                (UUIDS_128, self.uuid_bytes(thingy.CONFIG_SERVICE_UUID))]

    def _on_config(self, _conn: Connection, value: bytes) -> None:
        try:
            _p, _t, _c, hz, _w = thingy.decode_config(bytes(value))
        except ValueError:
            return
        if thingy.MOTION_HZ_MIN <= hz <= thingy.MOTION_HZ_MAX:
            self._config = bytes(value)
            self.stream_rate_hz = float(hz)

    def on_subscription(self, connection: Connection, char: Any, enabled: bool) -> None:
        """Raw-data notifications start the stream."""
        self.stream_while_subscribed(connection, char, self._raw, enabled)

    def encode(self, acc_mps2: FloatArray, gyr_rps: FloatArray,
               device_time_us: FloatArray) -> list[Packet]:
        """One 18-byte raw value per sample."""
        return [(self._raw, thingy.encode_raw(acc_mps2, gyr_rps), False)]


class MovesenseSensor(VendorSensor):
    """Movesense running gatt_sensordata_app: subscribe/unsubscribe by command."""

    kind, default_name, manufacturer, model = "movesense", "Movesense 2203300123", \
        "Movesense", "Movesense MD"

    def vendor_services(self) -> list[gatt.Service]:
        """Service 34802252: write 34800001, notify 34800002."""
        self._tx = gatt.Characteristic(ms.NOTIFY_CHAR_UUID, P.NOTIFY,
                                       gatt.Characteristic.READABLE, b"")
        rx: gatt.Characteristic[bytes] = gatt.Characteristic(
            ms.WRITE_CHAR_UUID, P.WRITE | P.WRITE_WITHOUT_RESPONSE,
            gatt.Characteristic.WRITEABLE, gatt.CharacteristicValue(write=self._on_write))
        self._ref = ms.DATA_REF
        return [gatt.Service(ms.SERVICE_UUID, [rx, self._tx])]

    def adv_fields(self) -> list[tuple[int, bytes]]:
        """Name and Movesense's 16-bit service FDF3."""
        return [(NAME, self.name.encode()[:22]),
                (UUIDS_16, self.uuid_bytes(ms.MOVESENSE_SIG_UUID))]

    def _on_write(self, connection: Connection, value: bytes) -> None:
        v = bytes(value)
        if len(v) >= 2 and v[0] == ms.OP_SUBSCRIBE:
            path = v[2:].decode("ascii", "replace")
            status = 404
            if path.startswith("/Meas/IMU6/"):
                rate = float(path.rsplit("/", 1)[1] or 0)
                if rate in ms.RATES_HZ:
                    status, self._ref, self.stream_rate_hz = 200, v[1], rate
            self.reply(connection, self._tx, bytes([ms.PKT_RESPONSE, v[1]])
                       + status.to_bytes(2, "little"))
            if status == 200:
                self.start_streaming(connection)
        elif len(v) >= 2 and v[0] == ms.OP_UNSUBSCRIBE:
            self._stop_stream()
            self.reply(connection, self._tx, bytes([ms.PKT_RESPONSE, v[1], 200, 0]))

    def samples_per_notification(self, att_mtu: int) -> int:
        """8 samples at 104 Hz (scaled with the rate)."""
        return max(1, round(self.stream_rate_hz * 8 / 104))

    def encode(self, acc_mps2: FloatArray, gyr_rps: FloatArray,
               device_time_us: FloatArray) -> list[Packet]:
        """One data packet, split into DATA + DATA_PART2 when it exceeds the MTU."""
        assert self._conn is not None
        body = ms.encode_data(self._ref, int(device_time_us[0] // 1000), acc_mps2, gyr_rps)
        room = self._conn.att_mtu - 3
        if len(body) <= room:
            return [(self._tx, body, False)]
        part2 = bytes([ms.PKT_DATA_PART2, self._ref]) + body[room:]
        return [(self._tx, body[:room], False), (self._tx, part2, False)]


class PolarSensor(VendorSensor):
    """Polar Verity Sense: PMD ACC (delta type 1) and GYRO (delta type 0) streams."""

    kind, default_name, manufacturer, model = "polar-verity", "Polar Sense A1B2C3D4", \
        "Polar Electro Oy", "Polar Sense"
    default_stream_rate_hz = 52.0
    rates: tuple[int, ...] = (26, 52, 104, 208, 416)
    has_gyr = True
    acc_factor, gyr_factor = 0.5, 0.0625  # mG and deg/s per count (FACTOR)
    epoch_ns = 7 * 10**17  # ~22 years after the PMD epoch (2000-01-01)

    def vendor_services(self) -> list[gatt.Service]:
        """PMD service: control point (read/write/indicate), data (notify)."""
        self._cp: gatt.Characteristic[bytes] = gatt.Characteristic(
            polar.CONTROL_CHAR_UUID, P.READ | P.WRITE | P.INDICATE, RW,
            gatt.CharacteristicValue(read=lambda _c: bytes([0x0F, 0x24, 0]),
                                     write=self._on_cp))
        self._data = gatt.Characteristic(polar.DATA_CHAR_UUID, P.NOTIFY,
                                         gatt.Characteristic.READABLE, b"")
        self._started: set[int] = set()
        return [gatt.Service(polar.SERVICE_UUID, [self._cp, self._data])]

    def adv_fields(self) -> list[tuple[int, bytes]]:
        """Name and the heart-rate service (the PMD UUID does not fit beside the name)."""
        return [(NAME, self.name.encode()[:22]),
                (UUIDS_16, self.uuid_bytes(polar.HEART_RATE_SERVICE_UUID))]

    def _types(self) -> set[int]:
        return {polar.TYPE_ACC, polar.TYPE_GYRO} if self.has_gyr else {polar.TYPE_ACC}

    def _on_cp(self, connection: Connection, value: bytes) -> None:
        v = bytes(value)
        if len(v) < 2:
            return
        op, mtype = v[0], v[1]
        if mtype not in self._types():
            self.reply(connection, self._cp, polar.encode_response(op, mtype, 2), indicate=True)
            return
        if op == polar.OP_GET_SETTINGS:
            tlv = bytes([polar.SET_RATE, len(self.rates)]) + b"".join(
                r.to_bytes(2, "little") for r in self.rates)
            tlv += polar.encode_settings({polar.SET_RESOLUTION: 16, polar.SET_CHANNELS: 3})
            self.reply(connection, self._cp, polar.encode_response(op, mtype, 0, tlv), True)
        elif op == polar.OP_START:
            rate = polar.decode_settings(v[2:]).get(polar.SET_RATE, [0])[0]
            if rate not in self.rates:
                self.reply(connection, self._cp, polar.encode_response(op, mtype, 8), True)
                return
            self.stream_rate_hz = float(rate)
            factor = self.acc_factor if mtype == polar.TYPE_ACC else self.gyr_factor
            params = bytes([polar.SET_FACTOR, 1]) + np.float32(factor).tobytes()
            self.reply(connection, self._cp, polar.encode_response(op, mtype, 0, params), True)
            self._started.add(mtype)
            if self._started == self._types():
                self.start_streaming(connection)
        elif op == polar.OP_STOP:
            self._started.discard(mtype)
            self._stop_stream()
            self.reply(connection, self._cp, polar.encode_response(op, mtype, 0), True)

    def samples_per_notification(self, att_mtu: int) -> int:
        """About 0.2 s of samples, within the MTU even for uncompressible data."""
        worst = (att_mtu - 3 - 10 - 6) // 7  # 16-bit deltas + block headers
        return max(1, min(worst, round(self.stream_rate_hz * 0.2)))

    def encode(self, acc_mps2: FloatArray, gyr_rps: FloatArray,
               device_time_us: FloatArray) -> list[Packet]:
        """An ACC frame (and a GYRO frame), both stamped with their last sample."""
        ts = int(self.epoch_ns + device_time_us[-1] * 1000)
        acc_counts = np.rint(acc_mps2 / (G_MPS2 / 1000) / self.acc_factor)
        out = [(self._data, polar.encode_frame(polar.TYPE_ACC, ts, 0x81,
                                               polar.encode_delta_frames(acc_counts, 16)), False)]
        gyr_counts = np.rint(gyr_rps / DEG2RAD / self.gyr_factor)
        out.append((self._data, polar.encode_frame(polar.TYPE_GYRO, ts, 0x80,
                                                   polar.encode_delta_frames(gyr_counts, 16)),
                    False))
        return out


class PolarH10Sensor(PolarSensor):
    """Polar H10: PMD ACC only, raw frame type 1 (int16 mG)."""

    kind, default_name, model = "polar-h10", "Polar H10 A1B2C3D4", "Polar H10"
    default_stream_rate_hz = 50.0
    rates = (25, 50, 100, 200)
    has_gyr = False

    def samples_per_notification(self, att_mtu: int) -> int:
        """About 0.2 s of samples within the MTU."""
        return max(1, min((att_mtu - 3 - 10) // 6, round(self.stream_rate_hz * 0.2)))

    def encode(self, acc_mps2: FloatArray, gyr_rps: FloatArray,
               device_time_us: FloatArray) -> list[Packet]:
        """One raw ACC frame."""
        ts = int(self.epoch_ns + device_time_us[-1] * 1000)
        mg = np.clip(np.rint(acc_mps2 / (G_MPS2 / 1000)), -32768, 32767).astype("<i2")
        return [(self._data, polar.encode_frame(polar.TYPE_ACC, ts, 0x01, mg.tobytes()), False)]


class MovellaDotSensor(VendorSensor):
    """Movella DOT: measurement control 2001 starts mode-20 values on 2003 at 60 Hz."""

    kind, default_name, manufacturer, model = "movella-dot", "Xsens DOT", "Movella", \
        "Movella DOT"
    default_stream_rate_hz = 60.0

    def vendor_services(self) -> list[gatt.Service]:
        """Measurement service 2000: control 2001, medium payload 2003."""
        self._control = b"\x01\x00\x14"
        self._mode = dot.MODE_RATE_QUANTITIES_WITH_MAG
        control: gatt.Characteristic[bytes] = gatt.Characteristic(
            dot.CONTROL_CHAR_UUID, P.READ | P.WRITE, RW,
            gatt.CharacteristicValue(read=lambda _c: self._control, write=self._on_control))
        self._payload = gatt.Characteristic(dot.MEDIUM_PAYLOAD_CHAR_UUID, P.NOTIFY,
                                            gatt.Characteristic.READABLE, b"")
        return [gatt.Service(dot.MEASUREMENT_SERVICE_UUID, [control, self._payload])]

    def adv_fields(self) -> list[tuple[int, bytes]]:
        """The name only (what Xsens' own scanner matches)."""
        return [(NAME, self.name.encode())]

    def _on_control(self, connection: Connection, value: bytes) -> None:
        v = bytes(value)
        if len(v) == 3 and v[0] == 0x01:
            self._control = v
            if v[1] == 0x01 and v[2] in (dot.MODE_RATE_QUANTITIES_WITH_MAG,
                                         dot.MODE_RATE_QUANTITIES):
                self._mode = v[2]
                self.start_streaming(connection)
            elif v[1] == 0x00:
                self._stop_stream()

    def encode(self, acc_mps2: FloatArray, gyr_rps: FloatArray,
               device_time_us: FloatArray) -> list[Packet]:
        """One value per sample (mode 20 with a fixed magnetic field)."""
        mag = np.array([0.3, 0.0, -0.4]) if self._mode == 20 else None
        value = dot.encode_rate_quantities(int(device_time_us[0]), acc_mps2[0], gyr_rps[0], mag)
        return [(self._payload, value, False)]


#: Sensor kinds -> emulated firmware classes (``"pelviscope"`` is our own profile).
SENSORS: dict[str, type[EmulatedSensor]] = {
    "witmotion": WitMotionSensor,
    "thingy52": Thingy52Sensor,
    "movesense": MovesenseSensor,
    "polar-verity": PolarSensor,
    "polar-h10": PolarH10Sensor,
    "movella-dot": MovellaDotSensor,
    "pelviscope": EmulatedSensor,
}
