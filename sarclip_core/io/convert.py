"""Turn SAR values (DN, amplitude, intensity, dB, complex) into model input with a recorded normalisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from ..errors import SarclipError
from .raster import ValueKind

DOMAINS = ("db", "linear")
METHODS = ("standardise", "range", "percentile")
DB_FLOOR = -60.0  # dB; keeps zeros (no return) finite without dominating the statistics


@dataclass(frozen=True)
class Normalisation:
    """How SAR values become model input; saved with a model so training and inference agree.

    domain: "db" converts to decibels first (a gain becomes an offset), "linear" keeps amplitude.
    method: "standardise" subtracts each chip's mean and divides by its std (robust to calibration
    and incidence differences), then clips to +-clip; "range" clips to [low, high] and scales to
    [0, 1]; "percentile" clips each chip to its own [low, high] percentiles and scales to [0, 1].
    """

    domain: str = "db"
    method: str = "standardise"
    low: float | None = None
    high: float | None = None
    clip: float = 4.0

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise SarclipError(f"normalisation domain must be one of {DOMAINS}, got {self.domain!r}")
        if self.method not in METHODS:
            raise SarclipError(f"normalisation method must be one of {METHODS}, got {self.method!r}")
        if self.method in ("range", "percentile"):
            if self.low is None or self.high is None or not self.high > self.low:
                raise SarclipError(f"normalisation '{self.method}' needs low < high, got {self.low}, {self.high}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Normalisation":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise SarclipError(f"unknown normalisation keys: {sorted(unknown)}")
        return cls(**values)


def complex_to_amplitude(data: np.ndarray, kind: ValueKind) -> np.ndarray:
    """|s| per polarisation, from complex samples or from (I, Q) band pairs."""
    if kind is ValueKind.COMPLEX:
        return np.abs(data).astype(np.float32)
    if kind is ValueKind.IQ:
        if data.shape[0] % 2:
            raise SarclipError(f"I/Q data needs an even number of bands, got {data.shape[0]}")
        i, q = data[0::2].astype(np.float32), data[1::2].astype(np.float32)
        return np.hypot(i, q)
    return data


def to_domain(data: np.ndarray, kind: ValueKind, domain: str) -> np.ndarray:
    """SAR values of `kind` as decibels or as linear amplitude (float32)."""
    if kind.is_complex:
        data, kind = complex_to_amplitude(data, kind), ValueKind.AMPLITUDE
    data = data.astype(np.float32, copy=False)
    if domain == "db":
        if kind is ValueKind.DB:
            return data
        floor = 10 ** (DB_FLOOR / 20) if kind is not ValueKind.INTENSITY else 10 ** (DB_FLOOR / 10)
        factor = 10.0 if kind is ValueKind.INTENSITY else 20.0
        return factor * np.log10(np.maximum(data, floor))
    if kind is ValueKind.INTENSITY:
        return np.sqrt(np.maximum(data, 0))
    if kind is ValueKind.DB:
        return np.power(10.0, data / 20.0, dtype=np.float32)
    if kind is ValueKind.DN8:
        return data / 255.0  # integers, so this is a scale to [0, 1], not a guess about floats
    if kind is ValueKind.DN16:
        return data / 65535.0
    return data


def to_model_input(data: np.ndarray, valid: np.ndarray, kind: ValueKind,
                   norm: Normalisation) -> np.ndarray:
    """Normalised float32 (C, H, W) model input; invalid pixels become the neutral value (0)."""
    values = to_domain(data, kind, norm.domain)
    valid = valid & np.isfinite(values).all(axis=0)
    out = np.zeros_like(values, dtype=np.float32)
    if not valid.any():
        return out
    for c in range(values.shape[0]):
        band = values[c]
        inside = band[valid]
        if norm.method == "standardise":
            mean = float(inside.mean())
            std = float(inside.std()) or 1.0
            scaled = np.clip((band - mean) / std, -norm.clip, norm.clip)
        else:
            low, high = (norm.low, norm.high) if norm.method == "range" else \
                tuple(np.percentile(inside, [norm.low, norm.high]))
            span = (high - low) or 1.0
            scaled = np.clip((band - low) / span, 0.0, 1.0)
        out[c] = np.where(valid, scaled, 0.0)
    return out


def channel_mixing(have: int, channels: int) -> np.ndarray:
    """(channels, have) matrix that does what fit_channels does to `have` channels: fit_channels is linear (a mean,
    a repeat, the mean appended, the first ones), so applied to an identity it yields its matrix; models apply it
    as one product on tensors."""
    return fit_channels(np.eye(have, dtype=np.float32)[:, :, None], channels)[:, :, 0]


def fit_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """Adapt SAR channels (C, H, W) to a model's input channels: 1 -> their mean, 3 -> (c0, c1, mean)."""
    have = x.shape[0]
    if have == channels:
        return x
    if channels == 1:
        return x.mean(axis=0, keepdims=True)
    if have == 1:
        return np.repeat(x, channels, axis=0)
    if channels == 3 and have == 2:
        return np.concatenate([x, x.mean(axis=0, keepdims=True)], axis=0)
    if have > channels:
        return x[:channels]
    raise SarclipError(f"cannot map {have} SAR channels onto a model with {channels} input channels")
