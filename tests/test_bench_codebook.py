"""Smoke test of bench/codebook.py: it renders a small note grid and prints its table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "codebook.py"


@pytest.fixture(scope="module")
def bench():
    name = "v3_bench_codebook"
    spec = importlib.util.spec_from_file_location(name, BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_symbol_scores_count_purity_ownership_and_octave_errors(bench) -> None:
    symbols, names = np.array([0, 0, 1, 1, 2]), np.array([60, 60, 74, 61, 50])
    scores = bench.symbol_scores(symbols, names, np.array([60, 61, 62, 62, 62]), 60, 62)
    assert scores["named"] == pytest.approx(0.2)
    assert scores["purity"] == pytest.approx(0.8)  # symbol 0 holds 60 and 61
    assert scores["owned"] == 2 and scores["symbols"] == 3
    assert scores["octave_errors"] == pytest.approx(0.4)  # 74 and 50 for 62
    assert scores["other_errors"] == pytest.approx(0.4)


def test_bench_prints_a_row_per_checkpoint(bench, capsys) -> None:
    bench.main(["--programs", "0", "--low", "55", "--high", "67", "--checkpoints", "insnotes:12+0,insnotes"])
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in lines if line.startswith("insnotes")}
    assert set(rows) == {"insnotes:12+0", "insnotes"}
    assert rows["insnotes"][1] == "6"  # moves 0 and 12 reach MIDI 55-67, then 4 semitones around the best
    assert float(rows["insnotes"][3]) >= 0.8  # a piano it never heard, 13 pitches around C4
