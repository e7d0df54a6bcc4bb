"""Name the atoms of a trained music model from calibration folders of known notes.

The trainer names atoms from its own training notes. This module renames them
from any labelled folders (for example melodies rendered with many General
MIDI programs), pooled, and writes a copy of the checkpoint with the new
names. Labels only name atoms; the weights are copied unchanged.

Run as ``python -m v3music.calibrate CHECKPOINT OUT DATA [DATA...]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from v3.checkpoint import Checkpoint, LoadedModel, load_model, read_checkpoint, save_checkpoint
from v3.errors import V3Error
from v3.inference import encode_fragments, name_atoms

__all__ = ["calibration_names", "recalibrate_checkpoint"]


def calibration_names(loaded: LoadedModel, folders: Sequence[Path | str]) -> tuple[list[int], int]:
    """Atom names (MIDI pitch per atom, -1 unused) from the pooled labelled notes of ``folders``.

    Each folder is loaded with the model's own adapter settings (front end,
    segmentation), exactly as its training data were.

    Returns
    -------
    names : list of int
        One entry per atom.
    n_notes : int
        Labelled notes used.
    """
    cfg = loaded.adapter.parse_config(loaded.config.adapter_config)
    codes, labels = [], []
    for folder in folders:
        dataset = loaded.adapter.load_dataset(Path(folder), cfg)
        codes.append(encode_fragments(loaded.model, dataset.fragments).codes)
        labels.append(dataset.content_labels.numpy())
    all_codes, all_labels = np.concatenate(codes), np.concatenate(labels)
    names = name_atoms(all_codes, all_labels, loaded.model.quantizer.codebook_size)
    return names, int((all_labels >= 0).sum())


def recalibrate_checkpoint(source: Path | str, destination: Path | str, folders: Sequence[Path | str]) -> Path:
    """Copy checkpoint ``source`` to ``destination`` with atoms named from ``folders``.

    The metadata records the calibration folders and the number of notes.
    """
    names, n_notes = calibration_names(load_model(source), folders)
    ckpt = read_checkpoint(source)
    meta = {**ckpt.metadata, "atom_labels": names,
            "calibration": {"folders": [str(f) for f in folders], "notes": n_notes}}
    return save_checkpoint(Path(destination), Checkpoint(ckpt.config, ckpt.state_dict, meta, ckpt.training))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("data", type=Path, nargs="+", help="labelled folders (make-data melodies/insnotes)")
    args = parser.parse_args(argv)
    try:
        path = recalibrate_checkpoint(args.checkpoint, args.out, args.data)
    except V3Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
