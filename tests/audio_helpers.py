"""Small signals the tests add to renders, from the benches' own generators, and SoundFont zones."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

from v3music.soundfont import Zone

BENCH_TRANSCRIBE = Path(__file__).resolve().parents[1] / "bench" / "transcribe.py"


def bench_transcribe() -> ModuleType:
    """``bench/transcribe.py`` as a module (loaded once)."""
    return _bench_module("v3_bench_transcribe", BENCH_TRANSCRIBE)


def bench_swap() -> ModuleType:
    """``bench/swap.py`` as a module (loaded once)."""
    return _bench_module("v3_bench_swap", BENCH_TRANSCRIBE.with_name("swap.py"))


def _bench_module(name: str, path: Path) -> ModuleType:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
    return sys.modules[name]


def mains_hum(n_samples: int, sr: int) -> np.ndarray:
    """The bench's 50 Hz hum (harmonics 1-5, amplitude 1/k) with unit RMS [n_samples], phases of seed 0."""
    return bench_transcribe().mains_hum(n_samples, sr, np.random.default_rng(0))


def periodic_zone(key: int, keys: tuple[int, int], *, harmonics: tuple[int, ...] = (1, 3, 5, 7),
                  seconds: float = 0.6, loop: bool = True, decay: float = 0.0, sr: int = 16000) -> Zone:
    """A SoundFont zone of MIDI ``key`` (played over ``keys``): ``harmonics`` (amplitude 1/k) with a 20 ms
    attack, exactly periodic (a whole number of samples per period, the rest put right by the zone's
    pitch correction) so a loop after the attack is seamless; or, with ``loop`` False, played once,
    decaying by ``decay`` nepers per second."""
    hz = 440.0 * 2.0 ** ((key - 69) / 12.0)
    period = round(sr / hz)
    f0 = sr / period
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in harmonics) * np.minimum(t / 0.02, 1.0)
    if decay:
        y = y * np.exp(-decay * t)
    y = 0.5 * y / np.abs(y).max()
    start = period * math.ceil(0.03 * sr / period)  # after the attack
    end = len(t) - (len(t) - start) % period
    cents = round(1200.0 * math.log2(hz / f0))
    return Zone(y, sr, key, keys, loop=(start, end) if loop else None, pitch_correction=cents)
