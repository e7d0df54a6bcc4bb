"""Train a small V3 music model on InsNotes rendered with a SoundFont of your choice.

Usage: python examples/train_on_soundfont.py OUT_DIR [FONT.sf2] [--steps N]
(without a SoundFont, TimGM6mb from pretty_midi is used)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from v3 import Trainer, evaluate, get_adapter, load_model
from v3.config import apply_overrides
from v3music import make_insnotes


def main(out: Path, soundfont: Path | None = None, steps: int = 300, programs: tuple[int, ...] = (19, 41, 56, 68)) -> dict:
    make_insnotes(out / "train", programs=programs, n_cycles=3, seed=0, soundfont=soundfont)
    make_insnotes(out / "test", programs=programs, n_cycles=1, seed=1, soundfont=soundfont)
    adapter = get_adapter("music")
    config = apply_overrides(adapter.default_config(), [f"train.steps={steps}", "train.kmeans_refit_steps=100,200"])
    adapter_config = adapter.parse_config(config.adapter_config)
    result = Trainer(adapter, config, adapter.load_dataset(out / "train", adapter_config), out / "run").fit()
    loaded = load_model(result.checkpoint)
    report = evaluate(loaded, adapter.load_dataset(out / "test", adapter_config))
    print(f"trained {steps} steps in {result.wall_seconds:.0f} s; "
          f"codebook one-to-one accuracy on fresh notes: {report['codebook']['one_to_one_accuracy']:.3f}")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("soundfont", type=Path, nargs="?")
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    main(args.out, args.soundfont, args.steps)
