"""Transcription bench: v3 against a pYIN baseline on melodies of unseen instruments.

Run from the repository root::

    python bench/transcribe.py [--checkpoint NAME] [--n-melodies N] [--seed S] [--out results.json]

1. **Dev set.** ``--n-melodies`` monophonic melodies (10-15 s each) generated
   from ``--seed``: free rhythm (note durations 0.1-2 s, log-uniform), rests,
   legato and detached notes, repeated notes, velocities 40-127, pitches in
   ``--low``..``--high`` (MIDI); or, with ``--style song``, tunes in metre
   (70-160 BPM, eighth to whole notes, phrases with one articulation each,
   steps and leaps in a major or minor scale). Each is rendered with one General MIDI program
   that the shipped model never heard (``--programs``, cycled over the
   melodies) through midirenderer and the TimGM6mb SoundFont; programs
   128-132 are instead the bench's own synthesisers (:data:`VOICES`,
   :func:`render_voice`), which no SoundFont holds. The reference
   notes are the rendered MIDI's (onset, note-off, written pitch).
2. **Systems**, in one process on the same audio: ``v3``
   (:class:`v3music.transcribe.Transcriber`) and ``pyin``, the baseline defined
   in this file (:func:`pyin_f0` + :func:`segment_notes`).
3. **Scores** (mir_eval, **mean over melodies**): note F1 with onsets within
   50 ms and pitch within 50 cents (``offset_ratio=None``); the same with
   offsets too (``offset_ratio=0.2``, at least 50 ms); onset-only F1 (pitch
   ignored); frame-level raw pitch accuracy and overall accuracy of the notes
   drawn as 10 ms f0 series. Plus note F1 per program.
4. **Speed**: audio seconds per wall second (``time.perf_counter``) of each
   system, warm (one short clip first, so model loading and numba/torch
   start-up are excluded), systems interleaved melody by melody so that load
   from other processes hits both alike. Torch threads are left at the
   default and printed, with the load average.
5. A plain-text table (systems, and v3/pyin ratios) on stdout; all numbers,
   per melody too, in ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import librosa
import mir_eval
import numpy as np
import pretty_midi
import torch

from v3.fileio import atomic_write
from v3music.melodies import melody_midi, random_melody, song_melody
from v3music.segment import DEFAULT_ONSET_SENSITIVITY
from v3music.synth import INSNOTES_PROGRAMS, render_midi
from v3music.transcribe import DEFAULT_CHECKPOINT, Transcriber

#: Unseen GM programs (0-based), spread over families: Acoustic Grand Piano,
#: Electric Piano 1, Vibraphone, Acoustic Guitar (nylon), Violin, Cello,
#: Alto Sax, Flute.
DEFAULT_PROGRAMS: tuple[int, ...] = (0, 4, 11, 24, 40, 42, 65, 73)

#: Sounding range (MIDI) of the real instruments behind the default GM programs, from
#: orchestration tables: a SoundFont plays a flute C2 from a sample transposed two octaves down,
#: with an attack slowed alike, but no flute plays it. ``--playable`` keeps each program's melodies
#: within its range (and within --low/--high); programs not listed keep --low/--high.
PLAYABLE_RANGES: dict[int, tuple[int, int]] = {
    0: (21, 108),  # Acoustic Grand Piano, A0-C8
    4: (28, 100),  # Electric Piano 1 (a 73-key Rhodes), E1-E7
    11: (53, 89),  # Vibraphone, F3-F6
    24: (40, 83),  # Acoustic Guitar (nylon), E2-B5
    40: (55, 103),  # Violin, G3-G7
    42: (36, 81),  # Cello, C2-A5
    65: (49, 81),  # Alto Sax, Db3-A5
    73: (60, 96),  # Flute, C4-C7
}

ONSET_TOLERANCE = 0.05  # seconds
PITCH_TOLERANCE = 50.0  # cents
OFFSET_RATIO = 0.2
FRAME_HOP = 0.01  # seconds, grid of the frame-level f0 series
WARMUP_SECONDS = 2.0

#: Metric keys in table order, with their column titles.
METRICS: dict[str, str] = {
    "note_f1": "note F1",
    "note_offset_f1": "note+off F1",
    "onset_f1": "onset F1",
    "raw_pitch_accuracy": "raw pitch",
    "overall_accuracy": "overall acc",
    "speed_x_realtime": "x realtime",
}

#: A system maps (audio [samples], sr in Hz) to notes.
System = Callable[[np.ndarray, int], "NoteList"]


@dataclass(frozen=True)
class NoteList:
    """Notes as mir_eval wants them.

    Attributes
    ----------
    intervals : np.ndarray
        ``[n, 2]`` onset and offset, seconds.
    pitches : np.ndarray
        ``[n]`` MIDI note numbers.
    """

    intervals: np.ndarray
    pitches: np.ndarray

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[float, float, float]]) -> NoteList:
        """From (onset s, offset s, MIDI pitch) rows."""
        arr = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
        return cls(arr[:, :2].copy(), arr[:, 2].copy())

    def __len__(self) -> int:
        return len(self.pitches)


@dataclass(frozen=True)
class Melody:
    """One rendered dev-set melody and its reference notes."""

    name: str
    program: int
    audio: np.ndarray  # [samples], float32
    sr: int
    reference: NoteList

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sr


# --------------------------------------------------------------------------
# Dev set
# --------------------------------------------------------------------------


def playable_range(program: int, low: int, high: int) -> tuple[int, int]:
    """``low``-``high`` (MIDI) narrowed to ``program``'s :data:`PLAYABLE_RANGES`; unchanged where the
    program has none listed or the two do not overlap.

    >>> playable_range(73, 36, 84), playable_range(0, 36, 84), playable_range(129, 36, 84)
    ((60, 84), (36, 84), (36, 84))
    """
    lo, hi = PLAYABLE_RANGES.get(program, (low, high))
    lo, hi = max(lo, low), min(hi, high)
    return (lo, hi) if lo <= hi else (low, high)


def make_dev_set(
    n_melodies: int,
    *,
    seed: int,
    low: int = 60,
    high: int = 71,
    programs: Sequence[int] = DEFAULT_PROGRAMS,
    sr: int = 16000,
    seconds: tuple[float, float] = (10.0, 15.0),
    noise_snr_db: float | None = None,
    reverb_seconds: float | None = None,
    hum_snr_db: float | None = None,
    detune_cents: float = 0.0,
    vibrato_cents: float = 0.0,
    style: str = "free",
    soundfont: Path | None = None,
    expression_db: float = 0.0,
    playable: bool = False,
) -> list[Melody]:
    """Render ``n_melodies`` random melodies; melody ``i`` uses ``programs[i % len]``.

    Programs 0-127 are rendered with ``soundfont`` (default: TimGM6mb), programs
    of :data:`VOICES` with the bench's own synthesisers.

    ``style`` ``"free"``: free rhythm (:func:`v3music.melodies.random_melody`);
    ``"song"``: metre, scales and phrases (:func:`v3music.melodies.song_melody`).

    Everything is drawn from ``numpy.random.default_rng(seed)``, so a seed
    gives the same melodies (and, with the same SoundFont, the same audio).
    ``reverb_seconds`` (RT60) convolves each render with a synthetic room
    (exponentially decaying noise, 30 % wet); ``noise_snr_db`` then adds
    white noise at that signal-to-noise ratio (against the melody's RMS), and
    ``hum_snr_db`` mains hum (:func:`mains_hum`) that far under the melody's
    RMS. They draw from their own generator, so the melodies stay those of ``seed``.
    ``detune_cents`` tunes each melody's instrument off A440 by a random
    amount up to that many cents either way, and ``vibrato_cents`` adds a
    vibrato of that depth at 5-6 Hz (both as MIDI pitch bends, from their own
    generator); the reference keeps the written pitches. ``expression_db``
    shapes the loudness inside each note (:func:`add_expression`; programs
    0-127 only), from its own generator too. ``playable`` keeps each
    program's melodies within its real instrument's range
    (:data:`PLAYABLE_RANGES`, intersected with ``low``-``high``).
    """
    rng = np.random.default_rng(seed)
    dev = []
    for i in range(n_melodies):
        program = int(programs[i % len(programs)])
        lo, hi = playable_range(program, low, high) if playable else (low, high)
        rows = MELODY_STYLES[style](rng, low=lo, high=hi, seconds=float(rng.uniform(*seconds)))
        pm = melody_midi(rows, program)
        if detune_cents or vibrato_cents:
            add_pitch_bends(pm, np.random.default_rng([seed, i, 1]), detune_cents=detune_cents,
                            vibrato_cents=vibrato_cents)
        if expression_db:
            add_expression(pm, np.random.default_rng([seed, i, 2]), depth_db=expression_db)
        dry = render_voice(rows, program, sr) if program in VOICES else render_midi(pm, soundfont=soundfont, sr=sr)
        audio = degrade(dry, sr, np.random.default_rng([seed, i]),
                        noise_snr_db=noise_snr_db, reverb_seconds=reverb_seconds, hum_snr_db=hum_snr_db)
        # the reference is read back from the MIDI that was rendered, less the notes the
        # SoundFont has no sound for (no system can hear those)
        ref = NoteList.from_rows([(n.start, n.end, n.pitch) for n in pm.instruments[0].notes
                                  if program in VOICES or sounds(program, n.pitch, soundfont)])
        dev.append(Melody(f"m{i:03d}-p{program:03d}", program, audio, sr, ref))
    return dev


@functools.cache
def sounds(program: int, pitch: int, soundfont: Path | None = None) -> bool:
    """Whether ``soundfont`` (default: TimGM6mb) plays MIDI ``pitch`` on GM ``program`` at all.

    A lone 0.4 s note at velocity 100 is rendered; a peak under -80 dBFS
    counts as silence. TimGM6mb, for one, has no sample for the alto sax's E4
    (program 65, pitch 64), so a melody's E4 there is not in the audio.
    """
    audio = render_midi(melody_midi([(0.0, 0.4, int(pitch), 100)], int(program)), soundfont=soundfont, sr=16000)
    return bool(audio.size) and float(np.abs(audio).max()) >= 1e-4


MELODY_STYLES = {"free": random_melody, "song": song_melody}

#: Instruments that are not in any SoundFont: numpy synthesisers, chosen with ``--programs``
#: numbers above the GM range, to check that v3 is not tuned to TimGM6mb's samples.
VOICES: dict[int, str] = {128: "Pluck (Karplus-Strong)", 129: "FM electric piano", 130: "Reed (additive)",
                          131: "Bowed (sawtooth, vibrato)", 132: "Sung vowel (source-filter)"}
#: Time constant (s) of each voice's exponential release after a note-off.
VOICE_RELEASE_SECONDS: dict[int, float] = {128: 0.08, 129: 0.15, 130: 0.06, 131: 0.12, 132: 0.1}
#: Formant frequencies and bandwidths (Hz) of the sung vowels of voice 132 (a, e, i, o, u; F1-F3
#: of an adult voice, after Peterson & Barney's averages).
VOWEL_FORMANTS: tuple[tuple[tuple[float, float, float], ...], ...] = (
    ((800.0, 80.0, 1.0), (1150.0, 90.0, 0.5), (2900.0, 120.0, 0.25)),
    ((400.0, 70.0, 1.0), (1700.0, 90.0, 0.4), (2600.0, 120.0, 0.25)),
    ((300.0, 60.0, 1.0), (2200.0, 100.0, 0.3), (3000.0, 120.0, 0.2)),
    ((450.0, 70.0, 1.0), (800.0, 80.0, 0.6), (2830.0, 120.0, 0.15)),
    ((325.0, 60.0, 1.0), (700.0, 70.0, 0.4), (2530.0, 120.0, 0.1)),
)


def _formant_gain(frequencies: np.ndarray, formants: Sequence[tuple[float, float, float]]) -> np.ndarray:
    """Amplitude [len(frequencies)] of a vowel's formant envelope: a sum of resonances, each peaking
    at its weight (frequencies and bandwidths in Hz)."""
    return sum(w / np.sqrt(1.0 + ((frequencies - fc) / (bw / 2.0)) ** 2) for fc, bw, w in formants)


def render_voice(notes: Sequence[tuple[float, float, int, int]], voice: int, sr: int) -> np.ndarray:
    """Mono float32 audio of ``notes`` (onset s, offset s, MIDI pitch, velocity) on a :data:`VOICES` synthesiser.

    Each note rings on after its offset with the voice's own release (so a
    note's tail can overlap the next one, as in a real instrument); the
    result peaks at 0.9. Deterministic.
    """
    from scipy.signal import lfilter

    end = max(offset for _, offset, _, _ in notes) + 1.0
    out = np.zeros(int(end * sr) + 1)
    rng = np.random.default_rng(voice)
    for onset, offset, pitch, velocity in notes:
        f0 = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
        held = offset - onset
        gain = (velocity / 127.0) ** 1.5
        release = VOICE_RELEASE_SECONDS[voice]
        t = np.arange(int((held + 5 * release) * sr)) / sr
        after = np.exp(-np.maximum(t - held, 0.0) / release)  # the release envelope after the note-off
        if voice == 128:  # plucked string: a noise burst through a damped comb (Karplus-Strong)
            period = max(round(sr / f0 - 0.5), 2)
            burst = np.zeros(len(t))
            burst[:period] = lfilter([1.0], [1.0, -0.5], rng.uniform(-1, 1, period))
            a = np.zeros(period + 2)
            a[0], a[period], a[period + 1] = 1.0, -0.498, -0.498
            y = lfilter([1.0], a, burst)
        elif voice == 129:  # FM electric piano: a decaying index, a tine partial at 14x
            index = (1.0 + 2.0 * gain) * np.exp(-t / 0.4)
            y = np.sin(2 * np.pi * f0 * t + index * np.sin(2 * np.pi * f0 * t))
            y = (y + 0.3 * np.exp(-t / 0.05) * np.sin(2 * np.pi * 14 * f0 * t)) * np.exp(-t / 1.5)
            y *= np.minimum(t / 0.003, 1.0)
        elif voice == 132:  # a sung vowel: glottal harmonics through formants, a scoop, vibrato, jitter, breath
            formants = VOWEL_FORMANTS[int(rng.integers(len(VOWEL_FORMANTS)))]
            scoop = -60.0 * np.exp(-t / 0.04)  # the voice slides up into the note
            vibrato = 35.0 * np.sin(2 * np.pi * 5.5 * t + rng.uniform(0, 2 * np.pi)) * np.clip((t - 0.2) / 0.3, 0, 1)
            jitter = lfilter([0.02], [1.0, -0.98], rng.standard_normal(len(t))) * 8.0
            phase = 2 * np.pi * np.cumsum(f0 * 2.0 ** ((scoop + vibrato + jitter) / 1200.0)) / sr
            harmonics = np.arange(1, int(0.45 * sr / f0) + 1)
            weights = _formant_gain(harmonics * f0, formants) / harmonics  # source tilt -6 dB per octave
            y = sum(w * np.sin(k * phase) for k, w in zip(harmonics, weights))
            breath = lfilter([1.0], [1.0, -0.7], rng.standard_normal(len(t)))
            y = y / max(float(weights.sum()), 1e-9) + 0.02 * breath
            y *= np.minimum(t / 0.06, 1.0)
        else:  # reed or bowed: harmonics on a vibrato, an attack ramp, breath or bow noise
            rate, depth, attack = (5.0, 12.0, 0.04) if voice == 130 else (6.0, 25.0, 0.09)
            cents = depth * np.sin(2 * np.pi * rate * t) * np.clip((t - 0.15) / 0.2, 0.0, 1.0)
            phase = 2 * np.pi * np.cumsum(f0 * 2.0 ** (cents / 1200.0)) / sr
            y = np.zeros(len(t))
            for k in range(1, int(0.45 * sr / f0) + 1):
                weight = (1.0 if k % 2 else 0.15) / k if voice == 130 else 1.0 / k ** 1.2
                y += weight * np.sin(k * phase)
            y += 0.03 * lfilter([1.0], [1.0, -0.9], rng.standard_normal(len(t)))
            y *= np.minimum(t / attack, 1.0)
        start = int(onset * sr)
        piece = gain * y * after
        out[start : start + len(piece)] += piece[: len(out) - start]
    return (0.9 * out / max(float(np.abs(out).max()), 1e-9)).astype(np.float32)


#: MIDI pitch-bend units per semitone at the General MIDI default bend range (+-2 semitones).
BEND_PER_SEMITONE = 4096
VIBRATO_STEP = 0.01  # seconds between the pitch-bend events that draw a vibrato


def add_pitch_bends(pm: pretty_midi.PrettyMIDI, rng: np.random.Generator, *, detune_cents: float,
                    vibrato_cents: float) -> None:
    """Detune the first instrument of ``pm`` by a random offset up to ``detune_cents`` either
    way, plus a vibrato of ``vibrato_cents`` depth at a random rate of 5-6 Hz, as pitch bends."""
    offset = rng.uniform(-detune_cents, detune_cents)
    rate, phase = rng.uniform(5.0, 6.0), rng.uniform(0.0, 2.0 * np.pi)
    times = np.arange(0.0, pm.get_end_time() + VIBRATO_STEP, VIBRATO_STEP) if vibrato_cents else np.zeros(1)
    cents = offset + vibrato_cents * np.sin(2.0 * np.pi * rate * times + phase)
    bends = np.clip(np.round(cents / 100.0 * BEND_PER_SEMITONE), -8192, 8191).astype(int)
    pm.instruments[0].pitch_bends.extend(pretty_midi.PitchBend(pitch=int(b), time=float(t))
                                         for b, t in zip(bends, times))


#: Seconds between the expression (MIDI CC 11) events that draw a note's loudness curve.
EXPRESSION_STEP = 0.02
#: Notes shorter than this get a proportionally shallower curve (no 12 dB fade inside 0.1 s).
EXPRESSION_FULL_SECONDS = 1.0


def add_expression(pm: pretty_midi.PrettyMIDI, rng: np.random.Generator, *, depth_db: float) -> None:
    """Shape the loudness inside each note of the first instrument of ``pm``, as a player does.

    Each note gets one of a crescendo, a diminuendo or a swell (up, then
    down), with a depth drawn uniformly from 0 to ``depth_db`` dB (scaled
    down for notes shorter than :data:`EXPRESSION_FULL_SECONDS`), drawn as
    MIDI expression (CC 11) every :data:`EXPRESSION_STEP` s from its onset to
    its note-off. CC 11 scales the amplitude by ``(value / 127) ** 2``
    (40 log10 dB, as the General MIDI recommendation and FluidSynth have it).

    Examples
    --------
    >>> pm = pretty_midi.PrettyMIDI()
    >>> pm.instruments.append(pretty_midi.Instrument(0))
    >>> pm.instruments[0].notes.append(pretty_midi.Note(velocity=100, pitch=60, start=0.0, end=1.0))
    >>> add_expression(pm, np.random.default_rng(0), depth_db=12.0)
    >>> values = [c.value for c in pm.instruments[0].control_changes]
    >>> len(values), min(values) >= 127 * 10 ** (-12 / 40) - 1, max(values) <= 127
    (50, True, True)
    """
    instrument = pm.instruments[0]
    for note in instrument.notes:
        times = np.arange(note.start, note.end, EXPRESSION_STEP)
        x = (times - note.start) / max(note.end - note.start, EXPRESSION_STEP)  # 0..1 through the note
        shape = rng.integers(3)
        curve = (x - 1.0 if shape == 0 else -x) if shape < 2 else -np.abs(2.0 * x - 1.0)  # dB / depth, in [-1, 0]
        depth = rng.uniform(0.0, depth_db) * min(1.0, (note.end - note.start) / EXPRESSION_FULL_SECONDS)
        gain_db = depth * curve
        values = np.clip(np.round(127.0 * 10.0 ** (gain_db / 40.0)), 1, 127).astype(int)
        instrument.control_changes.extend(pretty_midi.ControlChange(11, int(v), float(t))
                                          for v, t in zip(values, times))


def save_dev_set(dev: Sequence[Melody], path: Path, description: str) -> None:
    """Write a rendered dev set to ``path`` (``.npz``): audio and reference notes, exact.

    For machines where SoundFont rendering is unavailable: render here with
    ``--save-dev``, score there with ``--load-dev``.
    """
    arrays: dict[str, np.ndarray] = {"description": np.array(description)}
    for i, m in enumerate(dev):
        arrays[f"meta_{i}"] = np.array([m.name, str(m.program), str(m.sr)])
        arrays[f"audio_{i}"] = m.audio
        arrays[f"intervals_{i}"] = m.reference.intervals
        arrays[f"pitches_{i}"] = m.reference.pitches

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    atomic_write(path, write)


def load_dev_set(path: Path) -> tuple[list[Melody], str]:
    """Read a dev set written by :func:`save_dev_set`; returns the melodies and their description."""
    with np.load(path, allow_pickle=False) as z:
        n = sum(1 for k in z.files if k.startswith("meta_"))
        dev = []
        for i in range(n):
            name, program, sr = (str(x) for x in z[f"meta_{i}"])
            ref = NoteList(z[f"intervals_{i}"], z[f"pitches_{i}"])
            dev.append(Melody(name, int(program), z[f"audio_{i}"], int(sr), ref))
        return dev, str(z["description"])


def mains_hum(n_samples: int, sr: int, rng: np.random.Generator, *, frequency: float = 50.0,
              harmonics: int = 5) -> np.ndarray:
    """Mains hum [n_samples] with unit RMS: ``frequency`` (Hz) and its first ``harmonics`` multiples,
    harmonic k at amplitude 1/k and a random phase, as a badly earthed recording chain picks up."""
    t = np.arange(n_samples) / sr
    hum = sum(np.sin(2 * np.pi * frequency * k * t + rng.uniform(0, 2 * np.pi)) / k
              for k in range(1, harmonics + 1) if frequency * k < sr / 2)
    return np.asarray(hum) / max(float(np.sqrt(np.mean(np.asarray(hum) ** 2))), 1e-20)


def degrade(audio: np.ndarray, sr: int, rng: np.random.Generator, *, noise_snr_db: float | None = None,
            reverb_seconds: float | None = None, hum_snr_db: float | None = None) -> np.ndarray:
    """A render made more like a recording: synthetic room, then white noise, then mains hum
    (see :func:`make_dev_set`)."""
    out = audio.astype(np.float64)
    if reverb_seconds:
        from scipy.signal import fftconvolve

        t = np.arange(int(reverb_seconds * sr)) / sr
        response = rng.standard_normal(len(t)) * 10.0 ** (-3.0 * t / reverb_seconds)  # -60 dB at RT60
        wet = fftconvolve(out, response)[: len(out)]
        wet *= np.sqrt(np.mean(out**2) / max(np.mean(wet**2), 1e-20))
        out = 0.7 * out + 0.3 * wet
    if noise_snr_db is not None:
        rms = np.sqrt(np.mean(out**2))
        out = out + rng.standard_normal(len(out)) * rms * 10.0 ** (-noise_snr_db / 20.0)
    if hum_snr_db is not None:
        rms = np.sqrt(np.mean(audio.astype(np.float64) ** 2))
        out = out + mains_hum(len(out), sr, rng) * rms * 10.0 ** (-hum_snr_db / 20.0)
    peak = np.abs(out).max()
    return (out / peak * 0.99 if peak > 0.99 else out).astype(np.float32)


# --------------------------------------------------------------------------
# Baseline: pYIN + note segmentation
# --------------------------------------------------------------------------


def pyin_f0(
    audio: np.ndarray, sr: int, *, low: int, high: int, margin: float = 3.0, hop_seconds: float = 0.01
) -> tuple[np.ndarray, np.ndarray, float]:
    """Frame-wise f0 of a monophonic signal with :func:`librosa.pyin`.

    Parameters
    ----------
    audio : np.ndarray
        ``[samples]`` mono.
    sr : int
        Sample rate, Hz.
    low, high : int
        Expected pitch range, MIDI numbers; pYIN searches
        ``[low - margin, high + margin]`` semitones.
    hop_seconds : float
        Frame hop (10 ms by default).

    Returns
    -------
    f0 : np.ndarray
        ``[frames]`` f0 in Hz, NaN where unvoiced.
    voiced : np.ndarray
        ``[frames]`` bool, pYIN's voicing decision.
    frame_rate : float
        Frames per second; frame ``t`` is centred at ``t / frame_rate`` s.
    """
    fmin = float(librosa.midi_to_hz(low - margin))
    fmax = min(float(librosa.midi_to_hz(high + margin)), sr / 2 - 1)
    hop = max(1, round(hop_seconds * sr))
    # The frame must hold more than two periods of fmin (pYIN's window is
    # half the frame); the shortest power of two with three periods.
    frame = max(512, 1 << math.ceil(math.log2(3 * sr / fmin)))
    f0, voiced, _ = librosa.pyin(audio, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame, hop_length=hop)
    return f0, voiced, sr / hop


def segment_notes(
    f0: np.ndarray,
    voiced: np.ndarray,
    frame_rate: float,
    *,
    min_note_seconds: float = 0.05,
    max_gap_seconds: float = 0.03,
) -> NoteList:
    """Notes from a frame-wise f0: runs of one rounded MIDI pitch.

    1. Each voiced frame gets its f0 rounded to the nearest MIDI number.
    2. A note is a run of consecutive voiced frames of one rounded pitch.
    3. Runs shorter than ``min_note_seconds`` are dropped (glitches,
       transitions).
    4. Consecutive notes of the same pitch separated by at most
       ``max_gap_seconds`` (a brief unvoiced frame or a dropped glitch) are
       merged.

    Returns
    -------
    NoteList
        Onsets and offsets in seconds (frame ``t`` spans
        ``[t, t + 1) / frame_rate``), integer MIDI pitches.
    """
    ok = voiced & np.isfinite(f0)
    midi = np.full(len(f0), -1, dtype=np.int64)
    midi[ok] = np.round(librosa.hz_to_midi(f0[ok])).astype(np.int64)
    # run boundaries: wherever the rounded pitch (or voicing) changes
    change = np.flatnonzero(np.diff(midi) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(midi)]])
    min_frames = min_note_seconds * frame_rate
    runs = [(s, e, midi[s]) for s, e in zip(starts, ends) if midi[s] >= 0 and e - s >= min_frames]
    merged: list[list[int]] = []
    for s, e, p in runs:
        if merged and merged[-1][2] == p and s - merged[-1][1] <= max_gap_seconds * frame_rate:
            merged[-1][1] = int(e)
        else:
            merged.append([int(s), int(e), int(p)])
    return NoteList.from_rows([(s / frame_rate, e / frame_rate, p) for s, e, p in merged])


def pyin_system(*, low: int, high: int) -> System:
    """The baseline as a system: :func:`pyin_f0` then :func:`segment_notes`."""

    def run(audio: np.ndarray, sr: int) -> NoteList:
        f0, voiced, rate = pyin_f0(audio, sr, low=low, high=high)
        return segment_notes(f0, voiced, rate)

    return run


def v3_system(transcriber: Transcriber) -> System:
    """A loaded :class:`Transcriber` as a system."""

    def run(audio: np.ndarray, sr: int) -> NoteList:
        result = transcriber.transcribe(audio, sr)
        return NoteList.from_rows([(n.onset, n.offset, n.pitch) for n in result.notes])

    return run


# --------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------


def notes_to_f0(notes: NoteList, times: np.ndarray) -> np.ndarray:
    """The notes as an f0 series (Hz, 0 = unvoiced) sampled at ``times`` (s).

    A frame at time t takes the pitch of the note with onset <= t < offset
    (the later note where notes overlap).
    """
    f0 = np.zeros(len(times))
    for (on, off), p in zip(notes.intervals, notes.pitches):
        f0[(times >= on) & (times < off)] = librosa.midi_to_hz(p)
    return f0


def score_melody(ref: NoteList, est: NoteList, duration: float) -> dict[str, float]:
    """mir_eval scores of one melody (all in [0, 1]).

    Returns
    -------
    dict
        ``note_{precision,recall,f1}`` (onset 50 ms + pitch 50 cents),
        ``note_offset_{precision,recall,f1}`` (and offset within 20 % of the
        note or 50 ms), ``onset_{precision,recall,f1}`` (pitch ignored),
        ``raw_pitch_accuracy`` and ``overall_accuracy`` (10 ms frames).
    """
    ref_hz = librosa.midi_to_hz(ref.pitches)
    est_hz = librosa.midi_to_hz(est.pitches) if len(est) else np.zeros(0)
    est_int = est.intervals if len(est) else np.zeros((0, 2))
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mir_eval warns about empty estimates
        for key, ratio in (("note", None), ("note_offset", OFFSET_RATIO)):
            p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
                ref.intervals, ref_hz, est_int, est_hz, onset_tolerance=ONSET_TOLERANCE,
                pitch_tolerance=PITCH_TOLERANCE, offset_ratio=ratio)
            out.update({f"{key}_precision": p, f"{key}_recall": r, f"{key}_f1": f})
        p, r, f = mir_eval.transcription.onset_precision_recall_f1(
            ref.intervals, est_int, onset_tolerance=ONSET_TOLERANCE)
        out.update({"onset_precision": p, "onset_recall": r, "onset_f1": f})
        end = max(duration, float(ref.intervals[:, 1].max()))
        times = np.arange(0.0, end, FRAME_HOP)
        ref_v, ref_c, est_v, est_c = mir_eval.melody.to_cent_voicing(
            times, notes_to_f0(ref, times), times, notes_to_f0(est, times))
        out["raw_pitch_accuracy"] = mir_eval.melody.raw_pitch_accuracy(ref_v, ref_c, est_v, est_c)
        out["overall_accuracy"] = mir_eval.melody.overall_accuracy(ref_v, ref_c, est_v, est_c)
    return {k: float(v) for k, v in out.items()}


# --------------------------------------------------------------------------
# Bench
# --------------------------------------------------------------------------


def warm_up(systems: dict[str, System], melody: Melody, seconds: float = WARMUP_SECONDS) -> None:
    """Run every system once on a short clip (model, numba and torch start-up)."""
    clip = melody.audio[: round(seconds * melody.sr)]
    for run in systems.values():
        run(clip, melody.sr)


def run_bench(systems: dict[str, System], dev: Sequence[Melody]) -> dict[str, Any]:
    """Transcribe and score every melody with every system.

    Systems run interleaved (melody 1 by all, then melody 2...). Call
    :func:`warm_up` first for warm speed figures.

    Returns
    -------
    dict
        ``summary[system]``: metric -> mean over melodies, plus
        ``speed_x_realtime`` (total audio s / total wall s), ``wall_seconds``
        and ``n_notes``; ``per_program[system][program]``: mean note F1 and
        melody count; ``melodies``: one record per melody with each system's
        scores, wall time and note count.
    """
    wall = dict.fromkeys(systems, 0.0)
    records: list[dict[str, Any]] = []
    for mel in dev:
        rec: dict[str, Any] = {"name": mel.name, "program": mel.program, "duration": mel.duration,
                               "n_reference_notes": len(mel.reference), "systems": {}}
        for name, run in systems.items():
            t0 = time.perf_counter()
            est = run(mel.audio, mel.sr)
            dt = time.perf_counter() - t0
            wall[name] += dt
            scores = score_melody(mel.reference, est, mel.duration)
            rec["systems"][name] = {**scores, "wall_seconds": dt, "n_notes": len(est)}
        records.append(rec)
    audio_seconds = sum(m.duration for m in dev)
    summary: dict[str, dict[str, float]] = {}
    per_program: dict[str, dict[str, dict[str, float]]] = {}
    for name in systems:
        rows = [r["systems"][name] for r in records]
        keys = [k for k in rows[0] if k not in ("wall_seconds", "n_notes")]
        summary[name] = {k: float(np.mean([row[k] for row in rows])) for k in keys}
        summary[name]["speed_x_realtime"] = audio_seconds / wall[name] if wall[name] > 0 else math.inf
        summary[name]["wall_seconds"] = wall[name]
        summary[name]["n_notes"] = float(sum(row["n_notes"] for row in rows))
        per_program[name] = {}
        for prog in sorted({r["program"] for r in records}):
            f1 = [r["systems"][name]["note_f1"] for r in records if r["program"] == prog]
            per_program[name][str(prog)] = {"note_f1": float(np.mean(f1)), "n_melodies": float(len(f1))}
    return {"audio_seconds": audio_seconds, "summary": summary, "per_program": per_program,
            "melodies": records}


def ratios(summary: dict[str, dict[str, float]], num: str, den: str) -> dict[str, float | None]:
    """``summary[num][m] / summary[den][m]`` for every table metric (None where the denominator is 0)."""
    return {m: (summary[num][m] / summary[den][m] if summary[den][m] else None) for m in METRICS}


def format_table(summary: dict[str, dict[str, float]], ratio_rows: dict[str, dict[str, float | None]]) -> str:
    """Plain-text table: one row per system, then one per ratio; columns :data:`METRICS`."""
    first = max(len("system"), *(len(k) for k in [*summary, *ratio_rows]))
    widths = [max(len(t), 9) for t in METRICS.values()]
    lines = ["  ".join([f"{'system':<{first}}", *(f"{t:>{w}}" for t, w in zip(METRICS.values(), widths))])]
    lines.append("-" * len(lines[0]))
    for name, row in summary.items():
        cells = [f"{row[m]:>{w}.1f}" if m == "speed_x_realtime" else f"{row[m]:>{w}.3f}"
                 for m, w in zip(METRICS, widths)]
        lines.append("  ".join([f"{name:<{first}}", *cells]))
    for name, rrow in ratio_rows.items():
        cells = [f"{'-':>{w}}" if rrow[m] is None else f"{rrow[m]:>{w}.2f}" for m, w in zip(METRICS, widths)]
        lines.append("  ".join([f"{name:<{first}}", *cells]))
    return "\n".join(lines)


def format_per_program(per_program: dict[str, dict[str, dict[str, float]]], *, soundfont: Path | None = None) -> str:
    """Note F1 per program (rows) and system (columns); programs 0-127 are named as GM's,
    or, with ``soundfont``, as that file's presets."""
    systems = list(per_program)
    progs = list(per_program[systems[0]])
    lines = ["  ".join([f"{'program':<28}", f"{'melodies':>8}", *(f"{s + ' F1':>9}" for s in systems)])]
    for p in progs:
        if int(p) in VOICES:
            name = VOICES[int(p)]
        else:
            name = pretty_midi.program_to_instrument_name(int(p)) if soundfont is None else f"preset of {soundfont.name}"
        label = f"{p:>3} {name}"
        n = int(per_program[systems[0]][p]["n_melodies"])
        lines.append("  ".join([f"{label:<28}", f"{n:>8}",
                                *(f"{per_program[s][p]['note_f1']:>9.3f}" for s in systems)]))
    return "\n".join(lines)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Prints each option's default, except ``None`` (whose help says what happens instead)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=_HelpFormatter)
    ap.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help="shipped checkpoint name or file")
    ap.add_argument("--n-melodies", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--low", type=int, default=None,
                    help="lowest MIDI pitch of the melodies and of pYIN's search (default: 60; with --load-dev, "
                         "the dev set's lowest written pitch)")
    ap.add_argument("--high", type=int, default=None,
                    help="highest MIDI pitch of the melodies and of pYIN's search (default: 71; with --load-dev, "
                         "the dev set's highest written pitch)")
    ap.add_argument("--programs", default=",".join(map(str, DEFAULT_PROGRAMS)),
                    help="comma-separated GM programs (0-based), unseen in training; 128-132 are the bench's own "
                         "synthesisers (pluck, FM electric piano, reed, bowed, sung vowel), in no SoundFont")
    ap.add_argument("--soundfont", type=Path, default=None,
                    help="render programs 0-127 with this .sf2 instead of TimGM6mb (for one that is not tuned "
                         "for: python bench/make_soundfont.py OUT.sf2, then --soundfont OUT.sf2 --programs 0,1,2,3)")
    ap.add_argument("--sr", type=int, default=16000, help="sample rate of the rendered audio, Hz")
    ap.add_argument("--device", default="cpu", help="device of the v3 model")
    ap.add_argument("--noise-snr", type=float, default=None,
                    help="add white noise at this signal-to-noise ratio, dB (default: none)")
    ap.add_argument("--reverb", type=float, default=None,
                    help="convolve with a synthetic room of this RT60, seconds (default: none)")
    ap.add_argument("--hum-snr", type=float, default=None,
                    help="add 50 Hz mains hum (harmonics 1-5) this many dB under the melody's RMS "
                         "(default: none)")
    ap.add_argument("--detune", type=float, default=0.0,
                    help="tune each melody's instrument off A440 by up to this many cents either way")
    ap.add_argument("--vibrato", type=float, default=0.0,
                    help="add a 5-6 Hz vibrato of this depth, cents (0: none)")
    ap.add_argument("--expression", type=float, default=0.0,
                    help="shape each note's loudness (a crescendo, a diminuendo or a swell) by up to this "
                         "many dB, as MIDI expression (0: none; SoundFont programs only)")
    ap.add_argument("--style", choices=sorted(MELODY_STYLES), default="free",
                    help="melodies in free rhythm, or in metre with scales and phrases (as tunes are written)")
    ap.add_argument("--playable", action="store_true",
                    help="keep each program's melodies within its real instrument's range (PLAYABLE_RANGES: "
                         "a flute from C4, an alto sax from Db3, a violin from G3), within --low/--high")
    ap.add_argument("--tuning", default="auto",
                    help="v3's tuning: 'auto' (estimated per recording, as `v3 transcribe --tuning`) or cents "
                         "off A440 (0: take every recording as A440)")
    ap.add_argument("--onset-sensitivity", type=float, default=DEFAULT_ONSET_SENSITIVITY,
                    help="onset sensitivity of v3's note detector, 0-1 (as `v3 transcribe --onset-sensitivity`)")
    ap.add_argument("--out", type=Path, default=None, help="write all numbers here (JSON)")
    ap.add_argument("--save-dev", type=Path, default=None,
                    help="also write the rendered dev set here (.npz), for --load-dev elsewhere")
    ap.add_argument("--load-dev", type=Path, default=None,
                    help="score the dev set in this .npz (from --save-dev) instead of rendering one; "
                         "the options that shape the dev set are then ignored (--low/--high still set pYIN's range)")
    args = ap.parse_args(argv)
    if args.n_melodies < 1:
        ap.error(f"--n-melodies {args.n_melodies}: at least 1")
    if args.load_dev is None:
        args.low = 60 if args.low is None else args.low
        args.high = 71 if args.high is None else args.high
    if args.low is not None and args.high is not None and not 0 <= args.low < args.high <= 127:
        ap.error(f"--low {args.low} --high {args.high}: need 0 <= low < high <= 127")
    if args.tuning != "auto":
        try:
            args.tuning = float(args.tuning)
        except ValueError:
            ap.error(f"--tuning {args.tuning!r}: 'auto' or a number of cents")
        if not -50.0 <= args.tuning <= 50.0:
            ap.error(f"--tuning {args.tuning:g}: within 50 cents of A440 (-50 to 50)")
    if args.sr < 8000:
        ap.error(f"--sr {args.sr}: at least 8000 Hz")
    try:
        args.programs = tuple(int(p) for p in args.programs.split(","))
    except ValueError:
        ap.error(f"--programs {args.programs!r}: not a comma-separated list of integers")
    if not args.programs or not all(0 <= p <= 127 or p in VOICES for p in args.programs):
        ap.error(f"--programs {args.programs}: GM programs are 0..127, the bench's own synthesisers "
                 f"{', '.join(f'{k} ({v})' for k, v in VOICES.items())}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    load_start = os.getloadavg()
    print(f"v3 transcription bench: {' '.join(sys.argv)}")
    print(f"host: {platform.node()}, {os.cpu_count()} CPUs, torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads (default), load average {load_start[0]:.2f} "
          f"{load_start[1]:.2f} {load_start[2]:.2f} (1/5/15 min)")
    seen = sorted(set(args.programs) & set(INSNOTES_PROGRAMS))
    if seen and args.soundfont is None:
        print(f"warning: programs {seen} were used to train the shipped insnotes model")

    t0 = time.perf_counter()
    if args.load_dev is not None:
        dev, description = load_dev_set(args.load_dev)
        source = f"read from {args.load_dev}"
        pitches = np.concatenate([m.reference.pitches for m in dev])
        args.low = int(pitches.min()) if args.low is None else args.low
        args.high = int(pitches.max()) if args.high is None else args.high
    else:
        dev = make_dev_set(args.n_melodies, seed=args.seed, low=args.low, high=args.high,
                           programs=args.programs, sr=args.sr, noise_snr_db=args.noise_snr,
                           reverb_seconds=args.reverb, hum_snr_db=args.hum_snr,
                           detune_cents=args.detune, vibrato_cents=args.vibrato,
                           style=args.style, soundfont=args.soundfont, expression_db=args.expression,
                           playable=args.playable)
        within = " (each program within its instrument's range)" if args.playable else ""
        description = (f"{args.style} melodies, MIDI {args.low}-{args.high}{within}, "
                       f"SoundFont {'TimGM6mb' if args.soundfont is None else args.soundfont.name}, "
                       f"programs {','.join(map(str, args.programs))}, seed {args.seed}, {args.sr} Hz, "
                       f"noise {'none' if args.noise_snr is None else f'{args.noise_snr:g} dB SNR'}, "
                       f"room {'none' if not args.reverb else f'RT60 {args.reverb:g} s'}, "
                       f"hum {'none' if args.hum_snr is None else f'{args.hum_snr:g} dB under the melody'}, "
                       f"detune up to {args.detune:g} cents, vibrato {args.vibrato:g} cents, "
                       f"expression up to {args.expression:g} dB")
        source = "rendered"
        if args.save_dev is not None:
            save_dev_set(dev, args.save_dev, description)
    render_s = time.perf_counter() - t0
    audio_s = sum(m.duration for m in dev)
    n_ref = sum(len(m.reference) for m in dev)
    print(f"dev set: {len(dev)} melodies, {audio_s:.1f} s of audio, {n_ref} notes, {description} "
          f"({source} in {render_s:.1f} s)")

    t0 = time.perf_counter()
    transcriber = Transcriber(args.checkpoint, device=args.device, onset_sensitivity=args.onset_sensitivity,
                              tuning=args.tuning)
    load_s = time.perf_counter() - t0
    systems = {"v3": v3_system(transcriber), "pyin": pyin_system(low=args.low, high=args.high)}
    t0 = time.perf_counter()
    warm_up(systems, dev[0])
    print(f"v3 checkpoint {transcriber.loaded.path} ({args.device}), loaded in {load_s:.2f} s; "
          f"warm-up on a {WARMUP_SECONDS:g} s clip took {time.perf_counter() - t0:.2f} s")

    results = run_bench(systems, dev)
    ratio_rows = {"v3/pyin": ratios(results["summary"], "v3", "pyin")}
    load_end = os.getloadavg()
    print()
    print("scores: mean over melodies (mir_eval; onsets 50 ms, pitch 50 cents, offsets 20 % or 50 ms; "
          "frames 10 ms); speed: audio s / wall s, warm")
    print(format_table(results["summary"], ratio_rows))
    print()
    print(format_per_program(results["per_program"], soundfont=args.soundfont))
    print()
    print(f"load average at the end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} (1/5/15 min)")

    report = {
        "command": sys.argv,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "pooling": "mean over melodies",
        "tolerances": {"onset_s": ONSET_TOLERANCE, "pitch_cents": PITCH_TOLERANCE,
                       "offset_ratio": OFFSET_RATIO, "frame_hop_s": FRAME_HOP},
        "environment": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                        "torch": torch.__version__, "librosa": librosa.__version__,
                        "mir_eval": mir_eval.__version__, "load_average_start": load_start,
                        "load_average_end": load_end, "device": args.device},
        "checkpoint": str(transcriber.loaded.path),
        "ratios": ratio_rows,
        **results,
    }
    if args.out is not None:
        text = json.dumps(report, indent=1, allow_nan=False, default=float) + "\n"
        atomic_write(args.out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    main()
