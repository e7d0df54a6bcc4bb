"""Render a MIDI file to audio with a SoundFont (how the bundled example recordings were made).

Usage: python examples/render_midi_file.py IN.mid OUT.flac [--program N] [--sr HZ] [--soundfont FONT.sf2]

The bundled recordings were made with it: ``examples/flute.flac`` from
``examples/flute.mid`` (flute, 16 kHz) and ``examples/melody.flac`` from
``examples/melody.mid`` with ``--sr 22050`` (violin).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pretty_midi
import soundfile as sf

from v3music import render_midi


def main(midi_path: Path, out: Path, *, program: int | None = None, soundfont: Path | None = None,
         sr: int = 16000) -> Path:
    midi = pretty_midi.PrettyMIDI(str(midi_path))
    if program is not None:  # play every track on one General MIDI instrument
        for track in midi.instruments:
            track.program = program
    audio = render_midi(midi, soundfont=soundfont, sr=sr)
    sf.write(out, audio, sr)
    print(f"{out}: {len(audio) / sr:.1f} s at {sr} Hz")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("midi", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--program", type=int, default=None, help="GM program 0-127 for all tracks")
    parser.add_argument("--sr", type=int, default=16000, help="output sample rate in Hz (default 16000)")
    parser.add_argument("--soundfont", type=Path, default=None, help="any .sf2 (default: TimGM6mb)")
    args = parser.parse_args()
    main(args.midi, args.out, program=args.program, soundfont=args.soundfont, sr=args.sr)
