"""Where a note's own partials began to rise: onsets that a previous note's release hides or blurs.

The note detector (:mod:`v3music.segment`) finds onsets in the level and flux
of the whole spectrum. When a soft note follows a loud one, the loud note's
release still fills the spectrum as the new note begins, and the level rises
only once the new note is the louder of the two: the onset is found late (a
saxophone C#2 after a loud F4: 105 ms). Once the new note has a name, its own
partials tell when it began: the energy in the STFT bins of its harmonics
that no harmonic of the previous note shares rises from the previous note's
floor to the new note's peak. :func:`partial_rise_starts` moves a start back
to where that energy came within :data:`START_BELOW_PEAK_DB` of its peak, or
passed half its rise (research log T119). A legato start that the detector
placed early, on the flux of the note before, moves later to that point in
the same way (T121).
"""

from __future__ import annotations

import librosa
import numpy as np

__all__ = ["partial_bins", "partial_rise_starts", "partial_trace"]

#: STFT of the partial trace, at 16 kHz: 64 ms windows (15.6 Hz bins), 4 ms hops.
PARTIAL_FFT_SECONDS = 0.064
PARTIAL_HOP_SECONDS = 0.004
#: Harmonics of a note summed in its trace, those under PARTIAL_MAX_HZ only.
PARTIAL_HARMONICS = 8
PARTIAL_MAX_HZ = 4000.0
#: A bin within this many bins of a harmonic of the previous note is left out of the trace.
SHARED_BINS = 1.5
#: Only a note that begins at most FOLLOW_GAP_SECONDS after the previous note ends is tried.
FOLLOW_GAP_SECONDS = 0.3
#: How far back from the found start the rise is looked for, and how far after it the peak (so
#: also the most a start can move later).
RISE_SEARCH_SECONDS = 0.25
RISE_PEAK_SECONDS = 0.1
#: The start is the first frame, after the trace's lowest point, within START_BELOW_PEAK_DB of the
#: peak, or past START_RISE_FRACTION of the rise from the lowest point to the peak (in dB) where that
#: comes first: a slow attack, rising 40 dB, is timed where it left the floor rather than near its peak.
START_BELOW_PEAK_DB = 12.0
START_RISE_FRACTION = 0.5


def partial_bins(pitch: float, *, sample_rate: int, n_fft: int, harmonics: int = PARTIAL_HARMONICS,
                 max_hz: float = PARTIAL_MAX_HZ) -> np.ndarray:
    """Fractional STFT bins [H'] of the first ``harmonics`` harmonics of MIDI ``pitch`` under ``max_hz``.

    Examples
    --------
    >>> partial_bins(69.0, sample_rate=16000, n_fft=1024, harmonics=3)  # A4: 440, 880, 1320 Hz
    array([28.16, 56.32, 84.48])
    """
    hz = float(librosa.midi_to_hz(pitch)) * np.arange(1, harmonics + 1)
    hz = hz[hz < min(max_hz, sample_rate / 2.0)]
    return hz * n_fft / sample_rate


def partial_trace(audio: np.ndarray, *, sample_rate: int, pitch: float, previous: float | None = None,
                  n_fft: int, hop: int) -> np.ndarray:
    """Energy (dB) over time [frames] of the harmonics of MIDI ``pitch`` that no harmonic of ``previous``
    shares (within :data:`SHARED_BINS`); frame j is centred on sample ``j * hop`` of ``audio``
    (mono, float). Empty when every harmonic is shared.

    Examples
    --------
    A4 starting halfway through a second of audio:

    >>> sr = 16000
    >>> t = np.arange(sr) / sr
    >>> y = np.where(t >= 0.5, np.sin(2 * np.pi * 440 * t), 0.0)
    >>> trace = partial_trace(y, sample_rate=sr, pitch=69, n_fft=1024, hop=64)
    >>> bool(trace[:100].max() < trace[150:].min() - 40)  # frames 0-99: windows that end by 0.43 s
    True
    """
    mine = partial_bins(pitch, sample_rate=sample_rate, n_fft=n_fft)
    if previous is not None:
        theirs = partial_bins(previous, sample_rate=sample_rate, n_fft=n_fft, harmonics=2 * PARTIAL_HARMONICS)
        if theirs.size:
            mine = np.array([b for b in mine if np.min(np.abs(theirs - b)) > SHARED_BINS])
    if mine.size == 0:
        return np.zeros(0)
    bins = np.unique(np.round(mine).astype(np.int64))
    spectrum = librosa.stft(np.asarray(audio, dtype=np.float32), n_fft=n_fft, hop_length=hop, center=True,
                            pad_mode="constant")[bins]
    return 10.0 * np.log10((np.abs(spectrum) ** 2).sum(axis=0) + 1e-12)


def partial_rise_starts(audio: np.ndarray, starts: np.ndarray, ends: np.ndarray, pitches: np.ndarray, *,
                        sample_rate: int, cents: float = 0.0) -> np.ndarray:
    """Note starts [N] (samples), each moved to where the note's own partials rose.

    A note k is tried when it follows note k - 1 within
    :data:`FOLLOW_GAP_SECONDS` at another pitch. Its :func:`partial_trace`
    (the previous note's harmonics left out) is read from
    :data:`RISE_SEARCH_SECONDS` before its start (never before the previous
    note's start) to :data:`RISE_PEAK_SECONDS` after it; the peak is the
    trace's highest point from the start on. Where the trace's lowest point
    before its peak is not the span's first frame (a rise that began before
    the span cannot be timed) and lies at least :data:`START_BELOW_PEAK_DB`
    under the peak, the new start is the first frame after the last one under
    the peak by the larger of :data:`START_BELOW_PEAK_DB` and
    ``1 - START_RISE_FRACTION`` of the rise: earlier than the found start
    (T119) or later, by at most :data:`RISE_PEAK_SECONDS` (T121).

    Parameters
    ----------
    audio : ndarray[samples]
        Mono audio at ``sample_rate`` Hz.
    starts, ends : ndarray[N] (int)
        Where each note begins and ends, in samples, in time order.
    pitches : ndarray[N] (int)
        MIDI name of each note.
    cents : float
        The recording's tuning: the partials of MIDI p lie at p + cents / 100.

    Examples
    --------
    A loud A4 whose tail rings on while a soft C3 begins at 0.5 s; the
    detector reported the C3 at 0.6 s:

    >>> sr = 16000
    >>> t = np.arange(sr) / sr
    >>> a4 = np.exp(-6 * t) * sum(np.sin(2 * np.pi * 440 * k * t) / k for k in (1, 2, 3))
    >>> c3 = np.where(t >= 0.5, 0.1 * sum(np.sin(2 * np.pi * 130.8 * k * t) / k for k in (1, 2, 3)), 0.0)
    >>> starts = partial_rise_starts(a4 + c3, np.array([0, 9600]), np.array([8000, 16000]), np.array([69, 48]),
    ...                              sample_rate=sr)
    >>> float(starts[1] / sr)  # 14 ms before the true 0.5 s: the window's lead
    0.486
    """
    starts = np.asarray(starts, dtype=np.int64).copy()
    n_fft = round(PARTIAL_FFT_SECONDS * sample_rate)
    hop = max(round(PARTIAL_HOP_SECONDS * sample_rate), 1)
    back = int(RISE_SEARCH_SECONDS * sample_rate)
    ahead = int(RISE_PEAK_SECONDS * sample_rate)
    tuning = cents / 100.0
    context = (n_fft // 2 + hop - 1) // hop  # frames before the span read only to centre its first windows
    for k in range(1, len(starts)):
        start = int(starts[k])
        if pitches[k] == pitches[k - 1] or start - int(ends[k - 1]) > FOLLOW_GAP_SECONDS * sample_rate:
            continue
        lo = max(start - back, int(starts[k - 1]) + hop, 0)
        hi = min(start + ahead, len(audio))
        if start - lo < 2 * hop or hi - start < hop:
            continue
        # frames centred on lo, lo + hop, ...: the window's own audio on both sides, zeros beyond the file
        first_sample = lo - context * hop
        segment = audio[max(first_sample, 0) : hi + n_fft // 2]
        segment = np.pad(segment, (max(-first_sample, 0), 0))
        trace = partial_trace(segment, sample_rate=sample_rate, pitch=float(pitches[k]) + tuning,
                              previous=float(pitches[k - 1]) + tuning, n_fft=n_fft, hop=hop)
        trace = trace[context : context + (hi - lo) // hop + 1]
        if trace.size == 0:
            continue
        first = (start - lo) // hop  # the frame of the found start
        peak = first + int(np.argmax(trace[first:]))
        lowest = int(np.argmin(trace[: peak + 1]))
        if lowest == 0:  # the rise began before the span
            continue
        rise = trace[peak] - trace[lowest]
        if rise < START_BELOW_PEAK_DB:
            continue
        level = trace[peak] - max(START_BELOW_PEAK_DB, (1.0 - START_RISE_FRACTION) * rise)
        under = np.flatnonzero(trace[lowest : peak + 1] <= level)
        if under.size == 0:  # only where rounding puts the level a hair under the lowest point
            continue
        starts[k] = lo + (lowest + int(under[-1]) + 1) * hop
    return starts
