"""Small signals the tests add to renders, from the benches' own generators."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

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
