"""Tuning: how far a recording's instrument lies off A440, and a front end that follows it.

Players are rarely tuned to A440 exactly: an orchestra at A442 is 8 cents
sharp, a baroque ensemble or a guitar tuned by ear may be 20-40 cents away.
The log-CQT has two bins per semitone, so a note 40 cents sharp falls
almost a bin above where the model learnt it, and some notes are named a
semitone high. :func:`estimate_tuning` measures the offset from the
recording's own partials; :func:`tuned_frontend` moves the CQT's bins by it,
so the notes land on the bins of the A440 notes the model learnt (research
log T111).
"""

from __future__ import annotations

import dataclasses

import librosa
import numpy as np

from v3.errors import InputError

from .frontend import FrontEndConfig

__all__ = ["MIN_TUNING_CENTS", "TUNING_STEP_CENTS", "estimate_tuning", "tuned_frontend", "tuning_correction"]

#: An estimated offset smaller than this (cents) is not corrected: on renders tuned to A440 the
#: estimate itself errs by up to 8 cents (12 under a 30-cent vibrato), research log T111.
MIN_TUNING_CENTS = 12.0
#: The CQT's bins are moved in steps of this many cents (at most 2.5 cents from the estimate, a
#: twentieth of a bin), so a few front ends serve every tuning (each costs 40 ms to build).
TUNING_STEP_CENTS = 5.0
#: Partials are read from an STFT of this many samples, frames taken end to end (no overlap:
#: the offset is one figure for the whole signal, so time resolution buys nothing).
_N_FFT = 2048
_FMIN_HZ, _FMAX_HZ = 50.0, 4000.0


def estimate_tuning(y: np.ndarray, *, sr: float) -> float:
    """Offset of a signal's partials from the equal-tempered A440 grid, in cents.

    Each STFT frame's spectral peaks between 50 Hz and 4 kHz
    (:func:`librosa.piptrack`) give their distance from the nearest
    semitone of A440; the louder half of the peaks are averaged on the
    circle of semitones (a distance of +49 cents and one of -49 cents are 2
    cents apart), weighted by their magnitude. Unlike
    :func:`librosa.estimate_tuning` (the most common distance), the mean is
    not pulled to the edges of a vibrato, where the pitch dwells longest.

    Parameters
    ----------
    y : ndarray[samples]
        Mono audio.
    sr : float
        Its sample rate, Hz.

    Returns
    -------
    float
        Cents in [-50, 50]: positive when the instrument is sharp. 0.0 for a
        signal with no spectral peaks (silence).

    Examples
    --------
    A tone 25 cents above A4 (440 Hz), with 4 harmonics:

    >>> sr = 16000
    >>> t = np.arange(2 * sr) / sr
    >>> f0 = 440.0 * 2 ** (25 / 1200)
    >>> y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 5))
    >>> cents = estimate_tuning(y, sr=sr)
    >>> abs(cents - 25) < 2  # the peaks' interpolation errs by a cent or so
    True
    >>> estimate_tuning(np.zeros(sr), sr=sr)
    0.0
    """
    if y.ndim != 1:
        raise InputError(f"audio must be mono [samples], got shape {y.shape}")
    spectrum = np.abs(librosa.stft(np.asarray(y, np.float32), n_fft=_N_FFT, hop_length=_N_FFT))
    frequencies, magnitudes = librosa.piptrack(S=spectrum, sr=sr, fmin=_FMIN_HZ, fmax=min(_FMAX_HZ, sr / 2),
                                               threshold=0.1)
    peaks = magnitudes > 0
    if not peaks.any():
        return 0.0
    loud = peaks & (magnitudes > np.median(magnitudes[peaks]))
    if not loud.any():
        loud = peaks
    semitones = 12.0 * np.log2(frequencies[loud] / 440.0)
    weights = magnitudes[loud]
    mean = np.sum(weights * np.exp(2j * np.pi * semitones)) / np.sum(weights)
    return float(100.0 * np.angle(mean) / (2.0 * np.pi))


def tuning_correction(y: np.ndarray, *, sr: float) -> float:
    """Cents by which to move the CQT's bins for ``y`` [samples]: :func:`estimate_tuning`, or 0.0 when
    that lies within :data:`MIN_TUNING_CENTS` of A440.

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> tone = lambda cents: np.sin(2 * np.pi * 440.0 * 2 ** (cents / 1200) * t)
    >>> tuning_correction(tone(6.0), sr=16000), abs(tuning_correction(tone(30.0), sr=16000) - 30) < 2
    (0.0, True)
    """
    cents = estimate_tuning(y, sr=sr)
    return cents if abs(cents) >= MIN_TUNING_CENTS else 0.0


def tuned_frontend(config: FrontEndConfig, cents: float) -> FrontEndConfig:
    """The front end with every CQT bin moved by ``cents``, in steps of :data:`TUNING_STEP_CENTS`.

    A note played ``cents`` sharp then lands on the bins where the
    untuned front end puts the A440 note.

    Examples
    --------
    >>> tuned_frontend(FrontEndConfig(), 23.4).fmin_midi  # C2 (MIDI 36) + 25 cents
    36.25
    >>> tuned_frontend(FrontEndConfig(), 2.0) == FrontEndConfig()
    True
    """
    step = round(cents / TUNING_STEP_CENTS) * TUNING_STEP_CENTS
    return dataclasses.replace(config, fmin_midi=round(config.fmin_midi + step / 100.0, 2))
