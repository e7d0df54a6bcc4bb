"""``v3 vision ...`` commands: make-data, read, recolor, embed (digits and colours).

Thin wrappers over the public API of :mod:`v3vision`; every
:class:`v3.errors.V3Error` becomes a one-line message with exit status 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .errors import V3ClickError, reports_errors

_CELLS_HELP = (
    "Cut the strip into N equal cells (the width must be a multiple of N). "
    "Default: square cells, i.e. the width must be a multiple of the height."
)
_CELL_WIDTH_HELP = "Cut the strip into cells W pixels wide (the width must be a multiple of W)."
_RESIZE_RULE = (
    "Strips are cut left to right into equal cells (--cells N, --cell-width W, or by default "
    "square cells of the strip's height); a width that does not split evenly is an error. Each "
    "cell, of any size, is then resized (bilinear, antialiased) to the model's cell size "
    "(16x16 for the shipped 'digits'). RGB and RGBA (composited onto white) images are accepted."
)


def _cell_options(func):  # type: ignore[no-untyped-def]
    func = click.option("--cell-width", type=click.IntRange(min=1), default=None, help=_CELL_WIDTH_HELP)(func)
    func = click.option("--cells", type=click.IntRange(min=1), default=None, help=_CELLS_HELP)(func)
    func = click.option("--checkpoint", "checkpoint", default="digits", show_default=True,
                        help="A vision checkpoint file or the name of a shipped one.")(func)
    return func


def _exclusive(cells: int | None, cell_width: int | None) -> None:
    if cells is not None and cell_width is not None:
        raise V3ClickError("give --cells or --cell-width, not both")


@click.group("vision")
def vision_group() -> None:
    """Vision tools: digit strips from real handwriting (content = digit, style = colour)."""


@vision_group.command("make-data")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--train-strips", type=click.IntRange(min=1), default=120, show_default=True,
              help="Training strips per training colour.")
@click.option("--test-strips", type=click.IntRange(min=1), default=25, show_default=True,
              help="Test strips per colour, in test/ (training colours) and ood/ (unseen colours).")
@click.option("--cell-size", type=click.IntRange(min=12), default=24, show_default=True,
              help="Side of one digit cell in pixels.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds the train/test split of the handwriting and every random choice.")
@reports_errors
def make_data_command(out_dir: Path, train_strips: int, test_strips: int, cell_size: int, seed: int) -> None:
    """Build strips of the ten digits (each once, shuffled, one colour per strip).

    Digits are scikit-learn's real handwritten 8x8 digits, upsampled smoothly,
    with small jitter, blur and noise. The handwriting is split into train and
    test first: OUT_DIR/train uses the training colours and handwriting,
    OUT_DIR/test the training colours with unseen handwriting, OUT_DIR/ood
    unseen colours with unseen handwriting. Each folder holds PNG strips and
    manifest.json. The same --seed gives identical files.

    Example: v3 vision make-data data/digits --seed 0
    """
    from v3vision.data import StripSpec, make_digit_strips

    counts = make_digit_strips(out_dir, train_strips_per_colour=train_strips, test_strips_per_colour=test_strips,
                               spec=StripSpec(cell_size=cell_size), seed=seed)
    click.echo(", ".join(f"{split}: {n} strips" for split, n in counts.items()) + f" in {out_dir}")


@vision_group.command("read", epilog=_RESIZE_RULE)
@click.argument("strips", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_cell_options
@reports_errors
def read_command(strips: tuple[Path, ...], checkpoint: str, cells: int | None, cell_width: int | None) -> None:
    """Print the digits of each strip, left to right (one line per strip).

    With several strips, each line is prefixed by the file name and a tab.

    Example: v3 vision read data/digits/test/strip_00000.png
    """
    from v3vision.api import DigitReader

    _exclusive(cells, cell_width)
    reader = DigitReader(checkpoint)
    results = [reader.read(path, cells=cells, cell_width=cell_width) for path in strips]
    for path, digits in zip(strips, results):
        click.echo(digits if len(strips) == 1 else f"{path}\t{digits}")


@vision_group.command("recolor", epilog=_RESIZE_RULE)
@click.argument("a", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output PNG: A's digits in B's colour (one cell per cell of A).")
@click.option("--shape", type=click.Choice(["input", "codebook"]), default="input", show_default=True,
              help="input: keep A's strokes (cells at A's height); codebook: redraw A's digits from "
                   "their codebook atoms (model-sized cells).")
@_cell_options
@reports_errors
def recolor_command(a: Path, b: Path, out: Path, shape: str, checkpoint: str, cells: int | None,
                    cell_width: int | None) -> None:
    """Draw A's digits in B's colour (ink from B's style vector) and write OUT as PNG.

    The ink colour comes from B's style through the decoder, at the strength
    of B's darkest strokes. The cell options apply to both A and B. OUT is
    written atomically: on any error nothing is written.

    Example: v3 vision recolor a.png b.png -o out.png
    """
    from v3vision.api import recolor_file

    _exclusive(cells, cell_width)
    path = recolor_file(a, b, out, model=checkpoint, cells=cells, cell_width=cell_width, shape=shape)
    click.echo(f"wrote {path}")


@vision_group.command("embed", epilog=_RESIZE_RULE)
@click.argument("strips", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the vectors as JSON {file: [floats]} (atomically).")
@_cell_options
@reports_errors
def embed_command(strips: tuple[Path, ...], out: Path | None, checkpoint: str, cells: int | None,
                  cell_width: int | None) -> None:
    """Print the style (colour) vector of each strip: FILE, a tab, space-separated floats.

    The vector is the mean of the style vectors of the strip's cells.

    Example: v3 vision embed data/digits/test/strip_00000.png -o colours.json
    """
    from v3.fileio import atomic_write
    from v3vision.api import DigitReader

    _exclusive(cells, cell_width)
    reader = DigitReader(checkpoint)
    vectors = {str(path): reader.embed(path, cells=cells, cell_width=cell_width).tolist() for path in strips}
    if out is not None:
        atomic_write(out, lambda tmp: tmp.write_text(json.dumps(vectors, indent=1)))
    for path, vec in vectors.items():
        click.echo(f"{path}\t" + " ".join(f"{v:.5f}" for v in vec))
