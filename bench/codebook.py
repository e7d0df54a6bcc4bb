"""Pitch-symbol bench: how purely a music model's codes name the pitches of MIDI 36-84.

Run from the repository root::

    python bench/codebook.py [--checkpoints insnotes,melody] [--programs 0,4,...] [--seed S]

1. **Data.** ``v3 music make-data notes`` layout (:func:`v3music.melodies.make_note_grid`):
   each of ``--programs`` (default: the transcription bench's 8 programs, which no
   shipped model heard) plays every pitch of ``--low``..``--high`` once as an
   isolated 1 s note, in a random order drawn from ``--seed``; TimGM6mb. Notes
   the SoundFont renders silent (:func:`bench.transcribe.sounds`) are left out.
2. **Symbols.** A note's symbol is its atom and, for a one-octave codebook
   (``insnotes``), the transposition the model reconstructs best
   (:meth:`v3music.notes.NoteEncoder.search_transpositions`): by default whole
   octaves, then every semitone within 2 of the best (``insnotes``, i.e.
   ``insnotes:12+2``); octaves only (``insnotes:12+0``); every semitone
   (``insnotes:1+0``). For a codebook that spans the range (``melody``) the
   symbol is the atom alone.
3. **Scores**, per checkpoint, on the same notes:
   - *named*: the symbol's stored name (the atom's calibration name, minus
     the transposition), moved an octave down where the note's partials say so
     (:func:`v3music.notes.octave_below`, as ``v3 transcribe`` names it), is the
     note's pitch;
   - *purity*: each symbol mapped to the pitch most of its notes have (fitted
     on these notes, so an upper bound for naming) - the issue's "atom purity";
   - *pitches owned*: pitches of the range that are the majority pitch of at
     least one symbol;
   - *octave errors*, *other errors*: named wrong by whole octaves, otherwise.
   Per-program named accuracy follows.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from v3music.melodies import make_note_grid
from v3music.notes import NoteEncoder

_spec = importlib.util.spec_from_file_location("bench_transcribe", Path(__file__).with_name("transcribe.py"))
bench_transcribe = importlib.util.module_from_spec(_spec)
sys.modules["bench_transcribe"] = bench_transcribe
_spec.loader.exec_module(bench_transcribe)


def symbol_scores(symbols: np.ndarray, names: np.ndarray, pitches: np.ndarray, low: int, high: int) -> dict:
    """Scores of integer symbols [N] with stored names [N] against true pitches [N].

    Examples
    --------
    >>> s = symbol_scores(np.array([0, 0, 1, 1]), np.array([60, 60, 74, 61]), np.array([60, 61, 62, 62]), 60, 62)
    >>> s["named"], s["purity"], s["owned"], s["octave_errors"]
    (0.25, 0.75, 2, 0.25)
    """
    owner: dict[int, int] = {}
    pure = 0
    for symbol in np.unique(symbols):
        top, count = Counter(pitches[symbols == symbol].tolist()).most_common(1)[0]
        owner[int(symbol)] = top
        pure += count
    wrong = names != pitches
    octave = wrong & (names >= 0) & ((names - pitches) % 12 == 0)
    return {
        "named": float(np.mean(~wrong)),
        "purity": pure / len(pitches),
        "owned": len({p for p in owner.values() if low <= p <= high}),
        "symbols": len(owner),
        "octave_errors": float(np.mean(octave)),
        "other_errors": float(np.mean(wrong & ~octave)),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoints", default="insnotes:12+0,insnotes,insnotes:1+0,melody",
                    help="comma-separated checkpoints (files or shipped names), each optionally with :STEP[+R], the "
                         "search step in semitones and the semitones refined around the best octave (default: the "
                         "library's, 12+2)")
    ap.add_argument("--programs", default=",".join(map(str, bench_transcribe.DEFAULT_PROGRAMS)),
                    help="comma-separated GM programs (default: the transcription bench's unseen ones)")
    ap.add_argument("--low", type=int, default=36, help="lowest MIDI pitch (default 36)")
    ap.add_argument("--high", type=int, default=84, help="highest MIDI pitch (default 84)")
    ap.add_argument("--seed", type=int, default=0, help="seeds the note orders and velocities (default 0)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    programs = [int(p) for p in args.programs.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        make_note_grid(folder, programs=programs, low=args.low, high=args.high, cycles=1, seed=args.seed)
        rendered = time.perf_counter() - started
        rows = []
        for name in args.checkpoints.split(","):
            checkpoint, _, search = name.partition(":")
            step, _, refine = search.partition("+")
            settings = {"search_step": int(step)} if step else {}
            settings.update({"refine": int(refine)} if refine else {})
            encoder = NoteEncoder.load(checkpoint, pitch_range=(args.low, args.high), **settings)
            data = encoder.loaded.adapter.load_dataset(Path(folder), encoder.config)
            pitches = data.content_labels.numpy()
            program_of = data.style_labels.numpy()
            audible = np.array([bench_transcribe.sounds(int(g), int(p)) for g, p in zip(program_of, pitches)])
            fragments = data.fragments.numpy()[audible]
            codes, moves = encoder.search_transpositions(fragments)
            pitches, program_of = pitches[audible], program_of[audible]
            if len(encoder.moves) > 1:  # as v3 transcribe names a note found by the search
                names = encoder.search_names(fragments, codes, moves)
            else:
                atoms = np.where(codes >= 0, encoder.atom_names[np.maximum(codes, 0)], -1)
                names = np.where(atoms >= 0, atoms - moves, -1)
            symbols = codes * 1000 + moves  # one integer per (atom, transposition)
            scores = symbol_scores(symbols, names, pitches, args.low, args.high)
            per_program = {g: float(np.mean(names[program_of == g] == pitches[program_of == g])) for g in programs}
            tried = len(encoder.moves) + (2 * encoder.refine if len(encoder.moves) > 1 else 0)
            rows.append((name, tried, scores, per_program, len(pitches)))
    print(f"pitch-symbol bench: bench/codebook.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"notes: MIDI {args.low}-{args.high} x programs {programs}, 1 s each, seed {args.seed}, TimGM6mb "
          f"(rendered in {rendered:.1f} s); {rows[0][4]} audible notes")
    print(f"{'checkpoint':<15}{'moves tried':>13}{'symbols':>9}{'named':>8}{'purity':>8}"
          f"{'owned':>8}{'octave err':>12}{'other err':>11}")
    for name, moves, s, _, _ in rows:
        print(f"{name:<15}{moves:>13}{s['symbols']:>9}{s['named']:>8.3f}{s['purity']:>8.3f}"
              f"{s['owned']:>5}/{args.high - args.low + 1:<2}{s['octave_errors']:>12.3f}{s['other_errors']:>11.3f}")
    print("\nnamed accuracy per program")
    print("program " + "".join(f"{name:>15}" for name, *_ in rows))
    for g in programs:
        print(f"{g:>7} " + "".join(f"{per[g]:>15.3f}" for *_, per, _ in rows))


if __name__ == "__main__":
    main()
