"""Timbre embeddings: V3 style vectors pooled over a recording's notes.

A recording's embedding is the mean style vector of the notes that
:class:`v3music.notes.NoteEncoder` finds in it (each note's fragment, encoded
by a music model), each note weighted by its length: a long note's fragment
holds the instrument alone, a short one's often the next attack too (research
log S66). Two embeddings are compared by cosine similarity. Long
files are read in windows, so memory does not grow with their length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v3.checkpoint import LoadedModel
from v3.errors import InputError

from .audio import AudioWindows, check_audio, for_analysis
from .notes import EncodedNotes, NoteEncoder
from .segment import DEFAULT_ONSET_SENSITIVITY

__all__ = [
    "DEFAULT_CHECKPOINT",
    "TimbreModel",
    "cosine_similarity",
    "timbre_embedding",
    "timbre_embedding_file",
]

DEFAULT_CHECKPOINT = "timbre"
WINDOW_SECONDS = 120.0
CONTEXT_SECONDS = 4.0


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of embeddings ``a`` [..., D] and ``b`` [..., D] (broadcast), in [-1, 1].

    Examples
    --------
    >>> float(cosine_similarity(np.array([1.0, 0.0]), np.array([2.0, 0.0])))
    1.0
    """
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    return np.sum(a * b, axis=-1) / np.maximum(na * nb, 1e-12)


class TimbreModel:
    """A loaded music model for timbre embeddings (and, in :mod:`v3music.swap`, timbre swaps).

    Parameters
    ----------
    model : LoadedModel, path or str
        A loaded music model, a checkpoint file, or a shipped checkpoint name.
    device : str
        ``"cpu"``, ``"cuda"``, ``"auto"``...
    onset_sensitivity, min_note_seconds, silence_db : float
        How notes are found (as in ``v3 transcribe``).

    Examples
    --------
    >>> tm = TimbreModel()
    >>> tm.sample_rate, tm.dim  # Hz, embedding length
    (16000, 16)
    >>> t = np.arange(32000) / 16000
    >>> tm.embed(np.sin(2 * np.pi * 262 * t), 16000).shape
    (16,)
    """

    def __init__(self, model: LoadedModel | Path | str = DEFAULT_CHECKPOINT, *, device: str = "cpu",
                 onset_sensitivity: float = DEFAULT_ONSET_SENSITIVITY, min_note_seconds: float = 0.05,
                 silence_db: float = 40.0) -> None:
        self.notes = NoteEncoder.load(model, device=device, onset_sensitivity=onset_sensitivity,
                                      min_note_seconds=min_note_seconds, silence_db=silence_db)

    @property
    def sample_rate(self) -> int:
        """Sample rate (Hz) of the model's front end; other rates are resampled to it.

        Examples
        --------
        >>> TimbreModel().sample_rate
        16000
        """
        return self.notes.sample_rate

    @property
    def dim(self) -> int:
        """Length of an embedding (the model's style size).

        Examples
        --------
        >>> tm = TimbreModel()
        >>> tm.dim == tm.embed(np.sin(2 * np.pi * 440 * np.arange(16000) / 16000), 16000).shape[0]
        True
        """
        return int(self.notes.loaded.model.config.style_dim)

    def encode(self, audio: np.ndarray, sr: float, *, where: str = "audio") -> tuple[np.ndarray, EncodedNotes]:
        """Validate ``audio`` [samples] or [samples, channels] at ``sr`` Hz and encode its notes.

        Returns
        -------
        mono : ndarray[samples]
            The signal, mixed to mono and resampled to :attr:`sample_rate`.
        notes : EncodedNotes
            The notes found: ``onsets``/``offsets`` (samples of ``mono``),
            ``codes`` [n_notes], ``style`` [n_notes, D], ...

        Raises
        ------
        InputError
            Invalid audio (empty, not finite, bad rate).

        Examples
        --------
        >>> t = np.arange(22050) / 22050  # 1 s at 22.05 kHz
        >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
        >>> mono, notes = TimbreModel().encode(np.stack([y, y], axis=1), 22050)  # stereo
        >>> mono.shape, notes.style.shape  # 16 kHz mono; one note, 16 style values
        ((16000,), (1, 16))
        """
        mono = self.at_model_rate(audio, sr, where=where)
        return mono, self.notes.encode(for_analysis(mono)[0])

    def at_model_rate(self, audio: np.ndarray, sr: float, *, where: str = "audio") -> np.ndarray:
        """Validate ``audio`` [samples] or [samples, channels] at ``sr`` Hz; return it as mono
        float32 [samples] at :attr:`sample_rate`.

        Raises
        ------
        InputError
            Invalid audio (empty, not finite, bad rate).

        Examples
        --------
        >>> TimbreModel().at_model_rate(np.zeros((44100, 2)), 44100).shape  # 1 s of stereo at 44.1 kHz
        (16000,)
        """
        import librosa

        mono = check_audio(audio, sr, where=where)
        if sr != self.sample_rate:
            mono = librosa.resample(mono, orig_sr=sr, target_sr=self.sample_rate)
        return mono

    def pool(self, notes: EncodedNotes, peak: float, where: str) -> np.ndarray:
        """Timbre embedding [D] of encoded ``notes``: their style vectors' mean, weighted by length.

        ``peak`` is the recording's peak amplitude and ``where`` names it, for the
        error raised when there are no notes (:class:`~v3.errors.InputError`).
        """
        return _weighted_mean(*_weighted_styles(notes), peak, where)

    def embed(self, audio: np.ndarray, sr: float, *, where: str = "audio") -> np.ndarray:
        """Timbre embedding [D] of a signal: the mean style vector of its notes, weighted by their lengths.

        Raises
        ------
        InputError
            Invalid audio, or no notes (e.g. silence).

        Examples
        --------
        >>> t = np.arange(16000) / 16000  # 1 s at 16 kHz
        >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
        >>> tm = TimbreModel()
        >>> same = cosine_similarity(tm.embed(y, 16000), tm.embed(0.5 * y, 16000))  # louder, same timbre
        >>> round(float(same), 2)
        1.0
        >>> tm.embed(np.zeros(16000), 16000)
        Traceback (most recent call last):
        ...
        v3.errors.InputError: audio: the audio is silent, so it has no timbre to measure
        """
        mono, notes = self.encode(audio, sr, where=where)
        return self.pool(notes, float(np.abs(mono).max()), where)

    def embed_file(self, path: Path | str) -> np.ndarray:
        """Timbre embedding [D] of an audio file, read in windows (bounded memory).

        Examples
        --------
        >>> import tempfile, soundfile as sf
        >>> t = np.arange(16000) / 16000  # 1 s at 16 kHz
        >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     sf.write(f"{folder}/a4.flac", y, 16000)
        ...     embedding = TimbreModel().embed_file(f"{folder}/a4.flac")
        >>> embedding.shape, embedding.dtype
        ((16,), dtype('float32'))
        """
        sr = self.sample_rate
        reader = AudioWindows(path, sr=sr, core=int(WINDOW_SECONDS * sr), pad=int(CONTEXT_SECONDS * sr))
        total = np.zeros(self.dim, np.float64)
        weight = 0.0
        for _, audio, start, stop in reader:
            style_sum, note_weight = _weighted_styles(self.notes.encode(for_analysis(audio)[0], start=start,
                                                                        stop=stop))
            total += style_sum
            weight += note_weight
        return _weighted_mean(total, weight, reader.peak, str(path))

    def rank(self, query: np.ndarray, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Order ``embeddings`` [N, D] by cosine similarity to ``query`` [D], most similar first.

        Returns (indices [N], similarities [N]) in that order.

        Examples
        --------
        >>> embeddings = np.array([[0.0, 1.0], [1.0, 0.1], [-1.0, 0.0]])
        >>> order, sims = TimbreModel().rank(np.array([1.0, 0.0]), embeddings)
        >>> order.tolist(), sims.round(3).tolist()
        ([1, 0, 2], [0.995, 0.0, -1.0])
        """
        sims = cosine_similarity(np.asarray(embeddings)[:, :], np.asarray(query)[None, :])
        order = np.argsort(-sims, kind="stable")
        return order, sims[order]


def timbre_embedding(audio: np.ndarray, sr: float, *, model: LoadedModel | Path | str = DEFAULT_CHECKPOINT,
                     device: str = "cpu") -> np.ndarray:
    """Timbre embedding [D] of a signal [samples] or [samples, channels] at ``sr`` Hz.

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> timbre_embedding(0.5 * np.sin(2 * np.pi * 262 * t), 16000).shape
    (16,)
    """
    return TimbreModel(model, device=device).embed(audio, sr)


def timbre_embedding_file(path: Path | str, *, model: LoadedModel | Path | str = DEFAULT_CHECKPOINT,
                          device: str = "cpu") -> np.ndarray:
    """Timbre embedding [D] of an audio file (any format soundfile reads, any rate, mono or stereo).

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> t = np.arange(22050) / 22050  # 1 s at 22.05 kHz
    >>> y = 0.2 * sum(np.sin(2 * np.pi * k * 440 * t) / k for k in range(1, 6))  # A4, 5 harmonics
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sf.write(f"{folder}/a4.flac", y, 22050)
    ...     embedding = timbre_embedding_file(f"{folder}/a4.flac")
    >>> embedding.shape, embedding.dtype
    ((16,), dtype('float32'))
    """
    return TimbreModel(model, device=device).embed_file(path)


def _weighted_styles(notes: EncodedNotes) -> tuple[np.ndarray, float]:
    """The notes' style vectors summed [D], each weighted by its length in samples (at least one),
    and the sum of the weights."""
    lengths = np.maximum(notes.offsets - notes.onsets, 1).astype(np.float64)
    return lengths @ notes.style.astype(np.float64), float(lengths.sum())


def _weighted_mean(style_sum: np.ndarray, weight: float, peak: float, where: str) -> np.ndarray:
    """``style_sum / weight`` as float32; a clear error when no note was found."""
    if weight <= 0.0:
        if peak < 1e-5:
            raise InputError(f"{where}: the audio is silent, so it has no timbre to measure")
        raise InputError(f"{where}: no notes found, so there is no timbre to measure")
    return (style_sum / weight).astype(np.float32)
