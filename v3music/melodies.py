"""Training and evaluation melodies: free rhythm, rests, repeated notes, several octaves.

Rendered with a real SoundFont (:func:`v3music.synth.render_midi`) into a
folder with the same manifest as InsNotes, so the music adapter and the
benchmarks read both.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi
import soundfile as sf

from v3.errors import ConfigError, DataError
from v3.fileio import atomic_write

from .synth import (
    _resolve_soundfont,
    _soundfont_bytes,
    _write_wav,
    instrument_names,
    render_midi,
    write_manifest,
)

__all__ = ["MELODY_TRAIN_PROGRAMS", "make_melodies", "make_note_grid", "melody_midi", "random_melody", "song_melody"]

log = logging.getLogger(__name__)

# Programs for training: the 12 InsNotes programs plus struck, plucked, bowed,
# blown and synthetic ones. The benchmark's unseen programs (0, 4, 11, 24, 40,
# 42, 65, 73) and the detuned whistle (78) are left out on purpose.
MELODY_TRAIN_PROGRAMS: tuple[int, ...] = (
    64, 19, 21, 41, 56, 59, 68, 71, 72, 75, 22, 52,
    1, 2, 5, 6, 12, 13, 16, 25, 26, 27, 32, 33, 43, 46, 48, 57, 60, 66, 69, 70, 74, 80, 81, 105,
)


def random_melody(
    rng: np.random.Generator,
    *,
    low: int,
    high: int,
    seconds: float,
    min_note: float = 0.1,
    max_note: float = 2.0,
) -> list[tuple[float, float, int, int]]:
    """A monophonic melody in free rhythm.

    Notes follow each other until the next onset would pass ``seconds``.
    Duration: log-uniform in [``min_note``, ``max_note``] s. Pitch: repeat
    the last one (20 %), a step of 1-4 semitones either way (60 %, reflected
    at the range edges) or any pitch of the range (20 %). After each note:
    a rest of 0.15-1.2 s (20 %), legato (25 %) or a short gap of 20-120 ms.

    Parameters
    ----------
    rng : numpy.random.Generator
    low, high : int
        MIDI pitch range (inclusive).
    seconds : float
        Length of the melody.
    min_note, max_note : float
        Note durations in seconds.

    Returns
    -------
    list of (onset s, offset s, MIDI pitch, velocity)
        Non-overlapping, in onset order; velocities in [40, 127].

    Examples
    --------
    >>> notes = random_melody(np.random.default_rng(0), low=60, high=71, seconds=5.0)
    >>> all(60 <= p <= 71 for _, _, p, _ in notes), notes[0][0] < notes[1][0]
    (True, True)
    """
    notes: list[tuple[float, float, int, int]] = []
    t = float(rng.uniform(0.1, 0.5))
    pitch = int(rng.integers(low, high + 1))
    while True:
        dur = float(np.exp(rng.uniform(np.log(min_note), np.log(max_note))))
        if notes and t + dur > seconds:
            break
        velocity = int(rng.integers(40, 128))
        notes.append((round(t, 4), round(t + dur, 4), pitch, velocity))
        t += dur
        u = rng.random()
        if u < 0.2:
            t += float(rng.uniform(0.15, 1.2))
        elif u >= 0.45:
            t += float(rng.uniform(0.02, 0.12))
        u = rng.random()
        if u < 0.2:
            continue  # repeated note
        if u < 0.8:
            step = int(rng.integers(1, 5)) * (1 if rng.random() < 0.5 else -1)
            pitch += step
            if pitch > high or pitch < low:
                pitch -= 2 * step
            pitch = int(np.clip(pitch, low, high))
        else:
            pitch = int(rng.integers(low, high + 1))
    return notes


#: Note values of :func:`song_melody` in beats (eighth to whole note) and how often each is drawn.
SONG_NOTE_BEATS: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
SONG_NOTE_WEIGHTS: tuple[float, ...] = (0.35, 0.35, 0.08, 0.14, 0.04, 0.04)
#: Articulations of :func:`song_melody`: the silent fraction at the end of each note's time
#: (legato, ordinary, detached), chosen per phrase with these probabilities.
SONG_ARTICULATIONS: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.05, 0.15), (0.25, 0.5))
SONG_ARTICULATION_WEIGHTS: tuple[float, ...] = (0.3, 0.5, 0.2)
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)


def song_melody(
    rng: np.random.Generator,
    *,
    low: int,
    high: int,
    seconds: float,
) -> list[tuple[float, float, int, int]]:
    """A monophonic melody in metre, as tunes are written: the counterpart of :func:`random_melody`.

    Tempo 70-160 beats per minute; note values of an eighth to a whole note
    (:data:`SONG_NOTE_BEATS`); phrases of two 4/4 bars, half of them followed
    by a rest of one or two beats. Pitches move within a major or minor scale
    on a random key: a step (55 %), a repeated note (15 %), a leap of a third
    to a fifth (25 %) or any note of the scale in range (5 %), reflected at the
    range edges. Each phrase has one articulation (:data:`SONG_ARTICULATIONS`:
    legato, ordinary with 5-15 % of each note's time silent, or detached with
    25-50 %) and one loudness (velocity 55-115, downbeats 8 louder, +-10 per
    note); onsets wander up to 10 ms off the beat.

    Parameters
    ----------
    rng : numpy.random.Generator
    low, high : int
        MIDI pitch range (inclusive); it must hold at least one note of the scale.
    seconds : float
        Length of the melody.

    Returns
    -------
    list of (onset s, offset s, MIDI pitch, velocity)
        Non-overlapping, in onset order; velocities in [40, 127].

    Examples
    --------
    >>> notes = song_melody(np.random.default_rng(0), low=60, high=72, seconds=6.0)
    >>> len({p % 12 for _, _, p, _ in notes}) <= 7, all(60 <= p <= 72 for _, _, p, _ in notes)
    (True, True)
    """
    beat = 60.0 / float(rng.uniform(70.0, 160.0))
    tonic = int(rng.integers(0, 12))
    steps = _MAJOR if rng.random() < 0.5 else _MINOR
    scale = [p for p in range(low, high + 1) if (p - tonic) % 12 in steps]
    if not scale:
        raise ConfigError(f"pitch range {low}-{high} holds no note of the drawn scale")
    degree = int(rng.integers(0, len(scale)))
    notes: list[tuple[float, float, int, int]] = []
    t = float(rng.uniform(0.1, 0.5))  # time of the current beat position, seconds
    phrase_beats = 0.0
    silent, loudness = 0.0, 80.0
    while True:
        if phrase_beats == 0.0:  # a new phrase: its articulation and loudness
            lo, hi = SONG_ARTICULATIONS[int(rng.choice(len(SONG_ARTICULATIONS), p=SONG_ARTICULATION_WEIGHTS))]
            silent, loudness = float(rng.uniform(lo, hi)), float(rng.uniform(55.0, 115.0))
        beats = float(rng.choice(SONG_NOTE_BEATS, p=SONG_NOTE_WEIGHTS))
        beats = min(beats, 8.0 - phrase_beats)
        onset = max(t + float(rng.uniform(-0.01, 0.01)), notes[-1][1] if notes else 0.0)
        if notes and t + beats * beat > seconds:
            break
        accent = 8.0 if phrase_beats % 4.0 == 0.0 else 0.0
        velocity = int(np.clip(round(loudness + accent + rng.uniform(-10.0, 10.0)), 40, 127))
        offset = t + beats * beat * (1.0 - silent)
        notes.append((round(onset, 4), round(max(offset, onset + 0.05), 4), scale[degree], velocity))
        t += beats * beat
        phrase_beats += beats
        if phrase_beats >= 8.0:
            phrase_beats = 0.0
            if rng.random() < 0.5:
                t += float(rng.integers(1, 3)) * beat
        u = rng.random()
        if u < 0.55:
            move = 1 if rng.random() < 0.5 else -1
        elif u < 0.70:
            move = 0
        elif u < 0.95:
            move = int(rng.integers(2, 5)) * (1 if rng.random() < 0.5 else -1)
        else:
            move = int(rng.integers(0, len(scale))) - degree
        degree += move
        if not 0 <= degree < len(scale):
            degree -= 2 * move
        degree = int(np.clip(degree, 0, len(scale) - 1))
    return notes


def melody_midi(notes: Sequence[tuple[float, float, int, int]], program: int) -> pretty_midi.PrettyMIDI:
    """One-track PrettyMIDI of (onset, offset, pitch, velocity) notes on GM ``program``."""
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    inst.notes = [pretty_midi.Note(velocity=v, pitch=p, start=a, end=b) for a, b, p, v in notes]
    pm.instruments.append(inst)
    return pm


def _prepare_output(out_dir: Path | str, programs: Sequence[int], low: int, high: int,
                    soundfont: Path | str | None) -> tuple[Path, Path, dict[int, str]]:
    """Validate a pitch range and programs, check the SoundFont, create the folder; return (folder,
    SoundFont, the manifest's name of each program, :func:`v3music.synth.instrument_names`)."""
    if not 0 <= low <= high <= 127:
        raise ConfigError(f"pitch range {low}-{high} is not valid (0 <= low <= high <= 127)")
    if not programs or not all(0 <= int(p) <= 127 for p in programs):
        raise ConfigError(f"programs {list(programs)!r}: need GM programs 0-127")
    sf_path = _resolve_soundfont(soundfont)
    _soundfont_bytes(sf_path)  # fail early on a bad SoundFont
    names = instrument_names(programs, sf_path)  # reads its presets: before any folder is made
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{out}: output folder cannot be created ({exc.strerror or exc})") from exc
    return out, sf_path, names


def _write_file(out: Path, name: str, audio: np.ndarray, sr: int, program: int,
                notes: Sequence[tuple[float, float, int, int]], instrument: str) -> dict[str, Any]:
    """Write one rendered file (atomically) and return its manifest entry."""
    try:
        atomic_write(out / name, functools.partial(_write_wav, audio=audio.astype(np.float32), sr=sr))
    except (OSError, sf.LibsndfileError) as exc:
        raise DataError(f"{out / name}: cannot be written ({exc})") from exc
    return {
        "path": name,
        "program": program,
        "instrument": instrument,
        "onsets": [n[0] for n in notes],
        "offsets": [n[1] for n in notes],
        "pitches": [n[2] for n in notes],
        "velocities": [n[3] for n in notes],
        "sounding_pitches": [None] * len(notes),
    }


def _progress(items: list[Any], show: bool, desc: str, unit: str) -> Any:
    """``items``, wrapped in a tqdm bar when ``show``."""
    if not show:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit=unit)


def make_melodies(
    out_dir: Path | str,
    *,
    programs: Sequence[int] = MELODY_TRAIN_PROGRAMS,
    files_per_program: int = 2,
    seconds: float = 30.0,
    low: int = 36,
    high: int = 84,
    seed: int = 0,
    soundfont: Path | str | None = None,
    sr: int = 16000,
    gain_db: float = 6.0,
    progress: bool = False,
) -> Path:
    """Render random melodies, one program per file, and their manifest.

    Parameters
    ----------
    out_dir : path
        Created if needed; receives ``melNNN_progPPP.wav`` files and ``manifest.json``.
    programs : sequence of int
        GM programs (0-127).
    files_per_program : int
        Melodies per program.
    seconds : float
        Length of each melody.
    low, high : int
        MIDI pitch range (inclusive), e.g. 36-84 (C2-C6).
    seed : int
        All randomness (melodies, gains) derives from it.
    soundfont : path, optional
        Any .sf2 (default: TimGM6mb from pretty_midi).
    sr : int
        Output sample rate in Hz.
    gain_db : float
        Augmentation: each file is scaled by a random gain of +-``gain_db`` dB.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Path
        The manifest.

    Raises
    ------
    ConfigError
        A pitch range, program, count or length out of range.
    InputError
        The SoundFont is missing or not a SoundFont.

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     manifest = make_melodies(folder, programs=(40,), files_per_program=1, seconds=3.0, low=60, high=64)
    ...     entry = json.loads(manifest.read_text())["files"][0]
    >>> entry["path"], entry["instrument"], all(60 <= p <= 64 for p in entry["pitches"])
    ('mel000_prog040.wav', 'Violin', True)
    """
    if files_per_program < 1 or seconds <= 1.0:
        raise ConfigError("files_per_program must be >= 1 and seconds > 1")
    out, sf_path, names = _prepare_output(out_dir, programs, low, high, soundfont)
    jobs = [(int(p), k) for p in programs for k in range(files_per_program)]
    entries = []
    for index, (program, k) in enumerate(_progress(jobs, progress, "melodies", "file")):
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(program, k)))
        notes = random_melody(rng, low=low, high=high, seconds=seconds)
        audio = render_midi(melody_midi(notes, program), soundfont=sf_path, sr=sr)
        audio = audio * float(10 ** (rng.uniform(-gain_db, gain_db) / 20))
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 0.99:
            audio = audio * (0.9 / peak)
        entries.append(_write_file(out, f"mel{index:03d}_prog{program:03d}.wav", audio, sr, program, notes,
                                   names[program]))
    return write_manifest(out, entries, sr=sr, seed=int(seed), soundfont=sf_path)


def make_note_grid(
    out_dir: Path | str,
    *,
    programs: Sequence[int] = MELODY_TRAIN_PROGRAMS,
    low: int = 36,
    high: int = 84,
    cycles: int = 2,
    seed: int = 0,
    soundfont: Path | str | None = None,
    sr: int = 16000,
    progress: bool = False,
) -> Path:
    """Render every pitch of a range as a 1 s note, in a random order, once per cycle, per program.

    The InsNotes layout (notes aligned to whole seconds, note-off at 0.95 s)
    widened to a range of pitches: each cycle is a new random permutation of
    ``low..high``, velocities 60-120, each file normalised to a peak of 0.9.
    File ``progPPP.wav`` per program, and the manifest.

    Examples
    --------
    >>> import tempfile
    >>> m = make_note_grid(tempfile.mkdtemp(), programs=(0,), low=60, high=62, cycles=1)
    >>> import json; sorted(json.loads(m.read_text())["files"][0]["pitches"])
    [60, 61, 62]
    """
    if cycles < 1:
        raise ConfigError(f"cycles={cycles} must be >= 1")
    out, sf_path, names = _prepare_output(out_dir, programs, low, high, soundfont)
    entries = []
    for program in _progress([int(p) for p in programs], progress, "notes", "program"):
        rng = np.random.default_rng([int(seed), program])
        pitches = np.concatenate([rng.permutation(np.arange(low, high + 1)) for _ in range(cycles)])
        velocities = rng.integers(60, 121, size=len(pitches))
        notes = [(float(k), float(k) + 0.95, int(p), int(v)) for k, (p, v) in enumerate(zip(pitches, velocities))]
        audio = render_midi(melody_midi(notes, program), soundfont=sf_path, sr=sr)
        n = len(notes) * sr
        audio = np.pad(audio[:n], (0, max(0, n - len(audio))))
        audio = audio * 0.9 / max(float(np.abs(audio).max()), 1e-6)
        entries.append(_write_file(out, f"prog{program:03d}.wav", audio, sr, program, notes, names[program]))
    return write_manifest(out, entries, sr=sr, seed=int(seed), soundfont=sf_path, note_seconds=1.0)
