"""Write a SoundFont 2 (``.sf2``) file from your own samples.

A SoundFont maps each MIDI key of a preset to a recorded sample, which the
player pitch-shifts from the sample's root key, loops while the key is held
and shapes with a volume envelope (and, optionally, a vibrato). This module
writes the small subset of the SoundFont 2.01 format needed for that: one
instrument per preset (bank 0), one zone per sample, 16-bit mono samples.
Any SoundFont player reads the result; :func:`v3music.synth.render_midi`
renders with it like with any other ``.sf2``.

Uses: render training data or benchmarks in an instrument of your own (a few
recorded notes of it are enough), and test that nothing in v3 depends on the
one General MIDI SoundFont it ships with.

Public API
----------
Zone
    One sample and the keys it plays.
Instrument
    A preset: its program number, zones and envelope.
write_soundfont
    Write instruments to a ``.sf2`` file.
soundfont_presets
    The presets of any SoundFont 2 file: (bank, program) -> name.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v3.errors import ConfigError, InputError
from v3.fileio import atomic_write

__all__ = ["Instrument", "Zone", "soundfont_presets", "write_soundfont"]

# SoundFont 2.01 generator numbers (section 8.1.2 of the specification)
_VIB_LFO_TO_PITCH = 6
_DELAY_VIB_LFO = 23
_FREQ_VIB_LFO = 24
_ATTACK_VOL_ENV = 34
_RELEASE_VOL_ENV = 38
_INSTRUMENT = 41
_KEY_RANGE = 43
_SAMPLE_ID = 53
_SAMPLE_MODES = 54
_OVERRIDING_ROOT_KEY = 58
#: zero data points after each sample, as the specification requires
_SAMPLE_PADDING = 46


@dataclass(frozen=True)
class Zone:
    """One sample of an instrument and the MIDI keys it plays.

    Attributes
    ----------
    audio : ndarray[samples]
        Mono audio in [-1, 1] (stored as 16-bit integers).
    sr : int
        Its sample rate, Hz.
    root_key : int
        MIDI key at which the sample sounds at its recorded pitch.
    keys : tuple of int
        Lowest and highest MIDI key (inclusive) that play this sample.
    loop : tuple of int, optional
        First sample of the loop and the sample after its end; the player
        repeats it while the key is held. None: the sample plays once.
    pitch_correction : int
        Cents the player adds to correct the sample's tuning (-99..99).
    """

    audio: np.ndarray
    sr: int
    root_key: int
    keys: tuple[int, int]
    loop: tuple[int, int] | None = None
    pitch_correction: int = 0


@dataclass(frozen=True)
class Instrument:
    """A preset: the zones a program plays, with a volume envelope and a vibrato.

    Attributes
    ----------
    name : str
        Preset name (at most 20 ASCII characters are stored).
    program : int
        General MIDI program number (0-127), bank 0.
    zones : sequence of Zone
    attack, release : float
        Volume envelope attack and release times, seconds.
    vibrato_cents : float
        Depth of the vibrato LFO, cents (0: none).
    vibrato_hz, vibrato_delay : float
        Vibrato rate (Hz) and the delay before it starts (s).
    """

    name: str
    program: int
    zones: Sequence[Zone]
    attack: float = 0.005
    release: float = 0.1
    vibrato_cents: float = 0.0
    vibrato_hz: float = 5.0
    vibrato_delay: float = 0.3


def _timecents(seconds: float) -> int:
    """A duration as SoundFont timecents (1200 * log2(seconds)), -12000 for ~1 ms or less."""
    return max(-12000, round(1200.0 * math.log2(max(seconds, 1e-3))))


def _chunk(tag: bytes, data: bytes) -> bytes:
    """A RIFF chunk: tag, little-endian size, data (zero-padded to an even length, counted in the size,
    as the specification asks of its strings)."""
    data += b"\0" * (len(data) % 2)
    return tag + struct.pack("<I", len(data)) + data


def _list(tag: bytes, chunks: Sequence[bytes]) -> bytes:
    return _chunk(b"LIST", tag + b"".join(chunks))


def _name(text: str, size: int = 20) -> bytes:
    """A zero-padded ASCII name field."""
    return text.encode("ascii", "replace")[: size - 1].ljust(size, b"\0")


def _gen(oper: int, amount: int) -> bytes:
    return struct.pack("<Hh", oper, amount)


def _check(instruments: Sequence[Instrument]) -> None:
    programs = [ins.program for ins in instruments]
    if not instruments:
        raise ConfigError("write_soundfont: no instruments")
    if len(set(programs)) != len(programs) or not all(0 <= p <= 127 for p in programs):
        raise ConfigError(f"write_soundfont: programs {programs} must be distinct numbers 0-127")
    for ins in instruments:
        if not ins.zones:
            raise ConfigError(f"instrument {ins.name!r}: no zones")
        for z in ins.zones:
            n = len(z.audio)
            if np.ndim(z.audio) != 1 or n < 8 or not np.all(np.isfinite(z.audio)):
                raise ConfigError(f"instrument {ins.name!r}: a zone's audio must be finite mono, 8 samples or more")
            if not (0 <= z.keys[0] <= z.keys[1] <= 127 and 0 <= z.root_key <= 127 and z.sr > 0):
                raise ConfigError(f"instrument {ins.name!r}: keys {z.keys}, root key {z.root_key} "
                                  f"or rate {z.sr} Hz out of range")
            if not -99 <= z.pitch_correction <= 99:
                raise ConfigError(f"instrument {ins.name!r}: pitch correction {z.pitch_correction} cents is "
                                  "outside -99..99 (give the sample the root key nearest its pitch)")
            if z.loop is not None and not 0 <= z.loop[0] < z.loop[1] - 8 < z.loop[1] <= n:
                raise ConfigError(f"instrument {ins.name!r}: loop {z.loop} must lie in the sample "
                                  f"(0..{n}) and hold more than 8 samples")


def write_soundfont(path: Path | str, instruments: Sequence[Instrument], *, name: str = "v3") -> Path:
    """Write ``instruments`` to a SoundFont 2 file at ``path`` (atomically).

    Parameters
    ----------
    path : str or Path
        The ``.sf2`` file to write.
    instruments : sequence of Instrument
        One preset each, in bank 0, with distinct program numbers.
    name : str
        The SoundFont's name.

    Returns
    -------
    Path

    Raises
    ------
    ConfigError
        No instruments, programs repeated or out of 0-127, or a zone whose
        audio, keys or loop are invalid.

    Examples
    --------
    One looped sine wave at A4, played over the whole keyboard:

    >>> import tempfile, pretty_midi
    >>> from v3music.synth import render_midi
    >>> sr = 16000
    >>> f0 = sr / 36  # 444.4 Hz, a period of 36 samples, so that a loop of whole periods is seamless
    >>> tone = 0.5 * np.sin(2 * np.pi * f0 * np.arange(sr) / sr)
    >>> zone = Zone(tone, sr, root_key=69, keys=(0, 127), loop=(3600, 15984),
    ...             pitch_correction=round(1200 * np.log2(440 / f0)))  # -17 cents
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     font = write_soundfont(f"{folder}/sine.sf2", [Instrument("sine", 0, [zone])])
    ...     pm = pretty_midi.PrettyMIDI()
    ...     pm.instruments.append(pretty_midi.Instrument(0))
    ...     pm.instruments[0].notes.append(pretty_midi.Note(velocity=100, pitch=57, start=0.0, end=1.0))
    ...     y = render_midi(pm, soundfont=font, sr=sr)
    >>> spectrum = np.abs(np.fft.rfft(y[4000:12000]))
    >>> round(float(np.argmax(spectrum) * sr / 8000))  # A3
    220
    """
    _check(instruments)
    ordered = sorted(instruments, key=lambda ins: ins.program)
    samples: list[bytes] = []
    shdr: list[bytes] = []
    point = 0
    for ins in ordered:
        for z in ins.zones:
            data = np.round(np.clip(np.asarray(z.audio, dtype=np.float64), -1.0, 1.0) * 32767.0).astype("<i2")
            start, end = point, point + len(data)
            lo, hi = z.loop if z.loop is not None else (max(len(data) - 9, 0), len(data) - 1)
            shdr.append(_name(f"{ins.name[:14]}{len(shdr)}")
                        + struct.pack("<IIIIIBbHH", start, end, start + lo, start + hi, int(z.sr), z.root_key,
                                      int(z.pitch_correction), 0, 1))
            samples.append(data.tobytes() + b"\0\0" * _SAMPLE_PADDING)
            point = end + _SAMPLE_PADDING
    shdr.append(_name("EOS") + b"\0" * 26)

    inst: list[bytes] = []
    ibag: list[bytes] = []
    igen: list[bytes] = []
    sample_id = 0
    for ins in ordered:
        inst.append(_name(ins.name) + struct.pack("<H", len(ibag)))
        for z in ins.zones:
            ibag.append(struct.pack("<HH", len(igen), 0))
            igen.append(struct.pack("<HBB", _KEY_RANGE, z.keys[0], z.keys[1]))
            igen += [_gen(_ATTACK_VOL_ENV, _timecents(ins.attack)), _gen(_RELEASE_VOL_ENV, _timecents(ins.release))]
            if ins.vibrato_cents:
                igen += [_gen(_VIB_LFO_TO_PITCH, round(ins.vibrato_cents)),
                         _gen(_DELAY_VIB_LFO, _timecents(ins.vibrato_delay)),
                         # absolute cents: 0 is 8.176 Hz
                         _gen(_FREQ_VIB_LFO, round(1200.0 * math.log2(ins.vibrato_hz / 8.176)))]
            igen += [_gen(_SAMPLE_MODES, 1 if z.loop is not None else 0),
                     _gen(_OVERRIDING_ROOT_KEY, z.root_key), _gen(_SAMPLE_ID, sample_id)]
            sample_id += 1
    inst.append(_name("EOI") + struct.pack("<H", len(ibag)))
    ibag.append(struct.pack("<HH", len(igen), 0))
    igen.append(b"\0" * 4)

    phdr: list[bytes] = []
    pbag: list[bytes] = []
    pgen: list[bytes] = []
    for i, ins in enumerate(ordered):
        phdr.append(_name(ins.name) + struct.pack("<HHHIII", ins.program, 0, len(pbag), 0, 0, 0))
        pbag.append(struct.pack("<HH", len(pgen), 0))
        pgen.append(_gen(_INSTRUMENT, i))
    phdr.append(_name("EOP") + struct.pack("<HHHIII", 0, 0, len(pbag), 0, 0, 0))
    pbag.append(struct.pack("<HH", len(pgen), 0))
    pgen.append(b"\0" * 4)
    no_modulators = b"\0" * 10

    info = _list(b"INFO", [_chunk(b"ifil", struct.pack("<HH", 2, 1)), _chunk(b"isng", b"EMU8000\0"),
                           _chunk(b"INAM", name.encode("ascii", "replace") + b"\0")])
    sdta = _list(b"sdta", [_chunk(b"smpl", b"".join(samples))])
    pdta = _list(b"pdta", [_chunk(b"phdr", b"".join(phdr)), _chunk(b"pbag", b"".join(pbag)),
                           _chunk(b"pmod", no_modulators), _chunk(b"pgen", b"".join(pgen)),
                           _chunk(b"inst", b"".join(inst)), _chunk(b"ibag", b"".join(ibag)),
                           _chunk(b"imod", no_modulators), _chunk(b"igen", b"".join(igen)),
                           _chunk(b"shdr", b"".join(shdr))])
    body = _chunk(b"RIFF", b"sfbk" + info + sdta + pdta)
    out = Path(path)
    atomic_write(out, lambda tmp: Path(tmp).write_bytes(body))
    return out


def _chunks(data: bytes, start: int, stop: int) -> dict[bytes, tuple[int, int]]:
    """The RIFF chunks in data[start:stop]: tag (or ``LIST`` type) -> (data start, data stop)."""
    found: dict[bytes, tuple[int, int]] = {}
    pos = start
    while pos + 8 <= stop:
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if tag == b"LIST":
            found[data[body : body + 4]] = (body + 4, min(body + size, stop))
        else:
            found[tag] = (body, min(body + size, stop))
        pos = body + size + (size % 2)
    return found


def soundfont_presets(soundfont: bytes | Path | str, *, where: str | None = None) -> dict[tuple[int, int], str]:
    """The presets of a SoundFont 2 file (its bytes or path): (bank, program) -> preset name.

    ``where`` names the file in error messages (default: the path, or "SoundFont data").

    Raises
    ------
    InputError
        The data is not a SoundFont 2 file or has no preset headers.

    Examples
    --------
    >>> from v3music.synth import default_soundfont
    >>> presets = soundfont_presets(default_soundfont())
    >>> presets[(0, 0)], presets[(0, 73)]
    ('Piano 1', 'Flute TB')
    """
    data = soundfont if isinstance(soundfont, bytes) else Path(soundfont).read_bytes()
    if where is None:
        where = str(soundfont) if not isinstance(soundfont, bytes) else "SoundFont data"
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise InputError(f"{where}: not a SoundFont 2 file (no RIFF/sfbk header)")
    pdta = _chunks(data, 12, len(data)).get(b"pdta")
    phdr = _chunks(data, *pdta).get(b"phdr") if pdta else None
    if phdr is None or phdr[1] - phdr[0] < 2 * 38:
        raise InputError(f"{where}: no preset headers (pdta/phdr) in this SoundFont")
    presets: dict[tuple[int, int], str] = {}
    for pos in range(phdr[0], phdr[1] - 2 * 38 + 1, 38):  # the last record is the terminal EOP
        name = data[pos : pos + 20].split(b"\0", 1)[0].decode("ascii", "replace")
        program, bank = struct.unpack("<HH", data[pos + 20 : pos + 24])
        presets[(bank, program)] = name
    return presets
