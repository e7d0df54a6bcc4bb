"""Render MIDI with a SoundFont and build the paper's InsNotes data set.

InsNotes (Wu et al., V3) has one audio file per General MIDI program; in each
file the instrument plays the 12 pitches MIDI 60..71 cyclically, one note per
second, with a random velocity in [80, 120] and a random smooth loudness
envelope per note. This module renders it with a real SoundFont (by default
the ``TimGM6mb.sf2`` that ships with :mod:`pretty_midi`) through
:mod:`midirenderer`, and writes a ``manifest.json`` describing every note.

Some presets of a General MIDI SoundFont do not sound at their written pitch
(in TimGM6mb the tin whistle, program 78, sounds about 9 semitones low), so
the manifest also stores each note's *sounding* pitch, measured with pYIN.

Public API
----------
default_soundfont
    Path of the SoundFont shipped with pretty_midi.
render_midi
    Render a :class:`pretty_midi.PrettyMIDI` to mono float32 audio.
make_insnotes
    Render the InsNotes data set into a folder; returns the manifest path.
read_manifest
    Load and validate the manifest of an InsNotes folder.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import librosa
import midirenderer
import numpy as np
import pretty_midi
import soundfile as sf

from v3.errors import ConfigError, DataError, InputError
from v3.fileio import atomic_write

__all__ = [
    "INSNOTES_OOD_PROGRAMS",
    "INSNOTES_PITCHES",
    "INSNOTES_PROGRAMS",
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "default_soundfont",
    "make_insnotes",
    "read_manifest",
    "render_midi",
]

logger = logging.getLogger(__name__)

#: The 12 General MIDI programs (0-based) of the InsNotes training set:
#: Soprano Sax, Pipe Organ (pretty_midi calls it "Church Organ"), Accordion,
#: Viola, Trumpet, Muted Trumpet, Oboe, Clarinet, Piccolo, Pan Flute,
#: Harmonica, Choir Aahs.
INSNOTES_PROGRAMS: tuple[int, ...] = (64, 19, 21, 41, 56, 59, 68, 71, 72, 75, 22, 52)

#: The out-of-distribution programs of the paper: Acoustic Grand Piano,
#: Electric Piano 1, Flute, Whistle.
INSNOTES_OOD_PROGRAMS: tuple[int, ...] = (0, 4, 73, 78)

#: The written pitches (MIDI numbers) every instrument plays, in cycle order.
INSNOTES_PITCHES: tuple[int, ...] = tuple(range(60, 72))

#: File name of the manifest inside an InsNotes folder.
MANIFEST_NAME = "manifest.json"
#: Format tag stored in (and required of) the manifest.
MANIFEST_FORMAT = "v3-insnotes"
#: Manifest schema version written by :func:`make_insnotes`.
MANIFEST_VERSION = 1

_RENDER_SR = 48000  # midirenderer always returns 48 kHz stereo
_NOTE_SECONDS = 1.0  # one note per second
_NOTE_ON_SECONDS = 0.95  # note off 50 ms before the next onset
_VELOCITY_RANGE = (80, 120)  # inclusive
_ENVELOPE_KNOTS_PER_NOTE = 4  # 5 gain points per note, the last shared with the next note
_ENVELOPE_RANGE = (0.4, 1.0)
_CLIP_PEAK = 1.0  # 16-bit PCM clips at full scale
_NORMALISED_PEAK = 0.9
_PYIN_FMIN = 30.0  # Hz
_PYIN_FMAX = 4000.0  # Hz
_PYIN_FRAME = 2048  # samples at 16 kHz; scaled with the sample rate
_PYIN_WINDOW = (0.2, 0.8)  # the middle 0.6 s of a note, in seconds from its onset
_ODD_HARMONIC_FLOOR = 0.1  # see _correct_subharmonic
_MANIFEST_COLUMNS = ("onsets", "offsets", "pitches", "velocities", "sounding_pitches")


# --------------------------------------------------------------------------
# SoundFont and rendering
# --------------------------------------------------------------------------


def default_soundfont() -> Path:
    """Return the path of the General MIDI SoundFont shipped with pretty_midi.

    Returns
    -------
    Path
        ``TimGM6mb.sf2`` in the installed :mod:`pretty_midi` package folder.

    Raises
    ------
    InputError
        If the installed pretty_midi does not contain the file.

    Examples
    --------
    >>> default_soundfont().name
    'TimGM6mb.sf2'
    """
    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise InputError(f"{path}: the SoundFont shipped with pretty_midi is missing")
    return path


def _soundfont_bytes(path: Path) -> bytes:
    """Read and check a SoundFont, cached per (path, size, mtime)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise InputError(f"{path}: SoundFont cannot be read ({exc.strerror or exc})") from exc
    if not path.is_file():
        raise InputError(f"{path}: SoundFont is not a file")
    return _read_soundfont(str(path.resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _read_soundfont(path: str, size: int, mtime_ns: int) -> bytes:
    # size and mtime_ns only key the cache, so an edited file is read again.
    del size, mtime_ns
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: SoundFont cannot be read ({exc.strerror or exc})") from exc
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise InputError(f"{path}: not a SoundFont 2 file (no RIFF/sfbk header)")
    return data


def instrument_names(programs: Sequence[int], soundfont: Path | str | None = None) -> dict[int, str]:
    """The name a data set's manifest gives each program.

    With the default SoundFont, the General MIDI name; with another, that
    file's bank-0 preset name. A program the file has no preset for is
    played by whatever preset the renderer falls back to: it is named so,
    and a warning is logged.

    Examples
    --------
    >>> instrument_names([0, 73])
    {0: 'Acoustic Grand Piano', 73: 'Flute'}
    """
    if soundfont is None or Path(soundfont) == default_soundfont():
        return {int(p): pretty_midi.program_to_instrument_name(int(p)) for p in programs}
    from .soundfont import soundfont_presets

    path = Path(soundfont)
    presets = soundfont_presets(_soundfont_bytes(path), where=str(path))
    names = {}
    for p in map(int, programs):
        if (0, p) in presets:
            names[p] = presets[(0, p)]
        else:
            logger.warning("%s has no preset for program %d in bank 0: the renderer plays another preset", path, p)
            names[p] = f"program {p} (not in {path.name})"
    return names


def _resolve_soundfont(soundfont: Path | str | None) -> Path:
    return default_soundfont() if soundfont is None else Path(soundfont)


def _check_sr(sr: int) -> int:
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ConfigError(f"sr={sr!r}: the sample rate must be a positive integer in Hz")
    return int(sr)


def render_midi(
    pm: pretty_midi.PrettyMIDI,
    *,
    soundfont: Path | str | None = None,
    sr: int = 16000,
) -> np.ndarray:
    """Render a MIDI object to mono audio with a SoundFont.

    The MIDI is rendered by :func:`midirenderer.render_wave_from` at 48 kHz
    stereo, averaged to mono and resampled to ``sr`` with a polyphase filter.
    The SoundFont bytes are cached per file, so rendering a batch reads the
    file once.

    Parameters
    ----------
    pm : pretty_midi.PrettyMIDI
        The music to render.
    soundfont : Path or str, optional
        A SoundFont 2 (``.sf2``) file; default :func:`default_soundfont`.
    sr : int
        Output sample rate in Hz (default 16000).

    Returns
    -------
    np.ndarray
        float32 mono audio, shape ``[samples]``, at ``sr``; its length is the
        renderer's (about the end of the last note, in seconds, times ``sr``).

    Raises
    ------
    InputError
        If ``pm`` is not a PrettyMIDI, or the SoundFont is missing, unreadable
        or not a SoundFont.
    ConfigError
        If ``sr`` is not a positive integer.

    Examples
    --------
    >>> pm = pretty_midi.PrettyMIDI()
    >>> piano = pretty_midi.Instrument(program=0)
    >>> piano.notes.append(pretty_midi.Note(velocity=100, pitch=69, start=0.0, end=1.0))
    >>> pm.instruments.append(piano)
    >>> y = render_midi(pm, sr=16000)
    >>> y.dtype, y.ndim
    (dtype('float32'), 1)
    """
    if not isinstance(pm, pretty_midi.PrettyMIDI):
        raise InputError(f"pm={type(pm).__name__}: expected a pretty_midi.PrettyMIDI")
    sr = _check_sr(sr)
    sf_path = _resolve_soundfont(soundfont)
    sf2 = _soundfont_bytes(sf_path)

    buf = io.BytesIO()
    pm.write(buf)
    try:
        wav = midirenderer.render_wave_from(sf2, buf.getvalue())
    except (ValueError, RuntimeError) as exc:
        # The header check passed but the renderer could not load the file
        # (or, rarely, the MIDI): report the SoundFont, quoting the renderer.
        raise InputError(f"{sf_path}: the renderer could not load this SoundFont ({exc})") from exc
    audio, file_sr = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if file_sr != sr:
        g = math.gcd(int(file_sr), sr)
        import scipy.signal  # here, not with the module: ~50 MiB that loading a model never needs

        mono = scipy.signal.resample_poly(mono, sr // g, int(file_sr) // g)
    return np.ascontiguousarray(mono, dtype=np.float32)


# --------------------------------------------------------------------------
# InsNotes
# --------------------------------------------------------------------------


def _program_midi(program: int, velocities: np.ndarray) -> pretty_midi.PrettyMIDI:
    """One track playing INSNOTES_PITCHES cyclically, one note per second."""
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(
        program=program, name=pretty_midi.program_to_instrument_name(program)
    )
    for k, vel in enumerate(velocities):
        start = k * _NOTE_SECONDS
        inst.notes.append(
            pretty_midi.Note(
                velocity=int(vel),
                pitch=INSNOTES_PITCHES[k % len(INSNOTES_PITCHES)],
                start=start,
                end=start + _NOTE_ON_SECONDS,
            )
        )
    pm.instruments.append(inst)
    return pm


def _loudness_envelope(rng: np.random.Generator, n_notes: int, sr: int) -> np.ndarray:
    """A smooth random gain curve, shape ``[n_notes * sr]``, values in [0.4, 1].

    Every note gets 5 random gain points evenly spaced over its second; the
    last point of a note is the first of the next, and a PCHIP interpolant
    (C1, never overshooting its points) runs through all of them, so the gain
    is continuous and smooth at note boundaries too: no clicks.
    """
    n_knots = n_notes * _ENVELOPE_KNOTS_PER_NOTE + 1
    knots_t = np.linspace(0.0, n_notes * _NOTE_SECONDS, n_knots)
    knots_g = rng.uniform(*_ENVELOPE_RANGE, size=n_knots)
    t = np.arange(n_notes * sr) / sr
    import scipy.interpolate  # here, not at import (see render_midi)

    gain = scipy.interpolate.PchipInterpolator(knots_t, knots_g)(t)
    return np.clip(gain, *_ENVELOPE_RANGE)


def _harmonic_energy(cumspec: np.ndarray, freqs: np.ndarray, f0: float) -> tuple[float, float]:
    """Spectral energy near the odd and near the even harmonics of f0.

    Each harmonic h f0 owns the band h f0 +- min(3 % of h f0, f0 / 4), so the
    bands never overlap. ``cumspec`` is the cumulative sum of a power
    spectrum, with a leading 0, over the bin frequencies ``freqs`` (Hz).
    """
    h = np.arange(1, int(freqs[-1] / f0) + 1)
    width = np.minimum(0.03 * h * f0, 0.25 * f0)
    lo = np.searchsorted(freqs, h * f0 - width, side="left")
    hi = np.searchsorted(freqs, h * f0 + width, side="right")
    band = cumspec[hi] - cumspec[lo]
    return float(band[0::2].sum()), float(band[1::2].sum())


def _correct_subharmonic(segment: np.ndarray, sr: int, f0: float) -> float:
    """Undo pYIN octave-down errors.

    A tone at f0 has energy at its odd harmonics (f0, 3 f0, ...), if only at
    the fundamental. When they hold less than 10 % of the harmonic energy,
    the period pYIN found belongs to a missing or faint sub-octave, and the
    tone is heard at 2 f0. This fixes e.g. two notes of the TimGM6mb soprano
    sax (odd share < 0.5 %) and organ notes with a faint 16' rank (2-6 %);
    ordinary tones have an odd share of 12 % or more (most 30-99 %).
    """
    spec = np.abs(np.fft.rfft(segment * np.hanning(segment.size))) ** 2
    cumspec = np.concatenate([[0.0], np.cumsum(spec, dtype=np.float64)])
    freqs = np.fft.rfftfreq(segment.size, 1.0 / sr)
    for _ in range(3):
        if 2 * f0 > _PYIN_FMAX:
            break
        odd, even = _harmonic_energy(cumspec, freqs, f0)
        if odd + even <= 0.0 or odd / (odd + even) >= _ODD_HARMONIC_FLOOR:
            break
        f0 *= 2.0
    return f0


def _sounding_pitches(audio: np.ndarray, sr: int) -> list[float | None]:
    """Median pYIN pitch (float MIDI) of the first note of each written pitch.

    The offset between written and sounding pitch depends only on program and
    pitch, so the first cycle stands for all the others. Returns one value per
    entry of INSNOTES_PITCHES; None where pYIN found no voiced frame.
    """
    lo, hi = (round(s * sr) for s in _PYIN_WINDOW)
    segments = np.stack(
        [audio[k * sr + lo : k * sr + hi] for k in range(len(INSNOTES_PITCHES))]
    ).astype(np.float32)
    frame = max(256, round(_PYIN_FRAME * sr / 16000))
    # One batched call: pYIN's cost is mostly its Viterbi pass, and batching
    # shares the set-up of the transition matrix.
    # hop = frame / 2 (not librosa's frame / 4): ~10 frames per note are
    # plenty for a median and halve the Viterbi cost.
    f0, voiced, _ = librosa.pyin(
        segments,
        fmin=_PYIN_FMIN,
        fmax=min(_PYIN_FMAX, sr / 2 - 1),
        sr=sr,
        frame_length=frame,
        hop_length=frame // 2,
    )
    out: list[float | None] = []
    for seg, f, v in zip(segments, f0, voiced):
        hz = f[v & np.isfinite(f)]
        if hz.size == 0:
            out.append(None)
            continue
        med = _correct_subharmonic(seg, sr, float(np.median(hz)))
        out.append(round(float(librosa.hz_to_midi(med)), 2))
    return out


def _write_wav(path: Path, *, audio: np.ndarray, sr: int) -> None:
    sf.write(path, audio, sr, format="WAV", subtype="PCM_16")


def _check_programs(programs: Sequence[int]) -> tuple[int, ...]:
    progs = tuple(programs)
    if not progs:
        raise ConfigError("programs=(): at least one General MIDI program is needed")
    for p in progs:
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not 0 <= p <= 127:
            raise ConfigError(f"program={p!r}: General MIDI programs are integers 0..127")
    if len(set(progs)) != len(progs):
        raise ConfigError(f"programs={progs}: a program is listed twice")
    return tuple(int(p) for p in progs)


def make_insnotes(
    out_dir: Path | str,
    *,
    programs: Sequence[int] = INSNOTES_PROGRAMS,
    n_cycles: int = 10,
    seed: int = 0,
    soundfont: Path | str | None = None,
    sr: int = 16000,
    noise_snr_db: tuple[float, float] | None = None,
    progress: bool = False,
) -> Path:
    """Render the InsNotes data set (one WAV per program) and its manifest.

    For each program one track plays the written pitches MIDI 60..71
    cyclically, ``n_cycles`` times: note ``k`` starts at ``k`` s and ends at
    ``k + 0.95`` s, with a velocity drawn uniformly from the integers 80..120.
    After rendering, a random smooth loudness envelope (gain 0.4..1.0, five
    points per note joined by a PCHIP curve, continuous across notes) is
    applied, the audio is cut or padded to exactly ``n_notes`` seconds, and it
    is scaled to a 0.9 peak only if it would otherwise clip.

    The sounding pitch of every (program, pitch) is measured with pYIN on the
    middle 0.6 s of its first note, as the median voiced f0 in MIDI numbers.

    Randomness comes from ``SeedSequence(seed)``: program ``p`` draws from its
    child with spawn key ``(p,)``, so one seed gives bit-identical files, and a
    program's file does not depend on which other programs are rendered.

    Parameters
    ----------
    out_dir : Path or str
        Output folder; created if needed. Existing files of the same names are
        replaced.
    programs : sequence of int
        General MIDI programs, 0-based (default :data:`INSNOTES_PROGRAMS`).
    n_cycles : int
        How many times each file plays the 12 pitches (default 10, i.e.
        120 notes, 120 s per file).
    seed : int
        Non-negative random seed.
    soundfont : Path or str, optional
        SoundFont 2 file; default :func:`default_soundfont`.
    sr : int
        Sample rate of the WAV files in Hz (default 16000).
    noise_snr_db : (float, float), optional
        Training augmentation for noisy recordings: also write a copy of
        every file with white noise added at one signal-to-noise ratio (dB,
        against the file's RMS) drawn uniformly from this range per file
        (``prog{program:03d}-noisy.wav``; its manifest entry records
        ``noise_snr_db``). Noise is constant within a file, as in a recording,
        so V3 sees it as part of the style. The clean files do not change.
    progress : bool
        Show a tqdm progress bar over the programs.

    Returns
    -------
    Path
        The written ``manifest.json`` in ``out_dir``. Each WAV is
        ``prog{program:03d}.wav``: 16-bit PCM, mono, ``sr`` Hz,
        ``n_cycles * 12`` seconds (plus the noisy copies, if asked).

    Raises
    ------
    ConfigError
        If a program, ``n_cycles``, ``seed`` or ``sr`` is out of range.
    InputError
        If the SoundFont is missing or not a SoundFont.
    DataError
        If ``out_dir`` cannot be created or written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     manifest = make_insnotes(folder, programs=(0, 78), n_cycles=1)
    ...     read_manifest(manifest.parent)["files"][1]["instrument"]
    'Whistle'
    """
    progs = _check_programs(programs)
    if isinstance(n_cycles, bool) or not isinstance(n_cycles, (int, np.integer)) or n_cycles < 1:
        raise ConfigError(f"n_cycles={n_cycles!r}: must be a positive integer")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed={seed!r}: must be a non-negative integer")
    sr = _check_sr(sr)
    if noise_snr_db is not None:
        lo_snr, hi_snr = (float(v) for v in noise_snr_db)
        if not (np.isfinite(lo_snr) and np.isfinite(hi_snr) and lo_snr <= hi_snr):
            raise ConfigError(f"noise_snr_db={noise_snr_db!r}: must be two finite dB values, low <= high")
    sf_path = _resolve_soundfont(soundfont)
    _soundfont_bytes(sf_path)  # fail early, before any file is written
    names = instrument_names(progs, sf_path)

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{out}: output folder cannot be created ({exc.strerror or exc})") from exc

    n_notes = int(n_cycles) * len(INSNOTES_PITCHES)
    n_samples = n_notes * sr
    onsets = [k * _NOTE_SECONDS for k in range(n_notes)]
    offsets = [round(t + _NOTE_ON_SECONDS, 6) for t in onsets]
    pitches = [INSNOTES_PITCHES[k % len(INSNOTES_PITCHES)] for k in range(n_notes)]

    iterator: Any = progs
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(progs, desc="InsNotes", unit="program")

    entries: list[dict[str, Any]] = []
    for program in iterator:
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(program,)))
        lo, hi = _VELOCITY_RANGE
        velocities = rng.integers(lo, hi + 1, size=n_notes)
        audio = render_midi(_program_midi(program, velocities), soundfont=sf_path, sr=sr)
        audio = np.pad(audio[:n_samples], (0, max(0, n_samples - audio.size)))

        sounding = _sounding_pitches(audio, sr)
        audio = audio * _loudness_envelope(rng, n_notes, sr)
        peak = float(np.max(np.abs(audio)))
        if peak >= _CLIP_PEAK:
            audio = audio * (_NORMALISED_PEAK / peak)
        audio = audio.astype(np.float32)

        entry = {
            "path": f"prog{program:03d}.wav",
            "program": program,
            "instrument": names[program],
            "onsets": onsets,
            "offsets": offsets,
            "pitches": pitches,
            "velocities": [int(v) for v in velocities],
            "sounding_pitches": [sounding[k % len(INSNOTES_PITCHES)] for k in range(n_notes)],
        }
        _write_insnotes_file(out / entry["path"], audio, sr)
        entries.append(entry)
        if noise_snr_db is not None:
            # own generator: the clean files stay those of `seed`
            noise_rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(program, 1)))
            snr = float(noise_rng.uniform(lo_snr, hi_snr))
            rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
            noisy = audio + (noise_rng.standard_normal(audio.size) * rms * 10.0 ** (-snr / 20.0)).astype(np.float32)
            noisy_peak = float(np.max(np.abs(noisy)))
            if noisy_peak >= _CLIP_PEAK:
                noisy = (noisy * (_NORMALISED_PEAK / noisy_peak)).astype(np.float32)
            noisy_entry = {**entry, "path": f"prog{program:03d}-noisy.wav", "noise_snr_db": round(snr, 2)}
            _write_insnotes_file(out / noisy_entry["path"], noisy, sr)
            entries.append(noisy_entry)

    return write_manifest(out, entries, sr=sr, seed=int(seed), soundfont=sf_path, note_seconds=_NOTE_SECONDS)


def _write_insnotes_file(wav_path: Path, audio: np.ndarray, sr: int) -> None:
    try:
        atomic_write(wav_path, functools.partial(_write_wav, audio=audio, sr=sr))
    except (OSError, sf.LibsndfileError) as exc:
        raise DataError(f"{wav_path}: cannot be written ({exc})") from exc
    logger.info("wrote %s (peak %.3f)", wav_path, float(np.max(np.abs(audio))) if audio.size else 0.0)


def write_manifest(out: Path, entries: list[dict[str, Any]], *, sr: int, seed: int, soundfont: Path,
                   note_seconds: float | None = None) -> Path:
    """Write ``out/manifest.json`` (atomically) for rendered files ``entries``.

    Each entry holds ``path``, ``program``, ``instrument`` and the per-note
    columns ``onsets``, ``offsets``, ``pitches``, ``velocities`` and
    ``sounding_pitches`` (see :func:`read_manifest`).
    """
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "sample_rate": sr,
        "seed": seed,
        "soundfont": soundfont.name,
        "soundfont_sha256": hashlib.sha256(_soundfont_bytes(soundfont)).hexdigest(),
        "note_seconds": note_seconds,
        "files": entries,
    }
    manifest_path = out / MANIFEST_NAME
    text = json.dumps(manifest, indent=1, allow_nan=False) + "\n"
    try:
        atomic_write(manifest_path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"{manifest_path}: cannot be written ({exc.strerror or exc})") from exc
    return manifest_path


# --------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def read_manifest(data_dir: Path | str) -> dict[str, Any]:
    """Load and validate the manifest of an InsNotes folder.

    Parameters
    ----------
    data_dir : Path or str
        A folder written by :func:`make_insnotes`.

    Returns
    -------
    dict
        The manifest as stored: ``format``, ``version``, ``sample_rate``
        (Hz), ``seed``, ``soundfont``, ``soundfont_sha256``, ``note_seconds``
        and ``files``, a list with one dict per WAV: ``path`` (relative to
        ``data_dir``), ``program``, ``instrument`` and the per-note columns
        ``onsets`` and ``offsets`` (seconds), ``pitches`` (written MIDI
        numbers), ``velocities`` and ``sounding_pitches`` (float MIDI numbers,
        or None where unvoiced), all of one length.

    Raises
    ------
    DataError
        If the folder or manifest is missing, the manifest is not valid JSON
        or not an InsNotes manifest, a listed WAV is missing, or the per-note
        columns of a file differ in length.

    Examples
    --------
    >>> m = read_manifest("data/insnotes")  # doctest: +SKIP
    >>> m["sample_rate"], len(m["files"])  # doctest: +SKIP
    (16000, 12)
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise DataError(f"{folder}: InsNotes folder does not exist")
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise DataError(f"{path}: manifest is missing")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: manifest cannot be read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: manifest is not valid JSON ({exc})") from exc

    if not isinstance(manifest, dict):
        raise DataError(f"{path}: manifest is a {type(manifest).__name__}, not a JSON object")
    fmt = manifest.get("format")
    if fmt != MANIFEST_FORMAT:
        raise DataError(f"{path}: format {fmt!r} is not {MANIFEST_FORMAT!r}")
    version = manifest.get("version")
    if version != MANIFEST_VERSION:
        raise DataError(f"{path}: manifest version {version!r} is not supported")
    sr = manifest.get("sample_rate")
    if not isinstance(sr, int) or isinstance(sr, bool) or sr <= 0:
        raise DataError(f"{path}: sample_rate {sr!r} is not a positive integer")
    files = manifest.get("files")
    if not isinstance(files, list) or not files:
        raise DataError(f"{path}: 'files' must be a non-empty list")

    for i, entry in enumerate(files):
        where = f"{path}: files[{i}]"
        if not isinstance(entry, dict):
            raise DataError(f"{where} is not a JSON object")
        rel = entry.get("path")
        if (
            not isinstance(rel, str)
            or not rel
            or Path(rel).is_absolute()
            or ".." in Path(rel).parts
        ):
            raise DataError(f"{where}: path {rel!r} is not a file name inside the folder")
        if not _is_int(entry.get("program")):
            raise DataError(f"{where}: program {entry.get('program')!r} is not an integer")
        lengths: dict[str, int] = {}
        for col in _MANIFEST_COLUMNS:
            values = entry.get(col)
            if not isinstance(values, list):
                raise DataError(f"{where}: column {col!r} is missing or not a list")
            lengths[col] = len(values)
        if len(set(lengths.values())) != 1:
            raise DataError(f"{where} ({rel}): per-note columns differ in length {lengths}")
        if not (folder / rel).is_file():
            raise DataError(f"{folder / rel}: WAV listed in {path} is missing")
    return manifest
