"""The sensor model: what an IMU mounted on the pelvis reports, with realistic errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recordings.units import G_MPS2
from simulator.smooth import FloatArray


@dataclass(frozen=True, kw_only=True)
class ImuErrors:
    """Error model of a consumer MEMS IMU (defaults: a typical BMI270/LSM6DS3 class part).

    Parameters
    ----------
    acc_noise_mps2 : float
        White noise standard deviation per sample, each axis.
    gyr_noise_rps : float
        White noise standard deviation per sample, each axis.
    acc_bias_mps2 : float
        Standard deviation of the constant accelerometer bias drawn per axis.
    gyr_bias_rps : float
        Standard deviation of the constant gyroscope bias drawn per axis.
    gyr_bias_walk_rps : float
        Random-walk of the gyroscope bias per sqrt(second).
    rate_error_ppm : float
        Device clock error: positive means the device clock runs fast, so the true
        sample interval is shorter than the nominal one.
    jitter_s : float
        Standard deviation of the true sampling instants around the ideal grid.
    packet_loss : float
        Probability that a packet of ``packet_samples`` samples is lost.
    packet_samples : int
        Samples per BLE packet (loss happens per packet).
    acc_range_mps2, gyr_range_rps : float
        Full-scale ranges; readings saturate there. Samples are quantised to int16
        over the range when ``quantize`` is true.
    quantize : bool
        Quantise to int16 counts like a real sensor register.
    """

    acc_noise_mps2: float = 0.012
    gyr_noise_rps: float = 0.0015
    acc_bias_mps2: float = 0.03
    gyr_bias_rps: float = 0.008
    gyr_bias_walk_rps: float = 2e-5
    rate_error_ppm: float = 0.0
    jitter_s: float = 0.0
    packet_loss: float = 0.0
    packet_samples: int = 10
    acc_range_mps2: float = 16 * G_MPS2
    gyr_range_rps: float = np.radians(2000.0)
    quantize: bool = True

    @classmethod
    def ideal(cls) -> ImuErrors:
        """A perfect sensor: no noise, bias, clock error, loss or quantisation."""
        return cls(
            acc_noise_mps2=0.0,
            gyr_noise_rps=0.0,
            acc_bias_mps2=0.0,
            gyr_bias_rps=0.0,
            gyr_bias_walk_rps=0.0,
            quantize=False,
        )


def sample_instants_s(
    n: int, rate_hz: float, errors: ImuErrors, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Device timestamps and true sampling instants of ``n`` samples.

    Returns
    -------
    device_time_s : ndarray, shape (n,)
        What the device clock says: exactly ``k / rate_hz``.
    true_time_s : ndarray, shape (n,)
        When the samples were really taken.
    """
    k = np.arange(n, dtype=float)
    device_time_s = k / rate_hz
    true_time_s = device_time_s / (1.0 + errors.rate_error_ppm * 1e-6)
    if errors.jitter_s > 0:
        true_time_s = true_time_s + rng.normal(0.0, errors.jitter_s, n)
        true_time_s = np.maximum.accumulate(true_time_s)
    return device_time_s, true_time_s


def corrupt(
    acc_mps2: FloatArray,
    gyr_rps: FloatArray,
    rate_hz: float,
    errors: ImuErrors,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray, dict[str, list[float]]]:
    """Add bias, noise, saturation and quantisation to ideal sensor signals.

    Returns the corrupted signals and the biases used (for tests).
    """
    n = acc_mps2.shape[0]
    acc_bias = rng.normal(0.0, errors.acc_bias_mps2, 3) if errors.acc_bias_mps2 else np.zeros(3)
    gyr_bias = rng.normal(0.0, errors.gyr_bias_rps, 3) if errors.gyr_bias_rps else np.zeros(3)
    gyr_bias_t = np.broadcast_to(gyr_bias, (n, 3)).copy()
    if errors.gyr_bias_walk_rps > 0:
        steps = rng.normal(0.0, errors.gyr_bias_walk_rps / np.sqrt(rate_hz), (n, 3))
        gyr_bias_t += np.cumsum(steps, axis=0)
    acc = acc_mps2 + acc_bias + rng.normal(0.0, errors.acc_noise_mps2 or 0.0, (n, 3))
    gyr = gyr_rps + gyr_bias_t + rng.normal(0.0, errors.gyr_noise_rps or 0.0, (n, 3))
    acc = np.clip(acc, -errors.acc_range_mps2, errors.acc_range_mps2)
    gyr = np.clip(gyr, -errors.gyr_range_rps, errors.gyr_range_rps)
    if errors.quantize:
        acc = np.round(acc / errors.acc_range_mps2 * 32767) * errors.acc_range_mps2 / 32767
        gyr = np.round(gyr / errors.gyr_range_rps * 32767) * errors.gyr_range_rps / 32767
    return acc, gyr, {"acc_bias_mps2": acc_bias.tolist(), "gyr_bias_rps": gyr_bias.tolist()}


def packet_mask(n: int, errors: ImuErrors, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of the samples that arrive (whole packets are lost)."""
    if errors.packet_loss <= 0:
        return np.ones(n, dtype=bool)
    n_packets = -(-n // errors.packet_samples)
    kept = rng.random(n_packets) >= errors.packet_loss
    return np.repeat(kept, errors.packet_samples)[:n]
