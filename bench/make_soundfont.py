"""Build the bench's own SoundFont: four synthetic instruments that are not TimGM6mb's.

The transcription and timbre benches render their melodies with TimGM6mb, the
General MIDI SoundFont that ships with pretty_midi. To check that nothing is
tuned to its samples, this script writes a second SoundFont with
:func:`v3music.soundfont.write_soundfont`: four instruments synthesised here,
multi-sampled every 5 semitones (as sampled instruments are), played by the
SoundFont player with its own pitch shifting, loops, envelopes and vibrato.

=======  ===========================================================
program  instrument
=======  ===========================================================
0        Reed: odd harmonics, a formant near 1.5 kHz, looped
1        Brass: all harmonics, brightening attack, vibrato 5.5 Hz
2        Pluck: Karplus-Strong string, decays, not looped
3        Mallet: inharmonic partials 1 : 3.93 : 9.2, decays fast
=======  ===========================================================

Usage::

    python bench/make_soundfont.py OUT.sf2
    python bench/transcribe.py --soundfont OUT.sf2 --programs 0,1,2,3
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

from v3music.soundfont import Instrument, Zone, write_soundfont

#: Sample rate of the samples, Hz.
SAMPLE_RATE = 32000
#: Root keys of the zones (MIDI); each plays 2 semitones either side.
ROOT_KEYS = tuple(range(26, 102, 5))

Maker = Callable[[int], Zone]


def _period(key: int) -> tuple[int, int]:
    """A whole number of samples per period near MIDI ``key``'s, and the cents that correct it."""
    f0 = 440.0 * 2.0 ** ((key - 69) / 12.0)
    period = max(2, round(SAMPLE_RATE / f0))
    return period, round(1200.0 * math.log2(f0 * period / SAMPLE_RATE))


def _harmonic_zone(key: int, weights: Callable[[np.ndarray, float], np.ndarray], *, seconds: float,
                   attack: float, bright_attack: bool = False) -> Zone:
    """A looped tone of exactly periodic harmonics (weights(k, f0) for harmonic numbers k)."""
    period, cents = _period(key)
    f0 = SAMPLE_RATE / period
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    k = np.arange(1, max(2, int(0.45 * SAMPLE_RATE / f0)) + 1)
    amp = weights(k.astype(float), f0)
    phase = np.random.default_rng(key).uniform(0, 2 * np.pi, len(k))
    # with bright_attack, harmonic k takes 1 + 0.3 (k - 1) times longer to reach its level
    rise = attack * (1 + 0.3 * (k - 1)) if bright_attack else np.full(len(k), attack)
    y = np.zeros(n)
    for kk, a, ph, r in zip(k, amp, phase, rise):
        y += a * np.minimum(t / r, 1.0) * np.sin(2 * np.pi * kk * f0 * t + ph)
    y *= 0.5 / np.abs(y).max()
    start = min(int(rise.max() * SAMPLE_RATE) + period, n // 2)  # the loop starts once every harmonic settled
    end = start + ((n - start) // period) * period
    return Zone(y.astype(np.float32), SAMPLE_RATE, key, (key - 2, key + 2), loop=(start, end), pitch_correction=cents)


def reed(key: int) -> Zone:
    def weights(k: np.ndarray, f0: float) -> np.ndarray:
        formant = 1.0 + 2.0 * np.exp(-0.5 * (np.log2(k * f0 / 1500.0) / 0.4) ** 2)
        return np.where(k % 2 == 1, 1.0, 0.2) / k * formant
    return _harmonic_zone(key, weights, seconds=0.8, attack=0.03)


def brass(key: int) -> Zone:
    def weights(k: np.ndarray, f0: float) -> np.ndarray:
        return 1.0 / k**0.9 * np.exp(-k * f0 / 5000.0)
    return _harmonic_zone(key, weights, seconds=0.8, attack=0.02, bright_attack=True)


def pluck(key: int) -> Zone:
    period, _ = _period(key)
    f0 = SAMPLE_RATE / (period + 0.5)  # the averaging filter adds half a sample of delay
    cents = round(1200.0 * math.log2(440.0 * 2.0 ** ((key - 69) / 12.0) / f0))
    n = int(2.5 * SAMPLE_RATE)
    rng = np.random.default_rng(key)
    burst = np.zeros(n)
    burst[:period] = lfilter([1.0], [1.0, -0.6], rng.uniform(-1, 1, period))
    a = np.zeros(period + 2)
    a[0], a[period], a[period + 1] = 1.0, -0.4985, -0.4985
    y = lfilter([1.0], a, burst)
    y *= 0.5 / np.abs(y).max()
    return Zone(y.astype(np.float32), SAMPLE_RATE, key, (key - 2, key + 2), pitch_correction=int(np.clip(cents, -99, 99)))


def mallet(key: int) -> Zone:
    f0 = 440.0 * 2.0 ** ((key - 69) / 12.0)
    t = np.arange(int(1.5 * SAMPLE_RATE)) / SAMPLE_RATE
    y = np.zeros(len(t))
    for ratio, level, decay in ((1.0, 1.0, 0.5), (3.93, 0.5, 0.15), (9.2, 0.25, 0.05)):
        if ratio * f0 < 0.45 * SAMPLE_RATE:
            y += level * np.exp(-t / decay) * np.sin(2 * np.pi * ratio * f0 * t)
    y *= np.minimum(t / 0.002, 1.0)
    y *= 0.5 / np.abs(y).max()
    return Zone(y.astype(np.float32), SAMPLE_RATE, key, (key - 2, key + 2))


#: program -> (name, zone maker, instrument settings)
INSTRUMENTS: dict[int, tuple[str, Maker, dict[str, float]]] = {
    0: ("Reed", reed, {"attack": 0.01, "release": 0.06}),
    1: ("Brass", brass, {"attack": 0.01, "release": 0.1, "vibrato_cents": 12.0, "vibrato_hz": 5.5,
                          "vibrato_delay": 0.25}),
    2: ("Pluck", pluck, {"attack": 0.001, "release": 0.15}),
    3: ("Mallet", mallet, {"attack": 0.001, "release": 0.1}),
}


def build(out: Path | str, root_keys: tuple[int, ...] = ROOT_KEYS) -> Path:
    """Write the bench's SoundFont to ``out``; each instrument has one zone per root key,
    the outer zones widened to cover MIDI 0-127."""
    instruments = []
    for program, (name, make, settings) in INSTRUMENTS.items():
        zones = [make(key) for key in root_keys]
        zones[0] = dataclasses.replace(zones[0], keys=(0, zones[0].keys[1]))
        zones[-1] = dataclasses.replace(zones[-1], keys=(zones[-1].keys[0], 127))
        instruments.append(Instrument(name, program, zones, **settings))
    return write_soundfont(out, instruments, name="v3 bench instruments")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the .sf2 file to write")
    args = parser.parse_args()
    path = build(args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
