"""``v3``: a thin Click app over the public API of v3, v3music and v3vision.

No logic lives here: options are parsed, public functions are called, results
are printed, and every :class:`v3.errors.V3Error` becomes a one-line message
with exit status 2 (no traceback).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from v3 import __version__

from .errors import V3ClickError, check_output_path, reports_errors

__all__ = ["V3ClickError", "cli", "main", "reports_errors"]


class V3Group(click.Group):
    """A Click group whose usage errors (bad option values) are one line, exit status 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.pop("standalone_mode", None)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.UsageError as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=V3Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="v3")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """v3: learn content (pitch, digit) and style (timbre, colour) with no labels.

    Train and evaluate V3 models (variance-versus-invariance) and render
    their training data. Run `v3 COMMAND --help` for each command.

    Example: v3 eval --checkpoint insnotes --data examples/insnotes-mini --out report
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@cli.command("adapters")
@reports_errors
def adapters_command() -> None:
    """List the installed adapters (entry-point group v3.adapters).

    Example: v3 adapters
    """
    from v3.adapters import available_adapters

    for name, source in available_adapters().items():
        click.echo(f"{name}\t{source}")


@cli.command("train")
@click.option("--adapter", "adapter_name", required=True, help="Domain adapter, e.g. music (see `v3 adapters`).")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Training data folder made by the adapter's make-data command.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Run folder: checkpoint.pt, config.json, train_log.jsonl.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config value, e.g. train.steps=500, model.quantizer.codebook_size=24, "
                   "adapter.hidden=512. Repeatable.")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Shortcut for --set train.steps=N.")
@click.option("--seed", type=int, default=None, help="Shortcut for --set train.seed=N.")
@click.option("--device", default=None, help="auto (default: CUDA when present), cpu, cuda, cuda:N.")
@click.option("--resume", is_flag=True, help="Continue the run saved in --out where it stopped.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@reports_errors
def train_command(adapter_name: str, data_dir: Path, out_dir: Path, overrides: tuple[str, ...],
                  steps: int | None, seed: int | None, device: str | None, resume: bool, quiet: bool) -> None:
    """Train a V3 model on a data folder (no labels are used for training).

    The run folder receives checkpoint.pt (saved every train.checkpoint_every
    steps and at the end, atomically), config.json and train_log.jsonl (every
    loss component). After training, the atoms are named from the data's
    labels (calibration only).

    Example: v3 train --adapter music --data data/insnotes --out runs/insnotes --steps 1500
    """
    from v3.adapters import get_adapter
    from v3.config import apply_overrides
    from v3.trainer import Trainer

    adapter = get_adapter(adapter_name)
    extra = list(overrides)
    if steps is not None:
        extra.append(f"train.steps={steps}")
    if seed is not None:
        extra.append(f"train.seed={seed}")
    if device is not None:
        extra.append(f"train.device={device}")
    config = apply_overrides(adapter.default_config(), extra)
    dataset = adapter.load_dataset(data_dir, adapter.parse_config(config.adapter_config))
    result = Trainer(adapter, config, dataset, out_dir, progress=not quiet).fit(resume=resume)
    from v3.distributed import is_main_process

    if not is_main_process():  # under torchrun, rank 0 reports
        return
    click.echo(f"checkpoint: {result.checkpoint}")
    click.echo(f"steps: {result.steps}, wall time: {result.wall_seconds:.1f} s")
    if result.last_losses:
        click.echo("last losses: " + ", ".join(f"{k}={v:.4g}" for k, v in result.last_losses.items()))


def _fmt(value: float | None) -> str:
    """A metric with 4 decimals, or 'n/a' (e.g. atoms not named yet in a mid-run checkpoint)."""
    return "n/a" if value is None else f"{value:.4f}"


@cli.command("eval")
@click.option("--checkpoint", "checkpoint", default=None,
              help="A checkpoint file, or the name of a shipped one (e.g. insnotes).")
@click.option("--adapter", "adapter_name", default=None,
              help="Domain adapter (music, vision...): checks that the checkpoint is one of its models; "
                   "without --checkpoint, evaluates the adapter's shipped checkpoint if it ships exactly one.")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Labelled evaluation data folder (never the training files).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.json, confusion.png, tsne_content.png, tsne_style.png and the "
                   "adapter's own pictures (vision: reconstruction.png, recolor.png).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override data-loading settings, e.g. adapter.labels=sounding.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N or auto.")
@reports_errors
def eval_command(checkpoint: str | None, adapter_name: str | None, data_dir: Path, out_dir: Path,
                 overrides: tuple[str, ...], device: str) -> None:
    """Evaluate a checkpoint: codebook accuracy, kNN, PR-AUC, pictures.

    Prints the headline numbers and writes the full JSON report and PNG
    pictures (confusion matrix, t-SNE of content and style vectors, and the
    adapter's own: a reconstruction grid and a recolour grid for vision).

    Examples: v3 eval --checkpoint insnotes --data data/insnotes-test --out reports/insnotes;
    v3 eval --adapter vision --data data/digits/test --out reports/digits (the shipped digits model)
    """
    from v3.adapters import find_checkpoint, get_adapter
    from v3.checkpoint import load_model
    from v3.config import apply_overrides
    from v3.evaluation import evaluate
    from v3.trainer import resolve_device

    if checkpoint is None:
        if adapter_name is None:
            raise V3ClickError("give --checkpoint (or --adapter NAME for its shipped checkpoint)")
        shipped = get_adapter(adapter_name).shipped_checkpoints()
        if len(shipped) != 1:
            names = ", ".join(shipped) or "none"
            raise V3ClickError(f"adapter {adapter_name!r} ships {len(shipped)} checkpoints ({names}): "
                               "choose one with --checkpoint")
        checkpoint = str(next(iter(shipped.values())))
    loaded = load_model(find_checkpoint(checkpoint), device=resolve_device(device))
    if adapter_name is not None and loaded.adapter.name != adapter_name:
        raise V3ClickError(f"{checkpoint}: a {loaded.adapter.name!r} model, not {adapter_name!r}")
    config = apply_overrides(loaded.config, list(overrides))
    dataset = loaded.adapter.load_dataset(data_dir, loaded.adapter.parse_config(config.adapter_config))
    report = evaluate(loaded, dataset, out_dir=out_dir)
    cb, dis = report["codebook"], report["disentanglement"]
    click.echo(f"codebook one-to-one accuracy: {cb['one_to_one_accuracy']:.4f}  "
               f"majority: {cb['majority_accuracy']:.4f}  named (stored map): {_fmt(report['named_accuracy'])}")
    if "tool_named_accuracy" in report:
        click.echo(f"named as the {loaded.adapter.name} tools do (e.g. transposition search): "
                   f"{report['tool_named_accuracy']:.4f}")
    for name, row in report["per_style"].items():
        click.echo(f"  {name:<24} one-to-one {row['one_to_one_accuracy']:.4f}  named {_fmt(row['named_accuracy'])}")
    click.echo("kNN: " + ", ".join(f"{k}={v:.4f}" for k, v in dis.items() if isinstance(v, float)))
    click.echo(f"report: {Path(out_dir) / 'report.json'}")


@cli.command("export")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A report.json from `v3 eval` to record in the checkpoint's metadata.")
@reports_errors
def export_command(source: Path, destination: Path, report: Path | None) -> None:
    """Write an inference-only copy of a training checkpoint (drops optimiser and RNG state).

    Example: v3 export runs/insnotes/checkpoint.pt v3music/checkpoints/insnotes.pt --report reports/insnotes/report.json
    """
    from v3.checkpoint import export_checkpoint

    extra = None
    if report is not None:
        try:
            data = json.loads(report.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise V3ClickError(f"{report}: not a readable JSON report ({exc})") from exc
        extra = {"eval": {k: data[k] for k in ("codebook", "named_accuracy", "disentanglement") if k in data}}
        extra["eval"]["codebook"].pop("confusion", None)
    path = export_checkpoint(source, destination, metadata=extra)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@cli.group("music")
def music_group() -> None:
    """Music tools: render InsNotes-style training and test data with a SoundFont; rename atoms."""


@music_group.group("make-data")
def make_data_group() -> None:
    """Render training/evaluation data with a SoundFont."""


def _parse_programs(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    """``--programs "0,40,73"`` -> (0, 40, 73); ``default`` when not given."""
    if not text:
        return default
    try:
        chosen = tuple(int(p) for p in text.split(","))
    except ValueError as exc:
        raise V3ClickError(f"--programs {text!r}: expected comma-separated integers") from exc
    if not all(0 <= p <= 127 for p in chosen):
        raise V3ClickError(f"--programs {text!r}: GM programs are 0-127")
    return chosen


@make_data_group.command("insnotes")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--ood", is_flag=True, help="Render the out-of-distribution programs 0, 4, 73, 78 instead.")
@click.option("--programs", default=None, help="Comma-separated GM programs (0-127) instead of the defaults.")
@click.option("--cycles", type=click.IntRange(min=1), default=10, show_default=True,
              help="Times each program plays the 12-note cycle (1 s per note).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds velocities and loudness envelopes.")
@click.option("--soundfont", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Any .sf2 file (default: TimGM6mb.sf2 shipped with pretty_midi).")
@click.option("--noise-snr", default=None, metavar="LOW,HIGH",
              help="Also write a noisy copy of each file: white noise at one signal-to-noise ratio per file, "
                   "drawn from LOW..HIGH dB (training augmentation for noisy recordings; e.g. 10,40).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@reports_errors
def insnotes_command(out_dir: Path, ood: bool, programs: str | None, cycles: int, seed: int,
                     soundfont: Path | None, noise_snr: str | None, quiet: bool) -> None:
    """Render the InsNotes data set (paper setting): 12 pitches MIDI 60-71 in a cycle, 1 s notes, 16 kHz.

    Example: v3 music make-data insnotes data/insnotes-test --seed 1
    """
    from v3music.synth import INSNOTES_OOD_PROGRAMS, INSNOTES_PROGRAMS, make_insnotes

    chosen = _parse_programs(programs, INSNOTES_OOD_PROGRAMS if ood else INSNOTES_PROGRAMS)
    snr_range = None
    if noise_snr is not None:
        try:
            low, high = (float(v) for v in noise_snr.split(","))
        except ValueError as exc:
            raise V3ClickError(f"--noise-snr {noise_snr!r}: expected LOW,HIGH in dB, e.g. 10,40") from exc
        snr_range = (low, high)
    manifest = make_insnotes(out_dir, programs=chosen, n_cycles=cycles, seed=seed, soundfont=soundfont,
                             noise_snr_db=snr_range, progress=not quiet)
    copies = f" and {len(chosen)} noisy copies" if snr_range else ""
    click.echo(f"wrote {len(chosen)} files{copies} and {manifest}")


@make_data_group.command("melodies")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--programs", default=None,
              help="Comma-separated GM programs (default: 36 training programs; the benchmark's are left out).")
@click.option("--files-per-program", type=click.IntRange(min=1), default=2, show_default=True,
              help="Melodies rendered per program.")
@click.option("--seconds", type=click.FloatRange(min=2.0), default=30.0, show_default=True,
              help="Length of each melody in seconds.")
@click.option("--low", type=click.IntRange(0, 127), default=36, show_default=True, help="Lowest MIDI pitch.")
@click.option("--high", type=click.IntRange(0, 127), default=84, show_default=True, help="Highest MIDI pitch.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds melodies and gains.")
@click.option("--soundfont", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Any .sf2 file (default: TimGM6mb.sf2 shipped with pretty_midi).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@reports_errors
def melodies_command(out_dir: Path, programs: str | None, files_per_program: int, seconds: float, low: int,
                     high: int, seed: int, soundfont: Path | None, quiet: bool) -> None:
    """Render random melodies (free rhythm, rests, repeated notes, MIDI 36-84 by default) with a SoundFont.

    Example: v3 music make-data melodies data/melodies --files-per-program 2 --seed 0
    """
    from v3music.melodies import MELODY_TRAIN_PROGRAMS, make_melodies

    chosen = _parse_programs(programs, MELODY_TRAIN_PROGRAMS)
    manifest = make_melodies(out_dir, programs=chosen, files_per_program=files_per_program, seconds=seconds,
                             low=low, high=high, seed=seed, soundfont=soundfont, progress=not quiet)
    click.echo(f"wrote {len(chosen) * files_per_program} files and {manifest}")


@make_data_group.command("notes")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--programs", default=None,
              help="Comma-separated GM programs (default: 36 training programs; the benchmark's are left out).")
@click.option("--low", type=click.IntRange(0, 127), default=36, show_default=True, help="Lowest MIDI pitch.")
@click.option("--high", type=click.IntRange(0, 127), default=84, show_default=True, help="Highest MIDI pitch.")
@click.option("--cycles", type=click.IntRange(min=1), default=2, show_default=True,
              help="Times each program plays every pitch of the range (1 s per note).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the note orders and velocities.")
@click.option("--soundfont", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Any .sf2 file (default: TimGM6mb.sf2 shipped with pretty_midi).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@reports_errors
def notes_command(out_dir: Path, programs: str | None, low: int, high: int, cycles: int, seed: int,
                  soundfont: Path | None, quiet: bool) -> None:
    """Render every pitch of a range as aligned 1 s notes in random order (InsNotes layout, wider range).

    Example: v3 music make-data notes data/notes-train --low 36 --high 84 --programs 64,19,21 --seed 0
    """
    from v3music.melodies import MELODY_TRAIN_PROGRAMS, make_note_grid

    chosen = _parse_programs(programs, MELODY_TRAIN_PROGRAMS)
    manifest = make_note_grid(out_dir, programs=chosen, low=low, high=high, cycles=cycles, seed=seed,
                              soundfont=soundfont, progress=not quiet)
    click.echo(f"wrote {len(chosen)} files and {manifest}")


@music_group.command("calibrate")
@click.argument("checkpoint")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data_dirs", metavar="DIRS...", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@reports_errors
def calibrate_command(checkpoint: str, out: Path, data_dirs: tuple[Path, ...], overwrite: bool) -> None:
    """Rename a checkpoint's atoms from labelled data folders (weights copied unchanged).

    CHECKPOINT is a checkpoint file or the name of a shipped one (e.g. melody).
    DIRS are labelled folders made by `v3 music make-data` (pooled, read with
    the checkpoint's own front end and segmentation). Each atom is named after
    the MIDI pitch most of its notes carry (-1 when no note uses it). OUT, a
    new checkpoint file, records the folders and the number of notes used.

    Example: v3 music calibrate melody melody-cal.pt data/melodies-cal data/notes-cal
    """
    from v3.adapters import find_checkpoint
    from v3.checkpoint import read_checkpoint
    from v3music.calibrate import recalibrate_checkpoint

    check_output_path(out, overwrite)
    path = recalibrate_checkpoint(find_checkpoint(checkpoint), out, list(data_dirs))
    metadata = read_checkpoint(path).metadata
    named = sum(1 for label in metadata["atom_labels"] if label >= 0)
    click.echo(f"wrote {path}: {named} of {len(metadata['atom_labels'])} atoms named from "
               f"{metadata['calibration']['notes']} notes in {len(data_dirs)} folder{'s' * (len(data_dirs) != 1)}")


def _register_domain_groups() -> None:
    """Attach the command groups of the domain packages (kept in their own modules)."""
    from .timbre import timbre_embed_command, timbre_similar_command, timbre_swap_command
    from .transcribe import transcribe_command
    from .vision import vision_group

    cli.add_command(transcribe_command)
    for command in (timbre_embed_command, timbre_similar_command, timbre_swap_command):
        cli.add_command(command)
    cli.add_command(vision_group)


_register_domain_groups()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="v3")


if __name__ == "__main__":
    main()
