"""Small signals the tests add to renders."""

from __future__ import annotations

import numpy as np


def mains_hum(n_samples: int, sr: int) -> np.ndarray:
    """50 Hz hum with harmonics 1-5 (amplitude 1/k, phase k radians), unit RMS [n_samples]."""
    t = np.arange(n_samples) / sr
    hum = sum(np.sin(2 * np.pi * 50 * k * t + k) / k for k in range(1, 6))
    return hum / np.sqrt(np.mean(hum**2))
