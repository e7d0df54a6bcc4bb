"""Smoke test of bench/swap.py: two triples end to end on a SoundFont of its own (``--soundfont``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from audio_helpers import bench_swap

from v3music.soundfont import Instrument, Zone, write_soundfont

SR = 16000


def _zone(harmonics: tuple[int, ...], *, loop: bool) -> Zone:
    """A4 of the given harmonics, exactly periodic, looped after the attack or played once with a decay."""
    period = round(SR / 440.0)
    t = np.arange(int(0.8 * SR)) / SR
    y = sum(np.sin(2 * np.pi * k * SR / period * t) / k for k in harmonics) * np.minimum(t / 0.02, 1.0)
    if not loop:
        y = y * np.exp(-4.0 * t)
    start = period * math.ceil(0.03 * SR / period)
    end = len(t) - (len(t) - start) % period
    cents = round(1200.0 * math.log2(440.0 * period / SR))
    return Zone(0.5 * y / np.abs(y).max(), SR, 69, (0, 127), loop=(start, end) if loop else None,
                pitch_correction=cents)


def test_swap_bench_on_a_user_soundfont(tmp_path: Path) -> None:
    font = write_soundfont(tmp_path / "two.sf2", [Instrument("reed", 0, [_zone((1, 3, 5, 7), loop=True)]),
                                                 Instrument("pluck", 1, [_zone(tuple(range(1, 9)), loop=False)])])
    report = bench_swap().main(["--soundfont", str(font), "--seen", "", "--unseen", "0,1", "--n-triples", "2",
                                "--methods", "sample", "--out", str(tmp_path / "swap.json")])
    rows = report["summary"]
    assert set(rows) == {"identity", "match-eq", "sample", "oracle"}
    assert rows["identity"]["gap_closed"] == 0.0 and rows["oracle"]["gap_closed"] == 1.0
    assert rows["sample"]["log_mel_l1_db"] < 0.7 * rows["identity"]["log_mel_l1_db"]  # towards the other instrument
    assert math.isnan(report["embedding_knn"]["seen"])  # no training programs among the two
    assert (tmp_path / "swap.json").exists()
