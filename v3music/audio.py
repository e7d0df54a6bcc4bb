"""Audio input: read any file soundfile can, validate it, mix to mono, resample.

Files are streamed in blocks and resampled with a streaming resampler, so a
long recording never sits in memory at its original rate and channel count:
an hour of 44.1 kHz stereo becomes ~230 MB of 16 kHz mono float32.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from v3.errors import InputError

__all__ = ["ANALYSIS_PEAK_DBFS", "MAX_BOOST_DB", "MAX_SAMPLE_RATE", "MIN_SAMPLE_RATE", "check_audio", "for_analysis",
           "load_audio"]

log = logging.getLogger(__name__)

MIN_SAMPLE_RATE = 1000
MAX_SAMPLE_RATE = 768000
_BLOCK_SECONDS = 30.0
#: A recording (or a window of one) whose peak lies under ANALYSIS_PEAK_DBFS is raised to it
#: before its notes are found and encoded, by at most MAX_BOOST_DB. The log-CQT's floor and the
#: note detector's absolute silence level are fixed, so a quiet recording's spectra lose their
#: soft partials: bench seed 0 at 52 dBFS under full scale lost 0.035 note+offset F1 and a
#: timbre embedding pointed the other way (cosine -0.76) at 40 dB under its render (research
#: log T112). The bench's renders peak at -12 to -23 dBFS, as the training data does.
ANALYSIS_PEAK_DBFS = -20.0
MAX_BOOST_DB = 40.0


def _check_rate(sr: float, where: str) -> None:
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise InputError(f"{where}: sample rate {sr:g} Hz is not valid "
                         f"(expected {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz)")


def check_audio(audio: np.ndarray, sr: float, *, where: str = "audio") -> np.ndarray:
    """Validate an in-memory signal and return it as mono float32.

    Parameters
    ----------
    audio : ndarray[samples] or ndarray[samples, channels]
        Any real dtype; channels are averaged.
    sr : float
        Its sample rate in Hz.
    where : str
        Name used in error messages (e.g. the file path).

    Returns
    -------
    ndarray[samples] (float32)

    Raises
    ------
    InputError
        Not a real 1-D/2-D array, no samples, NaN/Inf samples, or a sample
        rate outside 1 kHz - 768 kHz.

    Examples
    --------
    >>> check_audio(np.zeros((4, 2)), 16000).shape
    (4,)
    """
    _check_rate(float(sr), where)
    arr = np.asarray(audio)
    if arr.dtype.kind not in "fiu":
        raise InputError(f"{where}: audio must be real numbers, got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = arr.mean(axis=1)
    elif arr.ndim != 1:
        raise InputError(f"{where}: audio must be [samples] or [samples, channels], got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{where}: the audio holds no samples")
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise InputError(f"{where}: the audio contains NaN or infinite samples")
    return arr


def for_analysis(audio: np.ndarray) -> tuple[np.ndarray, float]:
    """``audio`` [samples] raised to :data:`ANALYSIS_PEAK_DBFS` if it is quieter, and the gain in dB.

    Never lowered, raised by at most :data:`MAX_BOOST_DB`; an all-zero signal
    is returned as it is.

    Examples
    --------
    >>> quiet = np.full(4, 0.001, np.float32)  # peak -60 dBFS
    >>> raised, gain_db = for_analysis(quiet)
    >>> round(gain_db, 1), round(float(20 * np.log10(raised.max())), 1)
    (40.0, -20.0)
    >>> for_analysis(np.full(4, 0.5, np.float32))[1]  # -6 dBFS: left as it is
    0.0
    """
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 0.0:
        return audio, 0.0
    gain_db = float(np.clip(ANALYSIS_PEAK_DBFS - 20.0 * np.log10(peak), 0.0, MAX_BOOST_DB))
    if gain_db == 0.0:
        return audio, 0.0
    return (audio * np.float32(10.0 ** (gain_db / 20.0))).astype(audio.dtype, copy=False), gain_db


def _open(path: Path) -> sf.SoundFile:
    """Open an audio file for reading, or raise a one-line InputError naming it."""
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected an audio file")
    try:
        handle = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        reason = str(exc).split(":")[-1].strip() or type(exc).__name__
        raise InputError(f"{path}: not a readable audio file ({reason})") from exc
    _check_rate(float(handle.samplerate), str(path))
    return handle


class AudioWindows:
    """Overlapping windows of an audio file, mono at ``sr`` Hz, read one at a time.

    Iterating yields ``(offset, audio, start, stop)``: ``audio`` covers target
    samples ``[offset, offset + len(audio))`` of the whole recording and its
    core (the part a window is responsible for) is ``audio[start:stop]``;
    ``pad`` samples of context surround each core where the file allows.
    Memory stays at one window whatever the length of the file.

    Parameters
    ----------
    path : path
        Any file libsndfile reads.
    sr : int
        Target sample rate in Hz.
    core, pad : int
        Core length and context on each side, in target samples.

    Attributes
    ----------
    n_samples : int
        Length of the recording at ``sr``.
    peak : float
        Largest absolute sample seen so far (after mixing to mono).
    """

    def __init__(self, path: Path | str, *, sr: int, core: int, pad: int) -> None:
        self.path = Path(path)
        with _open(self.path) as handle:
            self.file_sr = int(handle.samplerate)
            self.frames = int(handle.frames)
        if self.frames <= 0:
            raise InputError(f"{self.path}: the file holds no audio samples")
        self.sr, self.core, self.pad = sr, core, pad
        self.n_samples = round(self.frames * sr / self.file_sr)
        self.peak = 0.0

    def __iter__(self) -> Iterator[tuple[int, np.ndarray, int, int]]:
        ratio = self.file_sr / self.sr
        with _open(self.path) as handle:
            for s in range(0, self.n_samples, self.core):
                lo, hi = max(s - self.pad, 0), min(s + self.core + self.pad, self.n_samples)
                f_lo, f_hi = int(np.floor(lo * ratio)), min(int(np.ceil(hi * ratio)) + 1, self.frames)
                try:
                    handle.seek(f_lo)
                    data = handle.read(f_hi - f_lo, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    raise InputError(f"{self.path}: the audio data is corrupt or truncated ({exc})") from exc
                mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
                if not np.isfinite(mono).all():
                    raise InputError(f"{self.path}: the audio contains NaN or infinite samples")
                if self.file_sr != self.sr:
                    mono = soxr.resample(mono, self.file_sr, self.sr)
                mono = np.ascontiguousarray(mono[: hi - lo], dtype=np.float32)
                if len(mono) < hi - lo:
                    mono = np.pad(mono, (0, hi - lo - len(mono)))
                self.peak = max(self.peak, float(np.max(np.abs(mono))) if mono.size else 0.0)
                yield lo, mono, s - lo, min(s + self.core, self.n_samples) - lo


def load_audio(path: Path | str, *, sr: int) -> np.ndarray:
    """Read an audio file as mono float32 at ``sr`` Hz, in bounded memory.

    Parameters
    ----------
    path : path
        WAV, FLAC, OGG, MP3 or anything else libsndfile reads; any rate, any
        number of channels.
    sr : int
        Target sample rate in Hz.

    Returns
    -------
    ndarray[samples] (float32)

    Raises
    ------
    InputError
        Missing file, a folder, not audio (or truncated), no samples, NaN/Inf
        samples, or an absurd sample rate. The message starts with the path.
    """
    path = Path(path)
    handle = _open(path)
    with handle:
        file_sr = handle.samplerate
        resampler = soxr.ResampleStream(file_sr, sr, 1, dtype="float32") if file_sr != sr else None
        pieces: list[np.ndarray] = []
        block = max(int(_BLOCK_SECONDS * file_sr), 1)
        total = 0
        try:
            while True:
                data = handle.read(block, dtype="float32", always_2d=True)
                last = len(data) < block
                total += len(data)
                mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
                if not np.isfinite(mono).all():
                    raise InputError(f"{path}: the audio contains NaN or infinite samples")
                if resampler is not None:
                    mono = resampler.resample_chunk(mono, last=last)
                pieces.append(np.ascontiguousarray(mono, dtype=np.float32))
                if last:
                    break
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise InputError(f"{path}: the audio data is corrupt or truncated ({exc})") from exc
    if total == 0:
        raise InputError(f"{path}: the file holds no audio samples")
    return np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
