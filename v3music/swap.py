"""Timbre swap: the notes of one recording played with the instrument of another.

For each note of ``a`` (found and encoded by :class:`v3music.notes.NoteEncoder`)
the model decodes two log-CQT fragments from the note's content code: one with
the note's own style and one with ``b``'s timbre embedding (length-weighted mean style of
``b``'s notes). Their difference, in log amplitude per CQT bin and per pooled
time step, is the change of timbre the model predicts for that note. It is
spread over the note's time span and mapped onto the frequencies of a short-time
Fourier transform of ``a`` at ``a``'s own sample rate, then applied as a gain
(``"filter"``: ``a``'s phase kept) or as a target magnitude for Griffin-Lim
(``"griffinlim"``, the baseline). Timing, loudness and expression stay ``a``'s;
the spectral envelope becomes ``b``'s.

``"sample"`` (the default) plays ``b``'s own notes instead: for each note of ``a`` it takes
the note of ``b`` that needs the least transposition, time stretching and
change of loudness and whose start rings least with the note before it
(:func:`_choose_notes`; the interval is the difference of the two notes'
names, each named within its own recording by a vote of codebook atoms,
:func:`v3music.intervals.consensus_pitches`; for notes without a name, the
shift that best aligns their log-CQT spectra,
:func:`v3music.intervals.note_transpositions`), transposes it by that many
semitones as a sampler does (by resampling), fits it to the note's duration
(a note too short is lengthened by looping its sustain,
:func:`_loop_sustain`) and places it at the note's onset with ``a``'s relative dynamics (each note's
peak level relative to its recording's mean note power, in dB, so that
``a``'s notes keep their differences around ``b``'s level,
:func:`_mean_level`). Notes are the transcriber's: parts of a held note that
the detector cut where only its spectrum flickered are joined first
(:func:`v3music.notes.join_unarticulated`). Attack, noise and
decay are then ``b``'s, not ``a``'s; notes of ``a`` that the note detector
misses are left out. Last, the placed notes' short-time magnitude moves
:data:`FILTER_SHARE` of the way, in log amplitude, to the ``"filter"``
result's (:func:`blend_magnitudes`): the two are different guesses at the
same sound (``b``'s notes at ``b``'s dynamics within each note; ``a``'s
notes with ``b``'s spectral envelope), and their weighted mean in dB errs
less than either.

Each recording's tuning is measured (:func:`v3music.tuning.estimate_tuning`)
and its notes are found and named in a log-CQT moved by it, as
``v3 transcribe`` does; each placed note of ``b`` is moved by the difference
of the two tunings as well, so the result plays in ``a``'s tuning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import soxr
import torch

from v3.errors import InputError
from v3.fileio import atomic_write

from .audio import _open, check_audio, for_analysis, load_audio
from .frontend import log_cqt
from .intervals import note_transpositions, steady_frames
from .notes import OCTAVE_ATTACK_SECONDS, EncodedNotes, join_unarticulated
from .timbre import DEFAULT_CHECKPOINT, TimbreModel
from .tuning import tuned_frontend, tuning_correction

__all__ = [
    "SWAP_METHODS",
    "blend_magnitudes",
    "note_transpositions",
    "swap_gains",
    "timbre_swap",
    "timbre_swap_file",
    "timbre_swap_file_to_file",
]

SWAP_METHODS = ("sample", "filter", "griffinlim")
N_FFT_SECONDS = 0.064  # STFT window of the resynthesis (64 ms)
MAX_GAIN_DB = 30.0  # largest boost or cut applied to one time-frequency cell
RELEASE_SECONDS = 0.25  # a note's change of timbre fades out over this time after its offset
MAX_TRANSPOSITION = 12  # "sample": the largest shift (semitones) between a note of a and the note of b it plays
STRETCH_COST = 1.0  # "sample": stretching a note of b to twice its length costs as much as one semitone of shift
LEVEL_COST = 1.0  # "sample": and so do 10 dB between the relative levels of a's note and b's
RINGING_DB = 20.0  # "sample": a note of b should rise this far over what still rings when it starts ...
RINGING_COST = 1.0  # ... and each 10 dB it falls short costs as much as one semitone (research log S82)
LOOP_ATTACK_SECONDS = 0.08  # "sample": a looped note keeps at least its first 80 ms (or a third of it) as played
LOOP_CROSSFADE_SECONDS = 0.01  # "sample": crossfade at each joint of a loop
MIN_LOOP_SECONDS = 0.06  # "sample": a shorter sustain is stretched (phase vocoder) instead of looped
LOOP_SEARCH_SECONDS = 0.02  # "sample": a loop's end is sought this far back from the note-off ...
LOOP_MATCH_SECONDS = 0.02  # ... where this much of the waveform best matches the loop's start
MAX_LOOP_DECAY = 60.0  # "sample": the steepest level fall (dB/s) a loop continues
DECAY_NOTE_SECONDS = 0.4  # "sample": b's notes held at least this long (after the attack) give its decay rate
SAMPLE_FADE_SECONDS = 0.03  # "sample": fade-out at the end of each placed note
FILTER_SHARE = 0.1  # "sample": share of the log magnitude taken from the "filter" result (research log S68)
BLOCK_SECONDS = 60.0  # "filter" and the blend change the STFT in blocks this long (memory)
MAX_SWAP_SECONDS = 30 * 60.0  # longer inputs are refused: the swap holds the whole signal in memory


def _note_curves(delta: np.ndarray, notes: EncodedNotes, *, model_sr: int, n_frames: int, frame_rate: float,
                 fragment_seconds: float, release: float = RELEASE_SECONDS) -> np.ndarray:
    """Spread per-note changes over time.

    Parameters
    ----------
    delta : ndarray[N, n_bins, k]
        Change per note, CQT bin and pooled step (the note's first
        ``min(fragment_seconds, duration)`` split into k equal steps).
    notes : EncodedNotes
        Onsets/offsets in samples at ``model_sr``.
    n_frames : int
        Length of the output time axis; frame j is at ``j / frame_rate`` s.

    Returns
    -------
    ndarray[n_bins, n_frames]
        Each note's curve, linear between step centres, held after the last
        one until the note's offset, then faded to zero over ``release``
        seconds (cut short by the next note); zero where no note sounds.
    """
    n_bins, k = delta.shape[1], delta.shape[2]
    out = np.zeros((n_bins, n_frames), np.float32)
    times = np.arange(n_frames) / frame_rate
    starts = notes.onsets / model_sr
    ends = np.minimum(np.append(starts[1:], np.inf), notes.offsets / model_sr + release)
    for i in range(len(notes)):
        span = min(fragment_seconds, max((notes.offsets[i] - notes.onsets[i]) / model_sr, 1e-3))
        centres = starts[i] + (np.arange(k) + 0.5) * span / k
        cols = np.flatnonzero((times >= starts[i]) & (times < ends[i]))
        if cols.size == 0:
            continue
        t = times[cols]
        # piecewise-linear interpolation along time for every bin at once
        pos = np.interp(t, centres, np.arange(k, dtype=np.float64))
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, k - 1)
        w = (pos - lo).astype(np.float32)
        fade = np.clip(1.0 - (t - notes.offsets[i] / model_sr) / release, 0.0, 1.0).astype(np.float32)
        out[:, cols] = (delta[i][:, lo] * (1 - w) + delta[i][:, hi] * w) * fade
    return out


def _bins_to_stft(curves: np.ndarray, *, fmin_midi: float, bins_per_octave: int, sr: int, n_fft: int) -> np.ndarray:
    """Resample curves [n_bins, T] on CQT bins to STFT bins [n_fft // 2 + 1, T] (held past both ends)."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    pos = (librosa.hz_to_midi(np.maximum(freqs, 1e-3)) - fmin_midi) * bins_per_octave / 12.0
    pos = np.clip(pos, 0, curves.shape[0] - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, curves.shape[0] - 1)
    w = (pos - lo)[:, None].astype(np.float32)
    return curves[lo] * (1 - w) + curves[hi] * w


def swap_gains(tm: TimbreModel, notes_a: EncodedNotes, style_b: np.ndarray) -> np.ndarray:
    """Per-note change of log amplitude from ``a``'s timbre to ``b``'s.

    Returns ndarray[N, n_bins, k]: decode(code_i, style_b) - decode(code_i, style_i).

    Examples
    --------
    >>> tm = TimbreModel()
    >>> t = np.arange(16000) / 16000
    >>> _, notes = tm.encode(0.5 * np.sin(2 * np.pi * 262 * t), 16000)
    >>> swap_gains(tm, notes, notes.style[0]).shape  # a note with its own style: no change
    (1, 144, 2)
    """
    target = tm.notes.decode(notes_a.quantized, np.repeat(style_b[None], len(notes_a), axis=0))
    source = tm.notes.decode(notes_a.quantized, notes_a.style)
    return target - source


def _stft(signal: np.ndarray, n_fft: int, hop: int) -> torch.Tensor:
    """Complex STFT [n_fft // 2 + 1, 1 + len // hop] (Hann window, centred)."""
    x = torch.from_numpy(np.ascontiguousarray(signal, dtype=np.float32))
    return torch.stft(x, n_fft, hop_length=hop, window=torch.hann_window(n_fft), return_complex=True)


def _gain(log_gain: np.ndarray) -> torch.Tensor:
    """Amplitude gain (float32) of ``log_gain`` (natural log amplitude), at most :data:`MAX_GAIN_DB` either way."""
    limit = MAX_GAIN_DB / 20.0 * np.log(10.0)
    return torch.from_numpy(np.exp(np.clip(log_gain, -limit, limit)).astype(np.float32))


def _griffin_lim(spec: torch.Tensor, log_gain: np.ndarray, *, n_fft: int, hop: int, length: int,
                 seed: int = 0) -> np.ndarray:
    """Griffin-Lim (32 iterations) on the magnitude of the STFT ``spec`` times ``log_gain``
    [n_fft // 2 + 1, frames] (:func:`_gain`): the baseline, with phases of its own."""
    import torchaudio

    torch.manual_seed(seed)
    gl = torchaudio.transforms.GriffinLim(n_fft=n_fft, hop_length=hop, power=1.0, n_iter=32, length=length)
    return gl((spec.abs() * _gain(log_gain[:, : spec.shape[1]]))[None])[0].numpy()


def _note_spans(notes: EncodedNotes, n_samples: int, release: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each note, in samples at the model's rate.

    A note lasts to its offset plus ``release`` samples, cut at the next onset.
    """
    following = np.append(notes.onsets[1:], n_samples)
    ends = np.minimum(following, notes.offsets + release)
    return notes.onsets, np.maximum(ends, notes.onsets + 1)


def _mean_level(peak_db: np.ndarray) -> float:
    """Level of a recording's notes: the mean of their peak powers, in dB.

    A power mean follows the loud notes, so a few faint notes (the detector's
    ghosts in a release) barely move it, unlike a mean of the dB values.

    Examples
    --------
    >>> round(_mean_level(np.array([20.0, 20.0, -20.0])), 2)  # two notes at 20 dB and a ghost
    18.24
    """
    return float(10.0 * np.log10(np.mean(10.0 ** (np.asarray(peak_db, dtype=np.float64) / 10.0))))


def _rise_over_ringing(signal: np.ndarray, starts: np.ndarray, ends: np.ndarray, sr: int) -> np.ndarray:
    """How far each note rises over the sound still ringing when it starts, in dB.

    The power of the loudest 32 ms window (16 ms steps) of
    ``signal[starts[i]:ends[i]]`` over the mean power of the 35 ms that end
    5 ms before ``starts[i]``: a note after a rest rises far, a soft note
    played into a loud note's release hardly at all (its piece would play
    that release too).

    Parameters
    ----------
    signal : ndarray[samples]
        The recording, at ``sr`` Hz.
    starts, ends : ndarray[N] (int)
        Each note's span, in samples.

    Returns
    -------
    ndarray[N] (dB)

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> tone = np.sin(2 * np.pi * 440 * t)
    >>> y = np.concatenate([np.zeros(8000), tone, 0.1 * tone]) + 1e-4
    >>> np.round(_rise_over_ringing(y, np.array([8000, 24000]), np.array([24000, 40000]), 16000)).tolist()
    [77.0, -20.0]
    """
    power = np.concatenate([[0.0], np.cumsum(np.asarray(signal, dtype=np.float64) ** 2)])
    window, before, gap = round(0.032 * sr), round(0.035 * sr), round(0.005 * sr)

    def mean_power(lo: np.ndarray | int, hi: np.ndarray | int) -> np.ndarray:
        lo, hi = np.clip(lo, 0, len(signal)), np.clip(hi, 0, len(signal))
        return (power[hi] - power[lo]) / np.maximum(np.asarray(hi) - np.asarray(lo), 1)

    rises = []
    for start, end in zip(starts, ends):
        firsts = np.arange(start, max(start + 1, end - window + 1), max(1, window // 2))
        loudest = mean_power(firsts, np.minimum(firsts + window, end)).max()
        ringing = mean_power(start - gap - before, start - gap) if start - gap > 0 else 0.0
        rises.append(10.0 * np.log10((loudest + 1e-12) / (ringing + 1e-12)))
    return np.array(rises, dtype=np.float64)


def _level_trend(signal: np.ndarray, sr: int) -> float:
    """Slope of a least-squares line through the 20 ms frame levels of ``signal`` [samples at ``sr``],
    in dB/s, between -:data:`MAX_LOOP_DECAY` and 0 (0 for under 60 ms).

    Examples
    --------
    >>> t = np.arange(8000) / 8000
    >>> round(_level_trend(np.sin(2 * np.pi * 440 * t) * 10 ** (-12 * t / 20), 8000), 1)
    -12.0
    """
    frame = round(0.02 * sr)
    if len(signal) < 3 * frame:
        return 0.0
    power = np.mean(np.asarray(signal, dtype=np.float64)[: len(signal) // frame * frame].reshape(-1, frame) ** 2,
                    axis=1)
    slope = np.polyfit((np.arange(len(power)) + 0.5) * frame / sr, 10.0 * np.log10(power + 1e-20), 1)[0]
    return float(np.clip(slope, -MAX_LOOP_DECAY, 0.0))


def _decay_rate(signal: np.ndarray, starts: np.ndarray, note_offs: np.ndarray, sr: int) -> float | None:
    """How fast an instrument's held notes fall, in dB/s: the median :func:`_level_trend` of the notes
    of ``signal`` [samples at ``sr``] held at least :data:`DECAY_NOTE_SECONDS` after their first
    :data:`LOOP_ATTACK_SECONDS` (``starts``, ``note_offs``: samples); None when no note is that long.

    A short note's own trend is often its release already (a staccato trumpet note fell 60 dB/s),
    so a loop continues the instrument's rate instead.
    """
    attack, tail = round(LOOP_ATTACK_SECONDS * sr), round(0.02 * sr)
    trends = [_level_trend(signal[start + attack : off - tail], sr) for start, off in zip(starts, note_offs)
              if off - tail - start - attack >= DECAY_NOTE_SECONDS * sr]
    return float(np.median(trends)) if trends else None


def _loop_sustain(piece: np.ndarray, need: int, start: int, end: int, sr: int,
                  trend: float | None = None) -> np.ndarray | None:
    """``piece`` lengthened to at least ``need`` samples by repeating its sustain, as a sampler loops a held note.

    The loop runs from ``start`` to about ``end`` (samples; the loop's end is
    moved by up to :data:`LOOP_SEARCH_SECONDS` back to where
    :data:`LOOP_MATCH_SECONDS` of the waveform best match those at ``start``,
    by normalised correlation), each joint crossfaded over
    :data:`LOOP_CROSSFADE_SECONDS`; what follows the loop (the release) comes
    after the repeats. The note's level trend over the loop (dB/s,
    :func:`_level_trend`) is taken out of the loop, and ``trend`` (default:
    that same trend) is continued over the whole lengthened note, so that a
    note that decays keeps decaying and a held note stays level. Returns
    ndarray[>= need] (float32), or None when the sustain is shorter than
    :data:`MIN_LOOP_SECONDS`.

    Examples
    --------
    >>> sr = 16000
    >>> t = np.arange(sr // 2) / sr
    >>> note = (np.sin(2 * np.pi * 440 * t) * 10 ** (-20 * t / 20)).astype(np.float32)  # falls 20 dB/s
    >>> longer = _loop_sustain(note, 2 * sr, 1280, len(note) - 320, sr)
    >>> len(longer) >= 2 * sr
    True
    >>> rms = lambda x: 20 * np.log10(np.sqrt(np.mean(x ** 2)))
    >>> later, earlier = longer[int(1.5 * sr) : int(1.6 * sr)], longer[int(0.5 * sr) : int(0.6 * sr)]
    >>> round(float(rms(later) - rms(earlier)))  # one second later: still falling at 20 dB/s
    -20
    """
    fade = max(1, round(LOOP_CROSSFADE_SECONDS * sr))
    match = max(fade, round(LOOP_MATCH_SECONDS * sr))  # what follows the loop must cover a crossfade
    if end - start < max(4 * fade, round(MIN_LOOP_SECONDS * sr)) or end > len(piece) - match:
        return None
    head = piece[start : start + match].astype(np.float64)
    lo = min(end, max(start + match, end - round(LOOP_SEARCH_SECONDS * sr)))
    candidates = np.lib.stride_tricks.sliding_window_view(piece[lo : end + match].astype(np.float64), match)
    fit = candidates @ head / (np.linalg.norm(candidates, axis=1) * np.linalg.norm(head) + 1e-12)
    end = lo + int(np.argmax(fit))
    loop = piece[start:end].astype(np.float32)
    own = _level_trend(loop, sr)

    def level(seconds: np.ndarray, slope: float) -> np.ndarray:  # a trend's gain after this many seconds
        return (10.0 ** (slope * seconds / 20.0)).astype(np.float32)

    loop *= level(-np.arange(len(loop)) / sr, own)
    release = piece[end:] * level(-np.array((end - start) / sr), own)
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    fade_out, fade_in = np.ones(len(loop), np.float32), np.ones(len(loop), np.float32)
    fade_out[-fade:], fade_in[:fade] = ramp[::-1], ramp
    step = len(loop) - fade  # each repeat starts as the one before fades out
    repeats = max(1, -(-(need - start - len(release)) // step))
    held = np.zeros(repeats * step + len(release), np.float32)
    for k in range(repeats):
        held[k * step : k * step + len(loop)] += loop * fade_out * (fade_in if k else 1.0)
    held[repeats * step :] += release * np.pad(ramp, (0, len(release) - fade), constant_values=1.0)  # then the release
    continued = own if trend is None else trend
    return np.concatenate([piece[:start].astype(np.float32), held * level(np.arange(len(held)) / sr, continued)])


def _choose_notes(semitones: np.ndarray, lengths_b: np.ndarray, needs_a: np.ndarray, levels_b: np.ndarray,
                  levels_a: np.ndarray, rise_b: np.ndarray | None = None, *, stretch_cost: float = STRETCH_COST,
                  level_cost: float = LEVEL_COST, ringing_cost: float = RINGING_COST) -> np.ndarray:
    """For each note of ``a``, the index of the note of ``b`` that plays it.

    The cost of a pairing is the transposition it needs (semitones, absolute)
    plus ``stretch_cost`` per doubling of length that time stretching would
    add (``b``'s note shorter than the span it must fill) plus ``level_cost``
    per 10 dB between the two notes' relative levels (a note played softer
    or harder also sounds darker or brighter), plus ``ringing_cost`` per 10 dB
    that ``b``'s note rises less than :data:`RINGING_DB` over what rings when it
    starts (a soft note right after a loud one holds that note's release),
    minus a bonus of up to half a semitone for ``b``'s longer notes; the
    cheapest wins.

    Parameters
    ----------
    semitones : ndarray[Na, Nb]
        Transposition from each note of ``b`` to each note of ``a``.
    lengths_b : ndarray[Nb]
        Length of each note of ``b`` (any unit, the same as ``needs_a``).
    needs_a : ndarray[Na]
        Length each note of ``a`` must fill.
    levels_b, levels_a : ndarray[Nb], ndarray[Na]
        Each note's level relative to its recording's (dB, :func:`_mean_level`).
    rise_b : ndarray[Nb], optional
        How far each note of ``b`` rises over the sound before it (dB,
        :func:`_rise_over_ringing`); by default every note is clean.

    Returns
    -------
    ndarray[Na] (int)

    Examples
    --------
    >>> shifts = np.array([[0.0, 1.0]])  # b's first note has a's pitch, its second is a semitone off
    >>> same = np.zeros(2), np.zeros(1)  # all notes equally loud
    >>> _choose_notes(shifts, np.array([100, 400]), np.array([400]), *same).tolist()  # 4x stretch vs 1 semitone
    [1]
    >>> _choose_notes(shifts, np.array([300, 400]), np.array([400]), *same).tolist()
    [0]
    >>> _choose_notes(shifts, np.array([300, 400]), np.array([400]), *same, np.array([0.0, 30.0])).tolist()
    [1]
    """
    lengths = np.asarray(lengths_b, dtype=np.float64)
    needs = np.asarray(needs_a, dtype=np.float64)
    stretch = np.maximum(0.0, np.log2(needs[:, None] / np.maximum(lengths[None], 1.0)))
    loudness = np.abs(np.asarray(levels_a)[:, None] - np.asarray(levels_b)[None]) / 10.0
    rise = np.full(len(lengths), RINGING_DB) if rise_b is None else np.asarray(rise_b, dtype=np.float64)
    ringing = np.maximum(0.0, RINGING_DB - rise)[None] / 10.0
    cost = (np.abs(semitones) + stretch_cost * stretch + level_cost * loudness + ringing_cost * ringing
            - 0.5 * lengths[None] / (lengths.max() + 1.0))
    return np.argmin(cost, axis=1)


def _sample_swap(notes_a: EncodedNotes, n_a: int, notes_b: EncodedNotes, b: np.ndarray, cqt_b: np.ndarray, *,
                 model_sr: int, hop: int, sr_b: int, sr_out: int, bins_per_semitone: float,
                 names_a: np.ndarray, names_b: np.ndarray, detune: float = 0.0) -> np.ndarray:
    """``a``'s notes played by ``b``'s own notes (see the module docstring).

    ``n_a`` is the length of ``a`` at ``model_sr``, ``b`` the mono signal at
    ``sr_b`` and ``cqt_b`` [n_bins, frames] its log-CQT at ``model_sr`` with
    ``hop``; ``names_a`` [Na] and ``names_b`` [Nb] are the notes' MIDI names
    (:meth:`v3music.notes.NoteEncoder.name_notes`, -1: none); ``detune`` (semitones,
    ``a``'s tuning minus ``b``'s) is added to every note's shift. Returns
    ndarray[round(n_a * sr_out / model_sr) + 1] at ``sr_out``.
    """
    release = int(RELEASE_SECONDS * model_sr)
    starts_a, ends_a = _note_spans(notes_a, n_a, release)
    starts_b, ends_b = _note_spans(notes_b, round(len(b) * model_sr / sr_b), release)
    for j in range(len(notes_b)):  # cut where a merged second note begins
        first = starts_b[j] // hop
        steady = steady_frames(cqt_b[:, first : ends_b[j] // hop + 1], bins_per_semitone=bins_per_semitone)
        ends_b[j] = min(ends_b[j], (first + steady) * hop)
    semitones, _ = note_transpositions(notes_a.fragments, notes_b.fragments, bins_per_semitone=bins_per_semitone,
                                       max_semitones=MAX_TRANSPOSITION)
    # Two instruments' spectra align less reliably than the notes of one recording agree on
    # names: where both notes are named, the interval is the difference of the names.
    by_name = (names_a[:, None] - names_b[None]).astype(np.float64)
    named = (names_a[:, None] >= 0) & (names_b[None] >= 0) & (np.abs(by_name) <= MAX_TRANSPOSITION)
    semitones = np.where(named, by_name, semitones)
    level_a = notes_a.peak_db - _mean_level(notes_a.peak_db)
    level_b = notes_b.peak_db - _mean_level(notes_b.peak_db)
    spans_b = np.round(np.stack([starts_b, ends_b]) * sr_b / model_sr).astype(np.int64)  # [2, Nb] at sr_b
    rise_b = _rise_over_ringing(b, spans_b[0], spans_b[1], sr_b)
    choice = _choose_notes(semitones, ends_b - starts_b, ends_a - starts_a, level_b, level_a, rise_b)
    decay = _decay_rate(b, spans_b[0], np.round(notes_b.note_offs * sr_b / model_sr).astype(np.int64), sr_b)
    out = np.zeros(round(n_a * sr_out / model_sr) + 1, np.float32)
    fade = max(1, int(SAMPLE_FADE_SECONDS * sr_out))
    for i, j in enumerate(choice):
        start = round(starts_a[i] * sr_out / model_sr)
        need = min(round(ends_a[i] * sr_out / model_sr), len(out)) - start
        lo, hi = spans_b[:, j]
        held = min(1.0, (notes_b.note_offs[j] - starts_b[j]) / max(1, ends_b[j] - starts_b[j]))
        piece = _fit_piece(b[lo:hi], need, float(semitones[i, j]), sr_b=sr_b, sr_out=sr_out, fade=fade,
                           detune=detune, held=held, decay=decay)
        out[start : start + len(piece)] += 10.0 ** ((level_a[i] - level_b[j]) / 20.0) * piece
    return out


def _fit_piece(piece: np.ndarray, need: int, semitones: float, *, sr_b: int, sr_out: int, fade: int,
               detune: float = 0.0, held: float = 0.0, decay: float | None = None) -> np.ndarray:
    """A note of ``b`` [samples at ``sr_b``] moved by ``semitones`` + ``detune`` and fitted to ``need``
    samples at ``sr_out``.

    Resampled, which moves it by ``semitones`` + ``detune`` (``detune``: the
    difference of two tunings) as a sampler transposes, pitch and length
    together; then lengthened if shorter, cut or zero-padded to ``need``, and
    faded out over its last ``fade`` samples. ``held`` is the share of the piece before its note-off:
    the sustain between the attack and the note-off is looped
    (:func:`_loop_sustain`, continuing ``decay`` dB/s, :func:`_decay_rate`,
    or by default the piece's own trend), or where it is too short to loop, the piece is
    stretched by the phase vocoder (its power kept, :func:`_same_power`). Returns
    ndarray[max(need, 0)] (float32).
    """
    if need <= 0 or len(piece) == 0:
        return np.zeros(max(need, 0), np.float32)
    piece = piece.astype(np.float32)
    if sr_b != sr_out or detune or semitones:  # a sampler's transposition: pitch and length move together
        piece = soxr.resample(piece, sr_b * 2.0 ** ((semitones + detune) / 12.0), sr_out)
    if len(piece) < need and len(piece) > 2048:
        note_off = int(held * len(piece))
        looped = _loop_sustain(piece, need, min(round(LOOP_ATTACK_SECONDS * sr_out), note_off // 3),
                               note_off - round(0.02 * sr_out), sr_out, decay)
        if looped is not None:
            piece = looped
        else:
            piece = _same_power(librosa.effects.time_stretch(piece, rate=len(piece) / need), piece)
    piece = np.pad(piece[:need], (0, max(0, need - len(piece))))
    piece[-fade:] *= np.linspace(1.0, 0.0, min(fade, len(piece)), dtype=np.float32)
    return piece


def _same_power(changed: np.ndarray, original: np.ndarray) -> np.ndarray:
    """``changed`` scaled to the mean power of ``original``: the phase vocoder loses about 1 dB on
    harmonic tones where it lengthens, and a stretch should not change a note's level."""
    return changed * np.float32(np.sqrt(np.mean(original**2) / max(float(np.mean(changed**2)), 1e-20)))


def _encode_in_tune(tm: TimbreModel, mono: np.ndarray) -> tuple[EncodedNotes, np.ndarray, float]:
    """The notes of ``mono`` [samples at the model's rate], found in its log-CQT [n_bins, frames]
    moved by its tuning (also returned, cents; 0.0 under :data:`v3music.tuning.MIN_TUNING_CENTS`),
    a quiet recording raised first (:func:`v3music.audio.for_analysis`)."""
    fe = tm.notes.frontend
    mono, _ = for_analysis(mono)
    cents = tuning_correction(mono, sr=fe.sample_rate)
    features = log_cqt(mono, tuned_frontend(fe, cents))
    return tm.notes.encode(mono, features=features), features, cents


def timbre_swap(a: np.ndarray, b: np.ndarray, sr: float, *, sr_b: float | None = None,
                model: TimbreModel | Path | str | None = None, method: str = "sample",
                out_sr: int | None = None, where_a: str = "a", where_b: str = "b") -> np.ndarray:
    """Play the notes of ``a`` with the timbre of ``b``.

    Parameters
    ----------
    a, b : ndarray[samples] or ndarray[samples, channels]
        The recording whose notes are kept, and the one whose instrument is taken.
    sr : float
        Sample rate of ``a`` in Hz (and of ``b`` unless ``sr_b``).
    sr_b : float, optional
        Sample rate of ``b`` in Hz.
    model : TimbreModel, path or str, optional
        A loaded :class:`TimbreModel`, a checkpoint file or a shipped name (default ``timbre``).
    method : str
        ``"sample"`` (default: ``b``'s own notes), ``"filter"`` (``a``'s spectrum
        reshaped; keeps every note of ``a``) or ``"griffinlim"`` (see the module docstring).
    out_sr : int, optional
        Sample rate of the result (default ``sr``).
    where_a, where_b : str
        Names of the inputs in error messages (e.g. their paths).

    Returns
    -------
    ndarray[samples] (float32, mono)
        ``a``'s length at ``out_sr``, peak at most 0.99 (scaled down if needed, never clipped).

    Raises
    ------
    InputError
        Invalid audio, no notes in ``a``, or ``b`` silent or without notes.

    Examples
    --------
    >>> t = np.arange(32000) / 16000
    >>> a = 0.5 * np.sin(2 * np.pi * 262 * t)                       # a pure C4
    >>> b = sum(0.3 / h * np.sin(2 * np.pi * 330 * h * t) for h in range(1, 8))  # a buzzy E4
    >>> y = timbre_swap(a, b, 16000)
    >>> y.shape, bool(np.abs(y).max() <= 0.99)
    ((32000,), True)
    """
    if method not in SWAP_METHODS:
        raise InputError(f"swap method {method!r} is not one of {', '.join(SWAP_METHODS)}")
    tm = model if isinstance(model, TimbreModel) else TimbreModel(model or DEFAULT_CHECKPOINT)
    sr_b = sr if sr_b is None else sr_b
    mono_a = _check_length(np.asarray(a), sr, where_a)
    mono_b = _check_length(np.asarray(b), sr_b, where_b)
    rate_b = tm.at_model_rate(mono_b, sr_b, where=where_b)
    notes_b, cqt_b, cents_b = _encode_in_tune(tm, rate_b)
    style_b = tm.pool(notes_b, float(np.abs(rate_b).max()), where_b)
    rate_a = tm.at_model_rate(mono_a, sr, where=where_a)
    notes_a, _, cents_a = _encode_in_tune(tm, rate_a)
    if len(notes_a) == 0:
        if np.abs(rate_a).max() < 1e-5:
            raise InputError(f"{where_a}: the audio is silent, so there are no notes to play")
        raise InputError(f"{where_a}: no notes found, so there is nothing to play")
    fe = tm.notes.frontend
    sr_a = round(sr)
    rate_out = out_sr or sr_a
    filtered = _filter_swap(tm, mono_a, sr_a, notes_a, style_b, method="griffinlim" if method == "griffinlim" else
                            "filter")
    if rate_out != sr_a:
        filtered = soxr.resample(filtered, sr_a, rate_out)
    length = round(len(mono_a) * rate_out / sr_a)
    filtered = np.pad(filtered[:length], (0, max(0, length - len(filtered))))
    if method != "sample":
        return _limit_peak(filtered)
    # a held note that the detector cut where its spectrum flickered is played once, as transcribed
    attack = round(OCTAVE_ATTACK_SECONDS * fe.sample_rate)
    notes_a, names_a = join_unarticulated(notes_a, tm.notes.name_notes(notes_a), gap=fe.hop_length, attack=attack)
    notes_b, names_b = join_unarticulated(notes_b, tm.notes.name_notes(notes_b), gap=fe.hop_length, attack=attack)
    out = _sample_swap(notes_a, len(rate_a), notes_b, mono_b, cqt_b, model_sr=fe.sample_rate,
                       hop=fe.hop_length, sr_b=round(sr_b), sr_out=rate_out,
                       bins_per_semitone=fe.bins_per_octave / 12.0, names_a=names_a, names_b=names_b,
                       detune=(cents_a - cents_b) / 100.0)
    out = np.pad(out[:length], (0, max(0, length - len(out))))
    return _limit_peak(blend_magnitudes(out, filtered, rate_out, share=FILTER_SHARE))


def _filter_swap(tm: TimbreModel, mono_a: np.ndarray, sr_a: int, notes_a: EncodedNotes, style_b: np.ndarray, *,
                 method: str) -> np.ndarray:
    """``a`` [samples] at ``sr_a`` reshaped by the model's change of timbre (``"filter"`` or ``"griffinlim"``).

    ``"filter"`` works in blocks of :data:`BLOCK_SECONDS` (:func:`_stft_blocks`);
    Griffin-Lim needs the whole signal at once. Returns ndarray[samples] at
    ``sr_a``, not peak-limited.
    """
    fe = tm.notes.frontend
    n_fft = int(2 ** np.ceil(np.log2(N_FFT_SECONDS * sr_a)))
    hop = n_fft // 4
    length = max(len(mono_a), n_fft)  # the STFT needs >= n_fft / 2
    curves = _note_curves(swap_gains(tm, notes_a, style_b), notes_a, model_sr=fe.sample_rate,
                          n_frames=1 + length // hop, frame_rate=sr_a / hop,
                          fragment_seconds=tm.notes.config.fragment_seconds)

    def log_gain(first: int, count: int) -> np.ndarray:  # [n_fft // 2 + 1, count], natural log amplitude
        return _bins_to_stft(curves[:, first : first + count], fmin_midi=fe.fmin_midi,
                             bins_per_octave=fe.bins_per_octave, sr=sr_a, n_fft=n_fft)

    if method == "griffinlim":
        spec = _stft(np.pad(mono_a, (0, length - len(mono_a))), n_fft, hop)
        return _griffin_lim(spec, log_gain(0, spec.shape[1]), n_fft=n_fft, hop=hop, length=length)[: len(mono_a)]

    def reshape(specs: list[torch.Tensor], first: int) -> torch.Tensor:
        return specs[0] * _gain(log_gain(first, specs[0].shape[1]))

    return _stft_blocks([mono_a], reshape, n_fft=n_fft, hop=hop, block=round(BLOCK_SECONDS * sr_a))


def blend_magnitudes(main: np.ndarray, other: np.ndarray, sr: int, *, share: float,
                     block_seconds: float | None = None) -> np.ndarray:
    """``main`` with its STFT magnitude moved ``share`` of the way (in log amplitude) to ``other``'s.

    Each time-frequency cell of ``main`` [samples] is scaled by
    ``(|other| / |main|) ** share`` (at most :data:`MAX_GAIN_DB` either way);
    ``main``'s phase is kept. ``other`` has ``main``'s length and rate ``sr``
    (Hz). Returns ndarray[samples] (float32), a weighted geometric mean of the
    two magnitudes: where two estimates of one sound err in different ways,
    their mean in log amplitude errs less than either. The signal is done in
    blocks of ``block_seconds`` (default :data:`BLOCK_SECONDS`; the result is
    the same as in one piece, :func:`_stft_blocks`) to bound memory.

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> quiet, loud = 0.1 * np.sin(2 * np.pi * 440 * t), 0.4 * np.sin(2 * np.pi * 440 * t)
    >>> y = blend_magnitudes(quiet, loud, 16000, share=0.5)  # halfway in dB: twice as loud
    >>> round(float(np.sqrt(np.mean(y[4000:12000] ** 2)) / np.sqrt(np.mean(quiet[4000:12000] ** 2))), 2)
    2.0
    """
    if share <= 0.0:
        return np.asarray(main, dtype=np.float32)
    n_fft = int(2 ** np.ceil(np.log2(N_FFT_SECONDS * sr)))
    tiny = 1e-9

    def blend(specs: list[torch.Tensor], first: int) -> torch.Tensor:
        spec_main, spec_other = specs
        log_gain = share * (torch.log(spec_other.abs() + tiny) - torch.log(spec_main.abs() + tiny))
        return spec_main * _gain(log_gain.numpy())

    seconds = BLOCK_SECONDS if block_seconds is None else block_seconds
    return _stft_blocks([main, other], blend, n_fft=n_fft, hop=n_fft // 4, block=round(seconds * sr))


def _stft_blocks(signals: list[np.ndarray], change: Callable[[list[torch.Tensor], int], torch.Tensor], *,
                 n_fft: int, hop: int, block: int) -> np.ndarray:
    """Change the STFT of a signal block by block, in bounded memory.

    ``signals`` are equally long [samples]; for each block of about ``block``
    samples (a multiple of ``hop``), with ``n_fft`` samples more on either
    side, ``change(specs, first)`` gets their STFTs (:func:`_stft`) and the
    index of the block's first frame in the whole signal's STFT, and returns
    one spectrogram, which is inverted; each block keeps its middle part.
    Every frame that reaches that part lies inside the block, so the result
    is the whole signal's, changed in one piece. Returns ndarray[samples] (float32).
    """
    n = len(signals[0])
    block = max(hop, block // hop * hop)
    out = np.empty(n, np.float32)
    for start in range(0, n, block):
        lo, hi = max(start - n_fft, 0), min(start + block + n_fft, n)
        length = max(hi - lo, n_fft)  # the STFT needs >= n_fft / 2
        specs = [_stft(np.pad(x[lo:hi], (0, length - (hi - lo))), n_fft, hop) for x in signals]
        y = torch.istft(change(specs, lo // hop), n_fft, hop_length=hop, window=torch.hann_window(n_fft),
                        length=length).numpy()
        stop = min(start + block, n)
        out[start:stop] = y[start - lo : stop - lo]
    return out


def _limit_peak(out: np.ndarray) -> np.ndarray:
    """``out`` as float32, scaled down to a peak of 0.99 if louder (never clipped)."""
    peak = float(np.abs(out).max()) if out.size else 0.0
    if peak > 0.99:
        out = out * (0.99 / peak)
    return np.ascontiguousarray(out, dtype=np.float32)


def _check_length(audio: np.ndarray, sr: float, where: str) -> np.ndarray:
    """Validate a signal (see :func:`v3music.audio.check_audio`) and its length; return it mono."""
    mono = check_audio(audio, sr, where=where)
    if len(mono) / sr > MAX_SWAP_SECONDS:
        raise InputError(f"{where}: {len(mono) / sr / 60:.0f} min of audio is longer than the "
                         f"{MAX_SWAP_SECONDS / 60:.0f} min a timbre swap takes; cut it first")
    return mono


def _read(path: Path) -> tuple[np.ndarray, int]:
    """Read a file as mono at its own rate, refusing one too long to swap in memory."""
    with _open(path) as handle:
        sr, seconds = int(handle.samplerate), handle.frames / handle.samplerate
    if seconds > MAX_SWAP_SECONDS:
        raise InputError(f"{path}: {seconds / 60:.0f} min of audio is longer than the "
                         f"{MAX_SWAP_SECONDS / 60:.0f} min a timbre swap takes; cut it first")
    return load_audio(path, sr=sr), sr


def timbre_swap_file(a_path: Path | str, b_path: Path | str, *, model: TimbreModel | Path | str | None = None,
                     method: str = "sample", out_sr: int | None = None) -> tuple[np.ndarray, int]:
    """Swap timbres between two audio files; return (audio [samples], sample rate in Hz).

    The result has ``a``'s sample rate unless ``out_sr``.

    Examples
    --------
    >>> import tempfile
    >>> t = np.arange(22050) / 22050  # 1 s at 22.05 kHz
    >>> a = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, mellow
    >>> b = 0.2 * sum(np.sin(2 * np.pi * k * 392 * t) for k in range(1, 9)) / 4  # G4, bright
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sf.write(f"{folder}/a.wav", a, 22050)
    ...     sf.write(f"{folder}/b.flac", b, 22050)
    ...     y, sr = timbre_swap_file(f"{folder}/a.wav", f"{folder}/b.flac")
    >>> sr, y.shape, y.dtype
    (22050, (22050,), dtype('float32'))
    """
    a_path, b_path = Path(a_path), Path(b_path)
    a, sr_a = _read(a_path)
    b, sr_b = _read(b_path)
    out = timbre_swap(a, b, sr_a, sr_b=sr_b, model=model, method=method, out_sr=out_sr,
                      where_a=str(a_path), where_b=str(b_path))
    return out, out_sr or sr_a


def timbre_swap_file_to_file(a_path: Path | str, b_path: Path | str, out: Path | str, *,
                             model: TimbreModel | Path | str | None = None, method: str = "sample",
                             out_sr: int | None = None) -> Path:
    """Swap timbres between two files and write a 16-bit WAV ``out`` atomically (nothing left on error).

    Examples
    --------
    >>> import tempfile
    >>> t = np.arange(22050) / 22050  # 1 s at 22.05 kHz
    >>> a = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, mellow
    >>> b = 0.2 * sum(np.sin(2 * np.pi * k * 392 * t) for k in range(1, 9)) / 4  # G4, bright
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sf.write(f"{folder}/a.wav", a, 22050)
    ...     sf.write(f"{folder}/b.wav", b, 22050)
    ...     out = timbre_swap_file_to_file(f"{folder}/a.wav", f"{folder}/b.wav", f"{folder}/a_as_b.wav")
    ...     print(out.name, sf.info(out).samplerate)
    a_as_b.wav 22050
    """
    audio, sr = timbre_swap_file(a_path, b_path, model=model, method=method, out_sr=out_sr)
    return atomic_write(Path(out), lambda tmp: sf.write(tmp, audio, sr, subtype="PCM_16", format="WAV"))
