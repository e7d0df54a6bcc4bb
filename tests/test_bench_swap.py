"""Smoke test of bench/swap.py: two triples end to end on a SoundFont of its own (``--soundfont``)."""

from __future__ import annotations

import math
from pathlib import Path

from audio_helpers import bench_swap, periodic_zone

from v3music.soundfont import Instrument, write_soundfont


def test_swap_bench_on_a_user_soundfont(tmp_path: Path) -> None:
    reed = periodic_zone(69, (0, 127), seconds=0.8)  # A4, odd harmonics, looped after the attack
    pluck = periodic_zone(69, (0, 127), harmonics=tuple(range(1, 9)), seconds=0.8, loop=False, decay=4.0)
    font = write_soundfont(tmp_path / "two.sf2", [Instrument("reed", 0, [reed]), Instrument("pluck", 1, [pluck])])
    report = bench_swap().main(["--soundfont", str(font), "--seen", "", "--unseen", "0,1", "--n-triples", "2",
                                "--methods", "sample", "--out", str(tmp_path / "swap.json")])
    rows = report["summary"]
    assert set(rows) == {"identity", "match-eq", "sample", "oracle"}
    assert rows["identity"]["gap_closed"] == 0.0 and rows["oracle"]["gap_closed"] == 1.0
    assert rows["sample"]["log_mel_l1_db"] < 0.7 * rows["identity"]["log_mel_l1_db"]  # towards the other instrument
    assert math.isnan(report["embedding_knn"]["seen"])  # no training programs among the two
    assert (tmp_path / "swap.json").exists()
