"""Onsets read from a named note's own partials (v3music.partials)."""

from __future__ import annotations

import numpy as np
import pytest

from v3music.partials import partial_bins, partial_rise_starts, partial_trace

SR = 16000


def _tone(midi: float, seconds: float, *, start: float = 0.0, amplitude: float = 1.0, decay: float = 0.0,
          harmonics: int = 6) -> np.ndarray:
    """A harmonic tone (1/k partials) beginning at ``start`` s in ``seconds`` s of audio."""
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440.0 * 2.0 ** ((midi - 69.0) / 12.0)
    wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, harmonics + 1))
    return np.where(t >= start, amplitude * np.exp(-decay * np.maximum(t - start, 0.0)) * wave, 0.0)


def test_partial_bins_are_the_harmonics_under_the_limit() -> None:
    bins = partial_bins(45.0, sample_rate=SR, n_fft=1024, max_hz=500.0)  # A2: 110, 220, 330, 440 Hz
    np.testing.assert_allclose(bins, np.array([110.0, 220.0, 330.0, 440.0]) * 1024 / SR)


def test_a_trace_leaves_out_the_harmonics_the_previous_note_shares() -> None:
    a3 = _tone(57, 1.0)  # 220 Hz: its harmonics are the even harmonics of A2
    shared = partial_trace(a3, sample_rate=SR, pitch=45, n_fft=1024, hop=64)
    own = partial_trace(a3, sample_rate=SR, pitch=45, previous=57, n_fft=1024, hop=64)
    assert shared[100:150].mean() > own[100:150].mean() + 20.0
    assert partial_trace(a3, sample_rate=SR, pitch=57, previous=45, n_fft=1024, hop=64).size == 0


def test_a_soft_note_under_a_loud_tail_starts_where_its_partials_rose() -> None:
    y = _tone(69, 1.0, decay=6.0) + _tone(48, 1.0, start=0.5, amplitude=0.1)
    starts = partial_rise_starts(y, np.array([0, 9600]), np.array([8000, 16000]), np.array([69, 48]),
                                 sample_rate=SR)
    assert starts[0] == 0
    assert 0.484 <= starts[1] / SR <= 0.5


@pytest.mark.parametrize("case", ["same pitch", "after a rest", "already right"])
def test_starts_that_need_no_move_stay(case: str) -> None:
    second = {"same pitch": 69, "after a rest": 48, "already right": 48}[case]
    y = _tone(69, 1.0, decay=6.0) + _tone(second, 1.0, start=0.5, amplitude=0.1)
    first_end = 4000 if case == "after a rest" else 8000  # "after a rest": ended 0.35 s before
    start = 9600 if case != "already right" else 8000
    starts = partial_rise_starts(y, np.array([0, start]), np.array([first_end, 16000]), np.array([69, second]),
                                 sample_rate=SR)
    if case == "already right":  # the 64 ms window's lead: at most a quarter of it
        assert 0 <= start - starts[1] <= 0.016 * SR
    else:
        assert starts[1] == start


def test_a_rise_that_began_before_the_span_moves_nothing() -> None:
    """An A4 swelling from -40 dB since the recording began, under a C4 from 0.3 s: its partials rise
    all through the span searched (from the C4's start), so where the A4 began cannot be read there."""
    t = np.arange(SR) / SR
    swell = 10.0 ** ((-40.0 + 80.0 * np.minimum(t, 0.5)) / 20.0)  # -40 dB at 0 s to 0 dB at 0.5 s
    y = 0.3 * _tone(60, 1.0, start=0.3) + swell * _tone(69, 1.0)
    starts = partial_rise_starts(y, np.array([4800, 7200]), np.array([7200, 16000]), np.array([60, 69]),
                                 sample_rate=SR)
    assert starts[1] == 7200


@pytest.mark.parametrize("found, expected", [(0.42, (0.48, 0.5)), (0.3, (0.3, 0.3))])
def test_an_early_start_moves_later_to_the_rise_within_reach(found: float, expected: tuple[float, float]) -> None:
    """Found 80 ms early (a legato split placed on the previous note's flux), the C3 moves to where
    its partials rose; found 200 ms early, the rise lies beyond the 0.1 s looked at, and it stays."""
    y = _tone(69, 1.0, decay=6.0) + _tone(48, 1.0, start=0.5, amplitude=0.1)
    starts = partial_rise_starts(y, np.array([0, int(found * SR)]), np.array([int(found * SR), 16000]),
                                 np.array([69, 48]), sample_rate=SR)
    assert expected[0] <= starts[1] / SR <= expected[1]
