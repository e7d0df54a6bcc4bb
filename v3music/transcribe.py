"""Audio to notes to MIDI, with the pitch vocabulary of a V3 content codebook.

Pipeline: audio -> mono 16 kHz -> log-CQT -> onsets (librosa, backtracked)
and an energy gate -> one note-aligned fragment per note -> V3 content code ->
the atom's name (a MIDI pitch, from the checkpoint's calibration map) ->
notes (onset, offset, pitch, velocity) -> a standard MIDI file (pretty_midi).

Labels never train the encoder: they only name the atoms, once, after
training (see :func:`v3.inference.name_atoms`).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import librosa
import numpy as np
import pretty_midi
import torch

from v3.adapters import find_checkpoint
from v3.checkpoint import LoadedModel, load_model
from v3.errors import InputError
from v3.fileio import atomic_write

from .adapter import MusicAdapter, MusicConfig, normalize_fragments
from .audio import check_audio, load_audio
from .frontend import log_cqt, note_fragments

__all__ = [
    "DEFAULT_CHECKPOINT",
    "Note",
    "Transcriber",
    "Transcription",
    "transcribe",
    "transcribe_file",
    "transcribe_file_to_file",
]

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT = "insnotes"


@dataclass(frozen=True)
class Note:
    """One transcribed note.

    Attributes
    ----------
    onset, offset : float
        Seconds from the start of the audio.
    pitch : int
        MIDI note number.
    velocity : int
        MIDI velocity 1-127 (from the note's peak level).
    """

    onset: float
    offset: float
    pitch: int
    velocity: int


@dataclass
class Transcription:
    """Notes of one recording and their MIDI rendering.

    Attributes
    ----------
    notes : list of Note
        In onset order.
    duration : float
        Length of the audio in seconds.
    warnings : list of str
        E.g. "no notes found (the audio is silent)".
    """

    notes: list[Note]
    duration: float
    warnings: list[str] = field(default_factory=list)

    def to_midi(self, *, program: int = 0, tempo: float = 120.0) -> pretty_midi.PrettyMIDI:
        """A one-track PrettyMIDI (GM ``program``, ``tempo`` in BPM for the file's grid)."""
        if not 0 <= program <= 127:
            raise InputError(f"MIDI program {program} is not valid (0-127)")
        if not 1.0 <= tempo <= 1000.0:
            raise InputError(f"tempo {tempo:g} BPM is not valid (1-1000)")
        midi = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
        track = pretty_midi.Instrument(program=program, name="v3 transcription")
        track.notes = [pretty_midi.Note(velocity=n.velocity, pitch=n.pitch, start=n.onset, end=n.offset)
                       for n in self.notes]
        midi.instruments.append(track)
        return midi

    def write_csv(self, path: Path | str) -> Path:
        """Write the notes as CSV (onset_s, offset_s, pitch, note_name, velocity), atomically."""
        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["onset_s", "offset_s", "pitch", "note_name", "velocity"])
                for n in self.notes:
                    w.writerow([f"{n.onset:.4f}", f"{n.offset:.4f}", n.pitch,
                                librosa.midi_to_note(n.pitch, unicode=False), n.velocity])
        return atomic_write(Path(path), write)


def onset_features(audio: np.ndarray, *, sample_rate: int, hop_length: int, n_fft: int = 512,
                   chunk_frames: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Onset strength and level per frame from a short-window STFT, in bounded memory.

    The log-CQT's low bins use windows of several hundred milliseconds, which
    smear energy far before a note starts; onsets and silence are therefore
    timed on an STFT of ``n_fft`` samples (32 ms at 16 kHz) on the same frame
    grid (frame k is centred on sample k * hop_length).

    Parameters
    ----------
    audio : ndarray[samples]
        Mono float audio.
    sample_rate, hop_length : int
        Hz and samples; frames match :func:`v3music.frontend.log_cqt`.
    n_fft : int
        STFT window in samples.
    chunk_frames : int
        Frames computed at a time.

    Returns
    -------
    strength : ndarray[frames]
        SuperFlux-style onset strength (dB flux, frequency max-filter of 3 bins).
    level_db : ndarray[frames]
        Frame level in dB (power summed over bins).
    """
    n_frames = 1 + len(audio) // hop_length
    padded = np.pad(audio.astype(np.float32), (n_fft // 2, n_fft // 2 + hop_length))
    window = np.hanning(n_fft).astype(np.float32)

    def chunks():  # yields (first frame, power [count, bins])
        for first in range(0, n_frames, chunk_frames):
            count = min(chunk_frames, n_frames - first)
            start = first * hop_length
            frames = np.lib.stride_tricks.sliding_window_view(
                padded[start : start + (count - 1) * hop_length + n_fft], n_fft)[::hop_length][:count]
            yield first, np.abs(np.fft.rfft(frames * window, axis=1)) ** 2

    # pass 1: frame levels and the loudest bin, which sets the 60 dB floor of pass 2
    level = np.zeros(n_frames, dtype=np.float32)
    top = 1e-10
    for first, power in chunks():
        level[first : first + len(power)] = 10.0 * np.log10(power.sum(axis=1) + 1e-10)
        top = max(top, float(power.max()))
    floor = 10.0 * np.log10(top) - 60.0
    strength = np.zeros(n_frames, dtype=np.float32)
    previous: np.ndarray | None = None
    for first, power in chunks():
        db = np.maximum(10.0 * np.log10(power + 1e-10), floor)
        before = np.concatenate([(db[:1] if previous is None else previous[None]), db[:-1]])
        # SuperFlux: compare with the max over neighbouring bins of the previous frame
        widened = np.maximum(before, np.maximum(np.roll(before, 1, axis=1), np.roll(before, -1, axis=1)))
        strength[first : first + len(power)] = np.maximum(db - widened, 0.0).mean(axis=1)
        previous = db[-1]
    return strength, level


class Transcriber:
    """A loaded model that transcribes many recordings.

    Parameters
    ----------
    model : LoadedModel, path or str
        A loaded music model, a checkpoint file, or a shipped checkpoint name.
    device : str
        ``"cpu"``, ``"cuda"``, ``"auto"``...
    onset_sensitivity : float
        0-1; higher finds more (weaker) onsets (librosa peak-picking delta
        ``0.4 * (1 - sensitivity) + 0.02`` on the normalised onset strength).
    min_note_seconds : float
        Shorter notes are dropped.
    silence_db : float
        Frames more than this many dB below the loudest frame count as silence.

    Examples
    --------
    >>> t = Transcriber()  # doctest: +SKIP
    >>> t.transcribe_file("song.wav").notes[:2]  # doctest: +SKIP
    """

    def __init__(
        self,
        model: LoadedModel | Path | str = DEFAULT_CHECKPOINT,
        *,
        device: str = "cpu",
        onset_sensitivity: float = 0.5,
        min_note_seconds: float = 0.05,
        silence_db: float = 40.0,
    ) -> None:
        from v3.trainer import resolve_device

        if not 0.0 <= onset_sensitivity <= 1.0:
            raise InputError(f"onset sensitivity {onset_sensitivity:g} is not in [0, 1]")
        if min_note_seconds < 0:
            raise InputError(f"minimum note length {min_note_seconds:g} s is negative")
        self.loaded = model if isinstance(model, LoadedModel) else load_model(find_checkpoint(model),
                                                                               device=resolve_device(device))
        if not isinstance(self.loaded.adapter, MusicAdapter):
            raise InputError(f"{self.loaded.path}: not a music model (adapter {self.loaded.adapter.name!r})")
        self.config: MusicConfig = self.loaded.adapter.parse_config(self.loaded.config.adapter_config)
        self.atom_pitch = np.asarray(self.loaded.atom_labels, dtype=np.int64)
        if self.atom_pitch.size == 0 or (self.atom_pitch < 0).all():
            raise InputError(f"{self.loaded.path}: the checkpoint names no atoms, so codes cannot become pitches")
        self.onset_sensitivity = onset_sensitivity
        self.min_note_seconds = min_note_seconds
        self.silence_db = silence_db

    @property
    def sample_rate(self) -> int:
        """Sample rate (Hz) the model's front end works at."""
        return self.config.sample_rate

    def _segment(self, mono: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Onset and offset frames and peak level (dB) of each note.

        Onsets are peaks of a SuperFlux-style novelty of the log-CQT (dB values
        floored 60 dB below the peak); sound and silence are timed with the
        short-window level of :func:`onset_features`, since the CQT's long
        low-frequency windows make energy appear before a note starts.
        """
        fe = self.config.frontend()
        _, level = onset_features(mono, sample_rate=fe.sample_rate, hop_length=fe.hop_length)
        loud = level.max()
        active = level > loud - self.silence_db
        db = features * (20.0 / np.log(10.0))
        db = np.maximum(db, db.max() - 60.0)
        env = librosa.onset.onset_strength(S=db, sr=fe.sample_rate, hop_length=fe.hop_length, max_size=3)
        min_gap = max(round(0.08 * fe.frame_rate), 1)
        onsets = librosa.onset.onset_detect(onset_envelope=env, sr=fe.sample_rate, hop_length=fe.hop_length,
                                            backtrack=True, delta=0.4 * (1.0 - self.onset_sensitivity) + 0.02,
                                            wait=min_gap, units="frames")
        # a note may also start where sound begins after silence
        rises = np.flatnonzero(active[1:] & ~active[:-1]) + 1
        if active[0]:
            rises = np.concatenate([[0], rises])
        starts = np.unique(np.concatenate([onsets, rises])).astype(int)
        merged: list[int] = []
        for s in starts:
            if not merged or s - merged[-1] >= min_gap:
                merged.append(int(s))
        n_frames = len(level)
        on, off, peak = [], [], []
        for i, s in enumerate(merged):
            nxt = merged[i + 1] if i + 1 < len(merged) else n_frames
            seg = active[s:nxt]
            if not seg.any():
                continue
            first = s + int(np.argmax(seg))
            silent_after = np.flatnonzero(~active[first:nxt])
            end = first + int(silent_after[0]) if silent_after.size else nxt
            if (end - s) / fe.frame_rate < self.min_note_seconds:
                continue
            on.append(s)
            off.append(end)
            peak.append(float(level[s:end].max()))
        return np.asarray(on, dtype=int), np.asarray(off, dtype=int), np.asarray(peak)

    @torch.no_grad()
    def transcribe(self, audio: np.ndarray, sr: float) -> Transcription:
        """Transcribe a signal [samples] or [samples, channels] at ``sr`` Hz."""
        mono = check_audio(audio, sr)
        if sr != self.sample_rate:
            mono = librosa.resample(mono, orig_sr=sr, target_sr=self.sample_rate)
        return self._transcribe_mono(mono)

    def _transcribe_mono(self, mono: np.ndarray) -> Transcription:
        fe = self.config.frontend()
        duration = len(mono) / fe.sample_rate
        if float(np.max(np.abs(mono))) < 1e-5:
            return Transcription([], duration, ["no notes found: the audio is silent"])
        features = log_cqt(mono, fe)
        on, off, peak = self._segment(mono, features)
        if len(on) == 0:
            return Transcription([], duration, ["no notes found"])
        frags = note_fragments(features, on / fe.frame_rate, frame_rate=fe.frame_rate,
                               seconds=self.config.fragment_seconds, frames=self.config.fragment_frames,
                               durations=(off - on) / fe.frame_rate)
        if self.config.normalize:
            frags = normalize_fragments(frags)
        model = self.loaded.model
        device = next(model.parameters()).device
        codes = []
        for start in range(0, len(frags), 512):
            chunk = torch.from_numpy(frags[start : start + 512]).to(device)[:, None]
            codes.append(model.encode(chunk).codes[:, 0].cpu().numpy())
        pitches = self.atom_pitch[np.concatenate(codes)]
        top = float(peak.max())
        notes = []
        for s, e, p, level in zip(on, off, pitches, peak):
            if p < 0:
                continue
            velocity = int(np.clip(round(127 * (1.0 - (top - level) / self.silence_db)), 1, 127))
            notes.append(Note(onset=round(s / fe.frame_rate, 4), offset=round(e / fe.frame_rate, 4),
                              pitch=int(p), velocity=velocity))
        return Transcription(notes, duration, [] if notes else ["no notes found"])

    def transcribe_file(self, path: Path | str) -> Transcription:
        """Transcribe an audio file (any rate, mono or stereo), read in bounded memory."""
        return self._transcribe_mono(load_audio(path, sr=self.sample_rate))

    def plot_file(self, path: Path | str, result: Transcription, out: Path | str) -> Path:
        """Draw ``result`` as a piano roll over the log-CQT of ``path`` (PNG)."""
        from .plots import plot_piano_roll

        fe = self.config.frontend()
        features = log_cqt(load_audio(path, sr=self.sample_rate), fe)
        return plot_piano_roll(features, fe, result.notes, out, title=Path(path).name)

    def transcribe_file_to_file(self, path: Path | str, out: Path | str, *, program: int = 0,
                                tempo: float = 120.0, notes_csv: Path | str | None = None) -> Transcription:
        """Transcribe ``path`` and write a standard MIDI file ``out`` (atomically)."""
        result = self.transcribe_file(path)
        midi = result.to_midi(program=program, tempo=tempo)
        atomic_write(Path(out), lambda tmp: midi.write(str(tmp)))
        if notes_csv is not None:
            result.write_csv(notes_csv)
        return result


def transcribe(audio: np.ndarray, sr: float, *, model: LoadedModel | Path | str = DEFAULT_CHECKPOINT,
               device: str = "cpu") -> tuple[list[Note], pretty_midi.PrettyMIDI]:
    """Transcribe a signal; return its notes and a PrettyMIDI.

    Examples
    --------
    >>> notes, midi = transcribe(y, 16000)  # doctest: +SKIP
    """
    result = Transcriber(model, device=device).transcribe(audio, sr)
    return result.notes, result.to_midi()


def transcribe_file(path: Path | str, *, model: LoadedModel | Path | str = DEFAULT_CHECKPOINT,
                    device: str = "cpu") -> Transcription:
    """Transcribe an audio file."""
    return Transcriber(model, device=device).transcribe_file(path)


def transcribe_file_to_file(path: Path | str, out: Path | str, *,
                            model: LoadedModel | Path | str = DEFAULT_CHECKPOINT, device: str = "cpu",
                            program: int = 0) -> Transcription:
    """Transcribe an audio file into a MIDI file."""
    return Transcriber(model, device=device).transcribe_file_to_file(path, out, program=program)
