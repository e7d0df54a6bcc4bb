"""Intervals between notes read from their spectra, and pitch names made consistent with them.

A harmonic spectrum moves rigidly along a log-frequency axis when its pitch
changes, whatever the instrument. So the interval between two notes of one
recording is the shift (in whole semitones) that best aligns their mean
log-CQT profiles; no pitch labels are involved. The timbre swap uses this to
transpose a note of one recording onto a note of another
(:func:`note_transpositions`); transcription uses it to make the codebook's
names of a recording's notes agree with each other (:func:`consensus_pitches`):
each note is named by a vote of its own atom and of its neighbours' atoms, each
moved by the interval the spectra show.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = [
    "DEFAULT_PITCH_CONTEXT",
    "STEADY_HEAD_FRAMES",
    "STEADY_PATIENCE_FRAMES",
    "consensus_pitches",
    "frame_moves",
    "neighbour_transpositions",
    "note_transpositions",
    "profile_shift",
    "steady_frames",
]

#: Notes on each side of a note whose atom names, moved by the spectral
#: interval, vote on its name (``Transcriber(pitch_context=...)``).
DEFAULT_PITCH_CONTEXT = 16
#: A neighbour votes only when its profile, shifted, correlates at least this well.
MIN_VOTE_CORRELATION = 0.5
#: Weight of a note's own atom name in the vote; a neighbour weighs its correlation (at most 1).
SELF_VOTE_WEIGHT = 1.0
#: :func:`steady_frames`: frames whose mean is a note's reference spectrum, and frames in a row
#: that must have moved from it.
STEADY_HEAD_FRAMES = 6
STEADY_PATIENCE_FRAMES = 3


def _profiles(fragments: np.ndarray) -> np.ndarray:
    """Mean-over-time log-CQT profile of each note, mean removed: [N, n_bins]."""
    profiles = fragments.mean(axis=-1)
    return profiles - profiles.mean(axis=1, keepdims=True)


def _shifts(bins_per_semitone: float, max_semitones: int) -> tuple[int, range]:
    """Bins per semitone rounded to a whole step, and the shifts (bins) to try."""
    step = max(1, round(bins_per_semitone))  # whole semitones only: a half-semitone shift is never musical
    return step, range(-max_semitones * step, max_semitones * step + 1, step)


def _overlap(pa: np.ndarray, pb: np.ndarray, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """The bins of ``pa`` and of ``pb`` moved up by ``shift`` bins that line up (last axis)."""
    n = pa.shape[-1]
    if shift >= 0:
        return pa[..., shift:], pb[..., : n - shift]
    return pa[..., :shift], pb[..., -shift:]


def _best_shifts(pa: np.ndarray, pb: np.ndarray, shifts: range) -> tuple[np.ndarray, np.ndarray]:
    """For each row pair of ``pa`` [P, n] and ``pb`` [P or 1, n]: the shift (bins) among ``shifts``
    that moves ``pb`` onto ``pa`` with the highest correlation over the overlapping bins, and that
    correlation. Every shift at once: dot products from one FFT cross-correlation, overlap norms
    from cumulative sums. Ties go to the lowest shift."""
    n = pa.shape[-1]
    lags = np.array([shift for shift in shifts if abs(shift) < n])
    length = 1 << (2 * n - 1).bit_length()  # no circular wrap-around
    spectrum = np.fft.rfft(pa, length) * np.conj(np.fft.rfft(pb, length))
    dots = np.fft.irfft(spectrum, length)[:, lags % length]  # lag s: sum over k of pa[k] pb[k - s]
    # energy[:, k]: sum of the squares of the first k bins
    energy_a = np.concatenate([np.zeros((len(pa), 1)), np.cumsum(pa**2, axis=1)], axis=1)
    energy_b = np.concatenate([np.zeros((len(pb), 1)), np.cumsum(pb**2, axis=1)], axis=1)
    up = lags >= 0  # b moved up: a's bins lag..n overlap b's bins 0..n - lag
    overlap_a = np.where(up, energy_a[:, -1:] - energy_a[:, np.clip(lags, 0, n)],
                         energy_a[:, np.clip(n + lags, 0, n)])
    overlap_b = np.where(up, energy_b[:, np.clip(n - lags, 0, n)],
                         energy_b[:, -1:] - energy_b[:, np.clip(-lags, 0, n)])
    corr = dots / np.maximum(np.sqrt(np.maximum(overlap_a * overlap_b, 0.0)), 1e-9)
    best = np.argmax(corr, axis=1)
    return lags[best], corr[np.arange(len(corr)), best]


def profile_shift(fragment_a: np.ndarray, fragment_b: np.ndarray, *, max_bins: int) -> int:
    """CQT bins by which ``fragment_b`` [n_bins, frames] moves up onto ``fragment_a`` [n_bins, frames].

    The shift of every bin from ``-max_bins`` to ``max_bins`` (not whole
    semitones only, as in :func:`note_transpositions`) whose mean-over-time
    profiles correlate best.

    Examples
    --------
    >>> profile = np.zeros(48); profile[[10, 34]] = [1.0, 0.5]
    >>> a = np.stack([np.roll(profile, 1)] * 3, axis=1)  # the same partials one bin higher
    >>> profile_shift(a, np.stack([profile] * 3, axis=1), max_bins=4)
    1
    """
    lag, _ = _best_shifts(_profiles(fragment_a[None]), _profiles(fragment_b[None]), range(-max_bins, max_bins + 1))
    return int(lag[0])


def note_transpositions(fragments_a: np.ndarray, fragments_b: np.ndarray, *, bins_per_semitone: float,
                        max_semitones: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Transposition from every note of ``b`` to every note of ``a``, from their spectra alone.

    Each note's log-CQT fragment is averaged over time into a spectral profile
    (mean removed); the transposition is the shift of ``b``'s profile along
    the log-frequency axis that correlates best with ``a``'s.

    Parameters
    ----------
    fragments_a : ndarray[Na, n_bins, frames]
    fragments_b : ndarray[Nb, n_bins, frames]
        Log-CQT fragments (:attr:`v3music.notes.EncodedNotes.fragments`).
    bins_per_semitone : float
        CQT resolution; shifts are tried in whole semitones (rounded to bins).
    max_semitones : int
        Largest shift tried, up or down.

    Returns
    -------
    semitones : ndarray[Na, Nb] (float)
        Shift that moves note j of ``b`` onto note i of ``a`` (positive: up).
    correlation : ndarray[Na, Nb]
        Normalised correlation of the profiles at that shift.

    Examples
    --------
    >>> profile = np.zeros((1, 48, 1)); profile[0, [10, 22, 29, 34], 0] = [1.0, 0.6, 0.4, 0.3]
    >>> shifted = np.roll(profile, 4, axis=1)                 # 4 bins = 2 semitones up
    >>> semitones, _ = note_transpositions(shifted, profile, bins_per_semitone=2)
    >>> float(semitones[0, 0])
    2.0
    """
    # All pairs: one matrix product per shift. (_best_shifts would hold an FFT per pair,
    # Na x Nb of them, which does not fit in memory for long recordings.)
    pa, pb = _profiles(fragments_a), _profiles(fragments_b)
    step, shifts = _shifts(bins_per_semitone, max_semitones)
    best = np.full((len(pa), len(pb)), -np.inf)
    lag = np.zeros((len(pa), len(pb)), np.int64)
    for shift in shifts:
        xa, xb = _overlap(pa, pb, shift)
        norm = np.linalg.norm(xa, axis=1)[:, None] * np.linalg.norm(xb, axis=1)[None]
        corr = (xa @ xb.T) / np.maximum(norm, 1e-9)
        better = corr > best
        best[better] = corr[better]
        lag[better] = shift
    return lag / step, best


def frame_moves(cqt: np.ndarray, *, bins_per_semitone: float, head: int = STEADY_HEAD_FRAMES,
                max_semitones: int = 12) -> np.ndarray:
    """Whole semitones by which each frame of a note has moved from its first frames.

    The mean of the first ``head`` frames is the reference; each later
    frame's profile (mean removed) is shifted along the log-frequency axis
    by whole semitones, and the shift that correlates best is its move.

    Parameters
    ----------
    cqt : ndarray[n_bins, frames]
        Log-CQT of the note, more than ``head`` frames.
    bins_per_semitone : float
        CQT resolution.
    head : int
        Frames of the reference.
    max_semitones : int
        Largest move looked for, up or down.

    Returns
    -------
    ndarray[frames - head] (int)
        Semitones of frame ``head + k`` from the reference (positive: up).

    Examples
    --------
    >>> profile = np.zeros(96); profile[[10, 34, 48, 58]] = [1.0, 0.6, 0.4, 0.3]
    >>> cqt = np.stack([profile] * 8 + [np.roll(profile, 8)] * 2, axis=1)  # 2 frames a major third up
    >>> frame_moves(cqt, bins_per_semitone=2).tolist()
    [0, 0, 4, 4]
    """
    reference = _profiles(cqt[None, :, :head])
    frames = _profiles(np.moveaxis(cqt[:, head:], 1, 0)[:, :, None])  # [F, n_bins]
    step, shifts = _shifts(bins_per_semitone, max_semitones)
    lag, _ = _best_shifts(frames, reference, shifts)
    return lag // step


def steady_frames(cqt: np.ndarray, *, bins_per_semitone: float, head: int = STEADY_HEAD_FRAMES,
                  patience: int = STEADY_PATIENCE_FRAMES,
                  max_semitones: int = 12) -> int:
    """Frames of a note before its spectrum moves by a semitone or more.

    The mean of the first ``head`` frames is the reference; the note is steady
    up to the first run of ``patience`` frames each transposed from it by a
    whole semitone or more (:func:`frame_moves`): a second note that
    came with no onset, as in legato.

    Parameters
    ----------
    cqt : ndarray[n_bins, frames]
        Log-CQT of the note.
    bins_per_semitone : float
        CQT resolution.
    head, patience : int
        Frames of the reference; frames in a row that must have moved.
    max_semitones : int
        Largest move looked for, up or down.

    Returns
    -------
    int
        Number of steady frames (``frames`` if the spectrum never moves).

    Examples
    --------
    Ten frames of one harmonic profile, then ten of it a fifth higher:

    >>> profile = np.zeros(96); profile[[10, 34, 48, 58]] = [1.0, 0.6, 0.4, 0.3]
    >>> cqt = np.stack([profile] * 10 + [np.roll(profile, 14)] * 10, axis=1)
    >>> steady_frames(cqt, bins_per_semitone=2)
    10
    """
    if cqt.shape[1] <= head + patience:
        return cqt.shape[1]
    moved = frame_moves(cqt, bins_per_semitone=bins_per_semitone, head=head, max_semitones=max_semitones) != 0
    runs = np.convolve(moved, np.ones(patience), mode="valid") >= patience
    return head + int(np.argmax(runs)) if runs.any() else cqt.shape[1]


def neighbour_transpositions(fragments: np.ndarray, *, context: int, bins_per_semitone: float,
                             max_semitones: int) -> tuple[np.ndarray, np.ndarray]:
    """Transposition between each note and its ``context`` neighbours on each side.

    The same measure as :func:`note_transpositions`, for the pairs of notes at
    most ``context`` apart in the recording's order only, so the cost grows
    linearly with the number of notes.

    Parameters
    ----------
    fragments : ndarray[N, n_bins, frames]
        Log-CQT fragments of one recording's notes, in time order.
    context : int
        Neighbours on each side.
    bins_per_semitone : float
        CQT resolution; shifts are tried in whole semitones.
    max_semitones : int
        Largest shift tried, up or down.

    Returns
    -------
    semitones : ndarray[N, 2 * context] (float)
        Column ``c`` holds the shift that moves note ``i + offset`` onto note
        ``i``, offsets ``-context..-1, 1..context``; NaN where that note does
        not exist.
    correlation : ndarray[N, 2 * context]
        Normalised correlation at that shift; -inf where the note does not exist.

    Examples
    --------
    Three notes: a profile, the same 2 semitones up, and 3 semitones up:

    >>> profile = np.zeros((48, 1)); profile[[10, 22, 29, 34], 0] = [1.0, 0.6, 0.4, 0.3]
    >>> notes = np.stack([profile, np.roll(profile, 4, axis=0), np.roll(profile, 6, axis=0)])
    >>> semitones, _ = neighbour_transpositions(notes, context=1, bins_per_semitone=2, max_semitones=12)
    >>> semitones.tolist()  # [from the note before, from the note after]
    [[nan, -2.0], [2.0, -1.0], [1.0, nan]]
    """
    profiles = _profiles(fragments)
    n = len(profiles)
    step, shifts = _shifts(bins_per_semitone, max_semitones)
    semitones = np.full((n, 2 * context), np.nan)
    correlation = np.full((n, 2 * context), -np.inf)
    offsets = np.arange(1, min(context, n - 1) + 1)
    if offsets.size == 0:
        return semitones, correlation
    lower = np.concatenate([np.arange(n - offset) for offset in offsets])  # pairs (i, i + offset)
    offset_of_pair = np.repeat(offsets, n - offsets)
    upper = lower + offset_of_pair
    lag, best = _best_shifts(profiles[lower], profiles[upper], shifts)  # upper moved onto lower
    after, before = context + offset_of_pair - 1, context - offset_of_pair  # columns of i + offset, i - offset
    semitones[lower, after], correlation[lower, after] = lag / step, best
    semitones[upper, before], correlation[upper, before] = -lag / step, best  # same overlap, reversed
    return semitones, correlation


def consensus_pitches(pitches: np.ndarray, fragments: np.ndarray, *, bins_per_semitone: float,
                      vocabulary: Iterable[int], context: int = DEFAULT_PITCH_CONTEXT,
                      min_correlation: float = MIN_VOTE_CORRELATION,
                      self_weight: float = SELF_VOTE_WEIGHT) -> np.ndarray:
    """Atom names of a recording's notes, made consistent with the intervals their spectra show.

    Each note's name is a vote: its own atom's name (weight ``self_weight``)
    and, for each of its ``context`` neighbours on either side whose shifted
    profile correlates at least ``min_correlation`` with it, that neighbour's
    atom name moved by the interval between the two notes (weight: the
    correlation). Only names the codebook uses (``vocabulary``) can win; ties
    keep the note's own name. An isolated wrong atom (say a semitone off, an
    unseen instrument's timbre pulling the note towards a neighbouring atom) is
    outvoted by the notes around it; the names themselves still come from the
    codebook.

    Parameters
    ----------
    pitches : ndarray[N] (int)
        MIDI name of each note's atom, in time order; negative for an unnamed
        atom (such notes neither vote nor get a name).
    fragments : ndarray[N, n_bins, frames]
        The notes' log-CQT fragments.
    bins_per_semitone : float
        CQT resolution.
    vocabulary : iterable of int
        The MIDI names of the codebook's atoms. Shifts up to the vocabulary's
        span are tried.
    context : int
        Neighbours on each side; 0 returns ``pitches`` unchanged.
    min_correlation, self_weight : float
        See above.

    Returns
    -------
    ndarray[N] (int64)
        The names after the vote.

    Examples
    --------
    Four notes whose spectra climb by whole tones; the codebook named the third
    a semitone low (63 instead of 64). Its neighbours outvote it:

    >>> profile = np.zeros((96, 1)); profile[[10, 34, 48, 58], 0] = [1.0, 0.6, 0.4, 0.3]
    >>> notes = np.stack([np.roll(profile, 4 * k, axis=0) for k in range(4)])
    >>> consensus_pitches(np.array([60, 62, 63, 66]), notes, bins_per_semitone=2,
    ...                   vocabulary=range(60, 72)).tolist()
    [60, 62, 64, 66]
    """
    pitches = np.asarray(pitches, dtype=np.int64)
    vocab = {int(v) for v in vocabulary if v >= 0}
    if context <= 0 or len(pitches) < 2 or not vocab:
        return pitches.copy()
    span = max(vocab) - min(vocab)
    semitones, correlation = neighbour_transpositions(fragments, context=context, bins_per_semitone=bins_per_semitone,
                                                      max_semitones=max(span, 1))
    offsets = np.concatenate([np.arange(-context, 0), np.arange(1, context + 1)])
    out = pitches.copy()
    for i, own in enumerate(pitches):
        if own < 0:
            continue
        votes = {int(own): self_weight}
        for column in np.flatnonzero(correlation[i] >= min_correlation):
            neighbour = pitches[i + offsets[column]]
            if neighbour < 0:
                continue
            candidate = int(neighbour + round(semitones[i, column]))
            if candidate in vocab:
                votes[candidate] = votes.get(candidate, 0.0) + float(correlation[i, column])
        out[i] = max(votes, key=lambda name: (votes[name], name == own))
    return out
