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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import librosa
import numpy as np
import pretty_midi
import torch

from v3.checkpoint import LoadedModel
from v3.errors import InputError
from v3.fileio import atomic_write

from .adapter import MusicConfig
from .audio import AudioWindows, check_audio, for_analysis
from .frontend import log_cqt
from .intervals import DEFAULT_PITCH_CONTEXT
from .notes import (
    DEFAULT_PITCH_RANGE,
    OCTAVE_ATTACK_SECONDS,
    REPLAY_GAP_SECONDS,
    VIBRATO_SWING_SECONDS,
    NoteEncoder,
    join_unarticulated,
    join_vibrato_swings,
)
from .partials import partial_rise_starts
from .segment import DEFAULT_ONSET_SENSITIVITY
from .tuning import tuned_frontend, tuning_correction

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
# Long audio is transcribed in windows of WINDOW_SECONDS with CONTEXT_SECONDS
# of audio on each side (notes are kept where their onset falls in the core).
WINDOW_SECONDS = 120.0
CONTEXT_SECONDS = 4.0


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

    Examples
    --------
    >>> note = Note(onset=0.5, offset=1.25, pitch=69, velocity=100)
    >>> librosa.midi_to_note(note.pitch), note.offset - note.onset
    ('A4', 0.75)
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
    tuning_cents : float
        How far off A440 the notes were heard (cents, positive: sharp), the
        median over the recording's windows; 0.0 when taken as A440. Note
        pitches are the nearest semitones of that tuning.

    Examples
    --------
    >>> result = Transcription([Note(0.0, 0.5, 60, 90), Note(0.5, 1.0, 64, 80)], duration=1.0)
    >>> [librosa.midi_to_note(n.pitch) for n in result.notes], result.warnings
    (['C4', 'E4'], [])
    """

    notes: list[Note]
    duration: float
    warnings: list[str] = field(default_factory=list)
    tuning_cents: float = 0.0

    def to_midi(self, *, program: int = 0, tempo: float = 120.0) -> pretty_midi.PrettyMIDI:
        """A one-track PrettyMIDI (GM ``program``, ``tempo`` in BPM for the file's grid).

        Note times stay in seconds whatever the tempo.

        Raises
        ------
        InputError
            ``program`` outside 0-127 or ``tempo`` outside 1-1000 BPM.

        Examples
        --------
        >>> result = Transcription([Note(0.0, 0.5, 60, 90), Note(0.5, 1.0, 64, 80)], duration=1.0)
        >>> midi = result.to_midi(program=40)  # GM 40 = violin
        >>> track = midi.instruments[0]
        >>> track.program, [(n.start, n.pitch) for n in track.notes]
        (40, [(0.0, 60), (0.5, 64)])
        """
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
        """Write the notes as CSV (onset_s, offset_s, pitch, note_name, velocity), atomically.

        Returns
        -------
        Path
            ``path``.

        Examples
        --------
        >>> import tempfile
        >>> result = Transcription([Note(0.0, 0.5, 60, 90)], duration=1.0)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     print(result.write_csv(Path(folder) / "notes.csv").read_text())
        onset_s,offset_s,pitch,note_name,velocity
        0.0000,0.5000,60,C4,90
        <BLANKLINE>
        """
        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["onset_s", "offset_s", "pitch", "note_name", "velocity"])
                for n in self.notes:
                    w.writerow([f"{n.onset:.4f}", f"{n.offset:.4f}", n.pitch,
                                librosa.midi_to_note(n.pitch, unicode=False), n.velocity])
        return atomic_write(Path(path), write)


#: ``--plot`` averages the log-CQT in time down to at most this many columns, so a long
#: recording's picture takes bounded memory (the figure is at most 2000 pixels wide).
MAX_PLOT_COLUMNS = 4000


class _PooledFeatures:
    """A recording's log-CQT averaged in time to at most :data:`MAX_PLOT_COLUMNS` columns,
    built window by window (bounded memory) for :func:`v3music.plots.plot_piano_roll`.

    Parameters
    ----------
    n_frames : int
        CQT frames of the whole recording.
    n_bins : int
    """

    def __init__(self, n_frames: int, n_bins: int) -> None:
        self.step = max(1, -(-n_frames // MAX_PLOT_COLUMNS))  # frames averaged into one column
        self.n_frames = n_frames
        self._columns: list[np.ndarray] = []
        self._pending = np.zeros((n_bins, 0), np.float32)  # frames not yet pooled

    def add(self, features: np.ndarray) -> None:
        """Append the next frames [n_bins, frames] in order."""
        pending = np.concatenate([self._pending, features], axis=1)
        whole = pending.shape[1] // self.step * self.step
        self._columns.append(pending[:, :whole].reshape(pending.shape[0], -1, self.step).mean(axis=2))
        self._pending = pending[:, whole:]

    def add_window(self, features: np.ndarray, offset: int, start: int, stop: int, n_samples: int,
                   hop: int) -> None:
        """Append the core frames of one window's features [n_bins, frames]: the window starts at
        sample ``offset`` of the recording and its core is samples [start, stop) of the window."""
        first, last = (offset + start) // hop, (offset + stop) // hop
        if offset + stop >= n_samples:
            last = self.n_frames
        lo = first - offset // hop
        self.add(features[:, lo : lo + last - first])

    def result(self) -> tuple[np.ndarray, int]:
        """The pooled features [n_bins, columns] and the frames per column."""
        tail = [self._pending.mean(axis=1, keepdims=True)] if self._pending.shape[1] else []
        return np.concatenate([*self._columns, *tail], axis=1), self.step


def _window_lengths(sr: int) -> tuple[int, int]:
    """Core and context lengths (samples) of the windows long audio is cut into."""
    return int(WINDOW_SECONDS * sr), int(CONTEXT_SECONDS * sr)


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
    pitch_context : int
        Each note is named by a vote of its own atom and of this many
        neighbouring notes on each side, each neighbour's atom name moved by
        the interval the two notes' spectra show
        (:func:`v3music.intervals.consensus_pitches`); 0 names every note by
        its own atom alone.
    pitch_range : (int, int)
        Lowest and highest MIDI pitch a note may be named. The default
        ``insnotes`` model's atoms are the 12 pitches C4-B4; it names notes
        of the whole range by transposition search
        (:meth:`v3music.notes.NoteEncoder.search_transpositions`).
    tuning : float or "auto"
        Cents the instrument is tuned off A440 (positive: sharp; -32 for
        A = 432 Hz), or ``"auto"``: estimated for each window of a recording
        (:func:`v3music.tuning.estimate_tuning`), offsets under
        :data:`v3music.tuning.MIN_TUNING_CENTS` left alone. The CQT's bins are
        moved by it, so notes are named at the nearest semitone of that tuning.

    Examples
    --------
    A C major arpeggio (C4, E4, G4; 0.5 s each, 5 harmonics) written as a
    22.05 kHz FLAC, transcribed by one loaded model (resampled to its rate):

    >>> import tempfile, soundfile as sf
    >>> t = np.arange(11025) / 22050  # 0.5 s at 22.05 kHz
    >>> y = np.concatenate([0.2 * sum(np.sin(2 * np.pi * k * f * t) / k for k in range(1, 6))
    ...                     for f in (261.63, 329.63, 392.0)])
    >>> transcriber = Transcriber()
    >>> transcriber.sample_rate  # Hz
    16000
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sf.write(f"{folder}/arpeggio.flac", y, 22050)
    ...     result = transcriber.transcribe_file(f"{folder}/arpeggio.flac")
    >>> [n.pitch for n in result.notes], result.duration  # MIDI numbers, seconds
    ([60, 64, 67], 1.5)
    """

    def __init__(
        self,
        model: LoadedModel | Path | str = DEFAULT_CHECKPOINT,
        *,
        device: str = "cpu",
        onset_sensitivity: float = DEFAULT_ONSET_SENSITIVITY,
        min_note_seconds: float = 0.05,
        silence_db: float = 40.0,
        pitch_context: int = DEFAULT_PITCH_CONTEXT,
        pitch_range: tuple[int, int] = DEFAULT_PITCH_RANGE,
        tuning: float | str = "auto",
    ) -> None:
        if pitch_context < 0:
            raise InputError(f"pitch context {pitch_context}: must be 0 or more notes")
        if isinstance(tuning, str):
            if tuning != "auto":
                raise InputError(f"tuning {tuning!r}: must be 'auto' or a number of cents")
        elif not -50.0 <= tuning <= 50.0:
            raise InputError(f"tuning {tuning:g} cents: must be within 50 cents of A440 (-50 to 50)")
        self.tuning = tuning
        self.pitch_context = int(pitch_context)
        self.notes = NoteEncoder.load(model, device=device, onset_sensitivity=onset_sensitivity,
                                      min_note_seconds=min_note_seconds, silence_db=silence_db,
                                      pitch_range=pitch_range)
        self.loaded = self.notes.loaded
        self.config: MusicConfig = self.notes.config
        if not (self.notes.atom_names >= 0).any():
            raise InputError(f"{self.loaded.path}: the checkpoint names no atoms, so codes cannot become pitches")
        self.silence_db = silence_db

    @property
    def sample_rate(self) -> int:
        """Sample rate (Hz) the model's front end works at; other rates are resampled to it.

        Examples
        --------
        >>> Transcriber().sample_rate
        16000
        """
        return self.config.sample_rate

    @torch.no_grad()
    def transcribe(self, audio: np.ndarray, sr: float) -> Transcription:
        """Transcribe a signal [samples] or [samples, channels] at ``sr`` Hz.

        Raises
        ------
        InputError
            The audio is empty, not finite, or ``sr`` is not a valid rate.

        Examples
        --------
        >>> transcriber = Transcriber("insnotes")
        >>> t = np.arange(16000) / 16000  # 1 s at 16 kHz
        >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
        >>> result = transcriber.transcribe(y, 16000)
        >>> [n.pitch for n in result.notes], result.duration
        ([69], 1.0)
        """
        mono = check_audio(audio, sr)
        if sr != self.sample_rate:
            mono = librosa.resample(mono, orig_sr=sr, target_sr=self.sample_rate)
        return self._transcribe_mono(mono)

    def _tuning_of(self, mono: np.ndarray) -> float:
        """Cents by which to move the CQT's bins for ``mono`` (see ``tuning``); 0.0: none."""
        if not isinstance(self.tuning, str):
            return float(self.tuning)
        return tuning_correction(mono, sr=self.sample_rate)

    def _window_notes(self, mono: np.ndarray, start: int, stop: int,
                      features: np.ndarray | None = None, *, cents: float = 0.0) -> list[tuple[int, int, int, float]]:
        """Notes of ``mono`` whose onset sample lies in [start, stop): (onset, offset) in
        samples of ``mono`` (the offset is where the note is heard to end,
        :attr:`v3music.notes.EncodedNotes.note_offs`), MIDI pitch, peak level in dB.
        Unnamed atoms are dropped; a note that continues the previous one at the same
        pitch with no articulation (:func:`v3music.notes.join_unarticulated`) is joined to it
        (a rise after its release is dropped, unless it is the note played again),
        as are the parts a vibrato's swings cut out (:func:`v3music.notes.join_vibrato_swings`).
        A note that follows another at another pitch starts where its own partials rose: earlier
        than the level showed, or later where the detector placed a legato start on the previous
        note's flux (:func:`v3music.partials.partial_rise_starts`).
        ``features`` is the log-CQT of ``mono`` with its bins moved by ``cents``
        (:func:`v3music.tuning.tuned_frontend`) if already computed."""
        if features is None:
            features = log_cqt(mono, tuned_frontend(self.notes.frontend, cents))
        found = self.notes.encode(mono, start=start, stop=stop, features=features)
        pitches = self.notes.name_notes(found, context=self.pitch_context, features=features)
        fe = self.notes.frontend
        found, pitches = join_unarticulated(found, pitches, gap=fe.hop_length,
                                            attack=round(OCTAVE_ATTACK_SECONDS * fe.sample_rate),
                                            replay_gap=round(REPLAY_GAP_SECONDS * fe.sample_rate))
        found, pitches = join_vibrato_swings(found, pitches, gap=fe.hop_length,
                                             longest=round(VIBRATO_SWING_SECONDS * fe.sample_rate),
                                             bins_per_octave=fe.bins_per_octave)
        named = pitches >= 0
        found, pitches = found.select(named), pitches[named]
        starts = partial_rise_starts(mono, found.starts, found.note_offs, pitches, sample_rate=fe.sample_rate,
                                     cents=cents)
        return [(int(s), int(e), int(p), float(level))
                for s, e, p, level in zip(starts, found.note_offs, pitches, found.peak_db, strict=True)]

    def _collect(self, windows: Iterable[tuple[int, np.ndarray, int, int]], n_samples: int,
                 peak_amplitude: float, pooled: _PooledFeatures | None = None) -> Transcription:
        """Join per-window notes (window offset, audio, core start, core stop) into a Transcription;
        also feed each window's log-CQT to ``pooled`` if given."""
        sr = self.sample_rate
        duration = n_samples / sr
        fe = self.notes.frontend
        raw: list[tuple[int, int, int, float]] = []
        tunings: list[float] = []
        for offset, audio, start, stop in windows:
            audio, boost_db = for_analysis(audio)  # a quiet window is raised; levels are given back as heard
            features = None
            if pooled is not None:
                features = log_cqt(audio, fe)
                # drawn as heard: the boost taken back out of the natural-log magnitudes
                pooled.add_window(features - boost_db * np.log(10.0) / 20.0, offset, start, stop, n_samples,
                                  fe.hop_length)
            cents = self._tuning_of(audio)
            tunings.append(cents)
            reusable = None if cents else features
            raw.extend((offset + a, offset + b, p, lv - boost_db)
                       for a, b, p, lv in self._window_notes(audio, start, stop, reusable, cents=cents))
        tuning = round(float(np.median(tunings)), 1) if tunings else 0.0
        if not raw:
            if peak_amplitude < 1e-5:
                return Transcription([], duration, ["no notes found: the audio is silent"])
            return Transcription([], duration, ["no notes found"], tuning)
        top = max(lv for *_, lv in raw)
        # one melody: a note ends at the latest where the next is heard to begin (a start moved back
        # to where a slow attack rose may precede the previous note-off; same-pitch MIDI notes must not overlap)
        following = [a for a, *_ in raw[1:]] + [n_samples]
        notes = [Note(onset=round(a / sr, 4), offset=round(max(min(b, n_samples, after), a + 1) / sr, 4), pitch=p,
                      velocity=int(np.clip(round(127 * (1.0 - (top - lv) / self.silence_db)), 1, 127)))
                 for (a, b, p, lv), after in zip(raw, following, strict=True)]
        return Transcription(notes, duration, tuning_cents=tuning)

    def _transcribe_mono(self, mono: np.ndarray) -> Transcription:
        """Transcribe an in-memory signal at the model's rate, window by window."""
        core, pad = _window_lengths(self.sample_rate)

        def windows() -> Iterator[tuple[int, np.ndarray, int, int]]:
            for s in range(0, len(mono), core):
                lo = max(s - pad, 0)
                yield lo, mono[lo : s + core + pad], s - lo, s - lo + core

        return self._collect(windows(), len(mono), float(np.max(np.abs(mono))))

    def transcribe_file(self, path: Path | str, *, plot: Path | str | None = None) -> Transcription:
        """Transcribe an audio file (any rate, mono or stereo) in bounded memory.

        The file is read, resampled and transcribed in windows of a few minutes
        with a few seconds of context on each side, so memory does not grow
        with the length of the recording. With ``plot``, the piano roll of
        :meth:`plot_file` is drawn there (PNG) from the same pass over the file.

        Examples
        --------
        >>> import tempfile, soundfile as sf
        >>> t = np.arange(16000) / 16000  # 1 s at 16 kHz
        >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     sf.write(f"{folder}/a4.wav", np.stack([y, y], axis=1), 16000)  # stereo WAV
        ...     result = Transcriber().transcribe_file(f"{folder}/a4.wav")
        >>> [n.pitch for n in result.notes]
        [69]
        """
        core, pad = _window_lengths(self.sample_rate)
        reader = AudioWindows(path, sr=self.sample_rate, core=core, pad=pad)
        fe = self.config.frontend()
        pooled = None if plot is None else _PooledFeatures(1 + reader.n_samples // fe.hop_length, fe.n_bins)
        result = self._collect(iter(reader), reader.n_samples, 0.0, pooled)
        if not result.notes and reader.peak < 1e-5:
            result.warnings = ["no notes found: the audio is silent"]
        if pooled is not None and plot is not None:
            self._draw(pooled, result, plot, title=Path(path).name)
        return result

    def _draw(self, pooled: _PooledFeatures, result: Transcription, out: Path | str, *, title: str) -> Path:
        """Draw ``result``'s notes over the pooled log-CQT as a PNG at ``out``."""
        from .plots import plot_piano_roll

        fe = self.config.frontend()
        features, step = pooled.result()
        return plot_piano_roll(features, fe, result.notes, out, title=title, frame_rate=fe.frame_rate / step)

    def plot_file(self, path: Path | str, result: Transcription, out: Path | str) -> Path:
        """Draw ``result`` as a piano roll over the log-CQT of ``path`` (PNG).

        The file is read in windows, as :meth:`transcribe_file` reads it, and
        the log-CQT is averaged in time to at most :data:`MAX_PLOT_COLUMNS`
        columns, so a long recording's picture takes bounded memory.

        Returns
        -------
        Path
            ``out``.

        Examples
        --------
        >>> import tempfile, soundfile as sf
        >>> t = np.arange(16000) / 16000  # 1 s at 16 kHz
        >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
        >>> transcriber = Transcriber()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     sf.write(f"{folder}/a4.wav", y, 16000)
        ...     result = transcriber.transcribe_file(f"{folder}/a4.wav")
        ...     print(transcriber.plot_file(f"{folder}/a4.wav", result, f"{folder}/roll.png").name)
        roll.png
        """
        fe = self.config.frontend()
        core, pad = _window_lengths(self.sample_rate)
        reader = AudioWindows(path, sr=self.sample_rate, core=core, pad=pad)
        pooled = _PooledFeatures(1 + reader.n_samples // fe.hop_length, fe.n_bins)
        for offset, audio, start, stop in reader:
            pooled.add_window(log_cqt(audio, fe), offset, start, stop, reader.n_samples, fe.hop_length)
        return self._draw(pooled, result, out, title=Path(path).name)

    def transcribe_file_to_file(self, path: Path | str, out: Path | str, *, program: int = 0,
                                tempo: float = 120.0, notes_csv: Path | str | None = None,
                                plot: Path | str | None = None) -> Transcription:
        """Transcribe ``path`` and write a standard MIDI file ``out`` (atomically).

        Parameters
        ----------
        path : str or Path
            An audio file (any rate, mono or stereo).
        out : str or Path
            The MIDI file to write.
        program : int
            General MIDI program of the track (0-127).
        tempo : float
            Tempo in BPM written into the file; note times stay in seconds.
        notes_csv : str or Path, optional
            Also write the notes as CSV (see :meth:`Transcription.write_csv`).
        plot : str or Path, optional
            Also draw the piano roll over the spectrogram there (PNG), from the
            same pass over the file (see :meth:`transcribe_file`).

        Returns
        -------
        Transcription

        Examples
        --------
        >>> import tempfile, soundfile as sf
        >>> t = np.arange(16000) / 16000  # 1 s at 16 kHz
        >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     sf.write(f"{folder}/a4.wav", y, 16000)
        ...     _ = Transcriber().transcribe_file_to_file(f"{folder}/a4.wav", f"{folder}/a4.mid", program=40)
        ...     track = pretty_midi.PrettyMIDI(f"{folder}/a4.mid").instruments[0]
        >>> int(track.program), [n.pitch for n in track.notes]
        (40, [69])
        """
        result = self.transcribe_file(path, plot=plot)
        midi = result.to_midi(program=program, tempo=tempo)
        atomic_write(Path(out), lambda tmp: midi.write(str(tmp)))
        if notes_csv is not None:
            result.write_csv(notes_csv)
        return result


def transcribe(audio: np.ndarray, sr: float, *, model: LoadedModel | Path | str = DEFAULT_CHECKPOINT,
               device: str = "cpu") -> tuple[list[Note], pretty_midi.PrettyMIDI]:
    """Transcribe a signal; return its notes and a PrettyMIDI.

    Parameters
    ----------
    audio : ndarray[samples] or ndarray[samples, channels]
        Float audio.
    sr : float
        Its sample rate in Hz (resampled to the model's rate).
    model : LoadedModel, path or str
        A loaded music model, a checkpoint file, or a shipped checkpoint name.
    device : str
        ``"cpu"``, ``"cuda"``, ``"auto"``...

    Returns
    -------
    notes : list of Note
    midi : pretty_midi.PrettyMIDI

    Examples
    --------
    >>> t = np.arange(16000) / 16000  # 1 s at 16 kHz
    >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
    >>> notes, midi = transcribe(y, 16000)
    >>> [n.pitch for n in notes], len(midi.instruments[0].notes)
    ([69], 1)
    """
    result = Transcriber(model, device=device).transcribe(audio, sr)
    return result.notes, result.to_midi()


def transcribe_file(path: Path | str, *, model: LoadedModel | Path | str = DEFAULT_CHECKPOINT,
                    device: str = "cpu") -> Transcription:
    """Transcribe an audio file (any format soundfile reads, any rate, mono or stereo).

    See :class:`Transcriber` to transcribe many files with one loaded model.

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> t = np.arange(16000) / 16000  # 1 s at 16 kHz
    >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sf.write(f"{folder}/a4.flac", y, 16000)
    ...     result = transcribe_file(f"{folder}/a4.flac")
    >>> [n.pitch for n in result.notes]
    [69]
    """
    return Transcriber(model, device=device).transcribe_file(path)


def transcribe_file_to_file(path: Path | str, out: Path | str, *,
                            model: LoadedModel | Path | str = DEFAULT_CHECKPOINT, device: str = "cpu",
                            program: int = 0) -> Transcription:
    """Transcribe an audio file into a MIDI file (written atomically).

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> t = np.arange(16000) / 16000  # 1 s at 16 kHz
    >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sf.write(f"{folder}/a4.wav", y, 16000)
    ...     result = transcribe_file_to_file(f"{folder}/a4.wav", f"{folder}/a4.mid")
    ...     print(len(pretty_midi.PrettyMIDI(f"{folder}/a4.mid").instruments[0].notes))
    1
    """
    return Transcriber(model, device=device).transcribe_file_to_file(path, out, program=program)
