"""Intervals between notes from their spectra, and the consensus naming built on them."""

from __future__ import annotations

import numpy as np
import pytest

from v3music.intervals import consensus_pitches, neighbour_transpositions, note_transpositions

BINS_PER_SEMITONE = 2


def harmonic_profiles(midi: list[int], *, n_bins: int = 144, fmin_midi: int = 36, harmonics: int = 6,
                      frames: int = 3) -> np.ndarray:
    """Log-amplitude 'CQT' fragments [N, n_bins, frames] of harmonic notes (1/k amplitudes)."""
    out = np.full((len(midi), n_bins, frames), -8.0)
    for i, m in enumerate(midi):
        for k in range(1, harmonics + 1):
            b = round((m + 12 * np.log2(k) - fmin_midi) * BINS_PER_SEMITONE)
            if 0 <= b < n_bins:
                out[i, b] = np.log(1.0 / k)
    return out


def test_neighbour_transpositions_match_the_all_pairs_version() -> None:
    midi = [60, 64, 62, 67, 55, 72, 60]
    frags = harmonic_profiles(midi)
    everything, corr_all = note_transpositions(frags, frags, bins_per_semitone=BINS_PER_SEMITONE, max_semitones=24)
    near, corr = neighbour_transpositions(frags, context=2, bins_per_semitone=BINS_PER_SEMITONE, max_semitones=24)
    assert near.shape == corr.shape == (len(midi), 4)
    for i in range(len(midi)):
        for column, offset in enumerate((-2, -1, 1, 2)):
            j = i + offset
            if 0 <= j < len(midi):
                assert near[i, column] == everything[i, j] == midi[i] - midi[j]
                assert corr[i, column] == pytest.approx(corr_all[i, j])
            else:
                assert np.isnan(near[i, column]) and corr[i, column] == -np.inf


def test_consensus_outvotes_isolated_wrong_atoms_and_keeps_right_ones() -> None:
    truth = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60]
    named = list(truth)
    named[3] = 64   # a semitone low
    named[10] = 69  # a whole tone high
    got = consensus_pitches(np.array(named), harmonic_profiles(truth), bins_per_semitone=BINS_PER_SEMITONE,
                            vocabulary=range(36, 85))
    assert got.tolist() == truth
    unchanged = consensus_pitches(np.array(truth), harmonic_profiles(truth), bins_per_semitone=BINS_PER_SEMITONE,
                                  vocabulary=range(36, 85))
    assert unchanged.tolist() == truth


def test_consensus_names_only_from_the_vocabulary_and_leaves_unnamed_notes_alone() -> None:
    truth = [60, 62, 64, 72]  # 72 is outside the codebook's names below
    named = np.array([60, 62, -1, 71])
    got = consensus_pitches(named, harmonic_profiles(truth), bins_per_semitone=BINS_PER_SEMITONE,
                            vocabulary=range(60, 72))
    assert got[2] == -1       # an unnamed atom stays unnamed
    assert got[3] == 71       # 72 would agree with the spectra, but no atom is named 72
    assert got[:2].tolist() == [60, 62]


def test_context_zero_or_one_note_changes_nothing() -> None:
    named = np.array([60, 63, 64])
    frags = harmonic_profiles([60, 62, 64])
    assert consensus_pitches(named, frags, bins_per_semitone=2, vocabulary=range(60, 72), context=0).tolist() \
        == [60, 63, 64]
    assert consensus_pitches(named[:1], frags[:1], bins_per_semitone=2, vocabulary=range(60, 72)).tolist() == [60]
