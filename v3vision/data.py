"""Digit strips from real handwriting: synthesis, image I/O and cutting strips into cells.

A *strip* is one RGB image holding the ten digits 0-9, each once, in shuffled
order, all drawn in one colour on a white background. Each digit is a real
handwritten digit from scikit-learn's ``load_digits`` (1797 images of 8x8
pixels), upsampled smoothly to a square cell. The source images are split into
train and test *before* strips are built, so test strips use handwriting the
model never saw.

A data folder written by :func:`make_digit_strips` holds three sub-folders,
``train`` (training colours, training handwriting), ``test`` (training
colours, unseen handwriting) and ``ood`` (unseen colours, unseen
handwriting), each with ``strip_XXXXX.png`` files and a ``manifest.json``
listing every strip's digits, colour, and the index in ``load_digits()`` of
each cell's source image (``sources``).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from v3.errors import DataError, InputError
from v3.fileio import atomic_write

__all__ = [
    "ALL_COLOURS",
    "MANIFEST_NAME",
    "OOD_COLOURS",
    "TRAIN_COLOURS",
    "StripSpec",
    "cut_cells",
    "draw_strip",
    "load_image",
    "make_digit_strips",
    "read_manifest",
    "render_digit",
    "save_image",
    "split_digits",
]

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"

# CSS colour values (RGB, 0-255).
TRAIN_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "blue": (0, 0, 255),
    "green": (0, 128, 0),
    "red": (255, 0, 0),
    "teal": (0, 128, 128),
    "purple": (128, 0, 128),
    "orange": (255, 165, 0),
    "brown": (165, 42, 42),
}
OOD_COLOURS: dict[str, tuple[int, int, int]] = {
    "pink": (255, 192, 203),
    "salmon": (250, 128, 114),
    "gold": (255, 215, 0),
    "lime": (0, 255, 0),
    "cyan": (0, 255, 255),
    "magenta": (255, 0, 255),
    "gray": (128, 128, 128),
    "peru": (205, 133, 63),
}
#: Every colour by style-label id: 0-7 training colours, 8-15 unseen (OOD) colours.
ALL_COLOURS: dict[int, tuple[str, tuple[int, int, int]]] = {
    i: item for i, item in enumerate([*TRAIN_COLOURS.items(), *OOD_COLOURS.items()])
}


@dataclass(frozen=True)
class StripSpec:
    """How strips are drawn.

    Attributes
    ----------
    cell_size : int
        Side of one square digit cell in pixels (the 8x8 digit is upsampled to
        ``cell_size - 2 * margin``).
    margin : int
        White border around the digit inside its cell, in pixels.
    jitter : float
        Largest random shift of a digit inside its cell, in pixels; also
        scales the random rotation (degrees = 3 x jitter) and zoom (+-3 % per pixel).
    blur : float
        Largest Gaussian blur sigma in pixels (each cell draws one in [0, blur]).
    noise : float
        Standard deviation of additive Gaussian pixel noise (pixel values in [0, 1]).

    Examples
    --------
    >>> import tempfile
    >>> spec = StripSpec(cell_size=16, margin=1, jitter=0.0)  # smaller cells, digits not shifted
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = make_digit_strips(folder, train_strips_per_colour=1, test_strips_per_colour=1, spec=spec)
    ...     load_image(f"{folder}/train/strip_00000.png").shape  # ten 16 x 16 cells
    (16, 160, 3)
    """

    cell_size: int = 24
    margin: int = 2
    jitter: float = 1.5
    blur: float = 0.6
    noise: float = 0.02


def split_digits(*, test_fraction: float = 0.3, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Split scikit-learn's handwritten digits into train and test, stratified by digit.

    Returns
    -------
    dict
        ``{"train": (images, labels, index), "test": (images, labels, index)}``
        with images float64 [N, 8, 8] scaled to [0, 1] (1 = full ink), labels
        int64 [N] and each image's index in ``load_digits()`` int64 [N].
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.float64) / 16.0
    labels = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test_index: list[int] = []
    for d in range(10):
        idx = np.flatnonzero(labels == d)
        rng.shuffle(idx)
        test_index.extend(idx[: round(len(idx) * test_fraction)].tolist())
    test_mask = np.zeros(len(labels), dtype=bool)
    test_mask[test_index] = True
    index = np.arange(len(labels), dtype=np.int64)
    return {split: (images[m], labels[m], index[m]) for split, m in (("train", ~test_mask), ("test", test_mask))}


def render_digit(image8: np.ndarray, spec: StripSpec, rng: np.random.Generator) -> np.ndarray:
    """Upsample one 8x8 ink image to a jittered, blurred ink cell [cell_size, cell_size] in [0, 1]."""
    inner = spec.cell_size - 2 * spec.margin
    big = ndimage.zoom(image8, inner / 8.0, order=3, mode="nearest", grid_mode=True)
    big = np.clip(big, 0.0, 1.0)
    cell = np.zeros((spec.cell_size, spec.cell_size))
    cell[spec.margin : spec.margin + inner, spec.margin : spec.margin + inner] = big[:inner, :inner]
    if spec.jitter > 0:
        angle = np.deg2rad(rng.uniform(-3, 3) * spec.jitter)
        zoom = 1.0 + rng.uniform(-0.03, 0.03) * spec.jitter
        shift = rng.uniform(-spec.jitter, spec.jitter, size=2)
        c, s = np.cos(angle) / zoom, np.sin(angle) / zoom
        matrix = np.array([[c, -s], [s, c]])
        centre = (spec.cell_size - 1) / 2.0
        offset = centre - matrix @ (np.array([centre, centre]) + shift)
        cell = ndimage.affine_transform(cell, matrix, offset=offset, order=1, mode="constant", cval=0.0)
    if spec.blur > 0:
        sigma = rng.uniform(0.0, spec.blur)
        if sigma > 0.05:
            cell = ndimage.gaussian_filter(cell, sigma)
    return np.clip(cell, 0.0, 1.0)


def _paint(ink: np.ndarray, colour: tuple[int, int, int], noise: float, rng: np.random.Generator) -> np.ndarray:
    """Ink [H, W] in [0, 1] -> RGB float [H, W, 3] on white: pixel = white + ink * (colour - white)."""
    rgb = np.asarray(colour, dtype=np.float64) / 255.0
    out = 1.0 + ink[..., None] * (rgb - 1.0)
    if noise > 0:
        out = out + rng.normal(0.0, noise, size=out.shape)
    return np.clip(out, 0.0, 1.0)


def draw_strip(digits: str | Sequence[int], colour: str | tuple[int, int, int] = "black", *, split: str = "test",
               index: int = 0) -> np.ndarray:
    """A strip of real handwritten digits in one colour, for examples and quick tests.

    Each digit is the ``index``-th image of that digit in the ``split`` part
    of scikit-learn's handwriting (:func:`split_digits`; ``"test"`` is
    handwriting no shipped model was trained on), drawn by
    :func:`render_digit` with ``StripSpec()`` and its jitter seeded by
    ``index``, painted without noise.

    Parameters
    ----------
    digits : str or sequence of int
        Digits left to right, e.g. ``"731"``.
    colour : str or (int, int, int)
        A colour name of :data:`ALL_COLOURS` or an RGB triple (0-255).
    split : {"train", "test"}
    index : int
        Which handwritten sample of each digit.

    Returns
    -------
    ndarray[24, 24 * len(digits), 3] (float64)
        RGB in [0, 1], white paper.

    Examples
    --------
    >>> draw_strip("731", "blue").shape
    (24, 72, 3)
    """
    palette = {name: rgb for name, rgb in ALL_COLOURS.values()}
    if isinstance(colour, str):
        if colour not in palette:
            raise InputError(f"colour {colour!r} is not one of {', '.join(palette)}")
        colour = palette[colour]
    images, labels, _ = split_digits()[split]
    spec = StripSpec()
    cells = [_paint(render_digit(images[labels == int(d)][index], spec, np.random.default_rng(index)), colour, 0.0,
                    np.random.default_rng(index)) for d in digits]
    return np.concatenate(cells, axis=1)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def save_image(image: np.ndarray, path: Path | str) -> Path:
    """Write an RGB float image [H, W, 3] in [0, 1] (or uint8) as PNG, atomically."""
    array = image if image.dtype == np.uint8 else _to_uint8(image)
    pil = Image.fromarray(array, mode="RGB")
    return atomic_write(Path(path), lambda tmp: pil.save(tmp, format="PNG"))


def _make_split(folder: Path, images: np.ndarray, labels: np.ndarray, source_index: np.ndarray, colours: list[str],
                palette: dict[str, tuple[int, int, int]], strips_per_colour: int, spec: StripSpec,
                rng: np.random.Generator) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    by_digit = [np.flatnonzero(labels == d) for d in range(10)]
    style_ids = {name: i for i, (name, _) in ALL_COLOURS.items()}
    entries: list[dict[str, Any]] = []
    n = 0
    for colour in colours:
        for _ in range(strips_per_colour):
            order = rng.permutation(10)
            cells, sources = [], []
            for d in order:
                src = int(rng.choice(by_digit[d]))
                sources.append(int(source_index[src]))
                cells.append(_paint(render_digit(images[src], spec, rng), palette[colour], spec.noise, rng))
            strip = np.concatenate(cells, axis=1)
            name = f"strip_{n:05d}.png"
            save_image(strip, folder / name)
            entries.append({"path": name, "digits": [int(d) for d in order], "colour": colour,
                            "colour_id": style_ids[colour], "rgb": list(palette[colour]), "sources": sources})
            n += 1
    manifest = {"format": "v3vision-strips", "version": 1, "cell_size": spec.cell_size, "cells": 10,
                "spec": spec.__dict__, "strips": entries}
    atomic_write(folder / MANIFEST_NAME, lambda tmp: tmp.write_text(json.dumps(manifest, indent=1)))
    return manifest


def make_digit_strips(
    out_dir: Path | str,
    *,
    train_strips_per_colour: int = 120,
    test_strips_per_colour: int = 25,
    spec: StripSpec | None = None,
    test_fraction: float = 0.3,
    seed: int = 0,
) -> dict[str, int]:
    """Write ``train``, ``test`` and ``ood`` strip folders under ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Created if missing.
    train_strips_per_colour : int
        Strips per training colour from the training handwriting.
    test_strips_per_colour : int
        Strips per colour in ``test`` (training colours) and ``ood`` (unseen
        colours), both from the held-out handwriting.
    spec : StripSpec, optional
        Cell size, jitter, blur, noise.
    test_fraction : float
        Share of each digit's source images held out for test strips.
    seed : int
        Seeds the split and every random choice: the same seed gives
        byte-identical files.

    Returns
    -------
    dict
        Number of strips written per split.

    Examples
    --------
    >>> import tempfile
    >>> make_digit_strips(tempfile.mkdtemp(), train_strips_per_colour=1, test_strips_per_colour=1)
    {'train': 8, 'test': 8, 'ood': 8}
    """
    spec = spec or StripSpec()
    if train_strips_per_colour < 1 or test_strips_per_colour < 1:
        raise InputError("strips per colour must be >= 1")
    if not 0.0 < test_fraction < 1.0:
        raise InputError(f"test_fraction={test_fraction} must lie in (0, 1)")
    if spec.cell_size < 12 or spec.cell_size - 2 * spec.margin < 8:
        raise InputError(f"cell_size={spec.cell_size} with margin={spec.margin} leaves less than 8 pixels for a digit")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{out}: cannot create the output folder ({exc.strerror})") from exc
    parts = split_digits(test_fraction=test_fraction, seed=seed)
    rng = np.random.default_rng(seed + 1)
    counts = {}
    for split, (source, colours, palette, per_colour) in {
        "train": ("train", list(TRAIN_COLOURS), TRAIN_COLOURS, train_strips_per_colour),
        "test": ("test", list(TRAIN_COLOURS), TRAIN_COLOURS, test_strips_per_colour),
        "ood": ("test", list(OOD_COLOURS), OOD_COLOURS, test_strips_per_colour),
    }.items():
        images, labels, source_index = parts[source]
        manifest = _make_split(out / split, images, labels, source_index, colours, palette, per_colour, spec, rng)
        counts[split] = len(manifest["strips"])
    return counts


def read_manifest(folder: Path | str) -> dict[str, Any]:
    """Read and check the ``manifest.json`` of a strip folder."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not folder.is_dir():
        raise DataError(f"{folder}: data folder not found")
    if not path.is_file():
        hint = ""
        if all((folder / s / MANIFEST_NAME).is_file() for s in ("train", "test")):
            hint = f" (it holds train/test/ood sub-folders: use {folder / 'train'} or {folder / 'test'})"
        raise DataError(f"{folder}: no {MANIFEST_NAME}; not a folder written by `v3 vision make-data`{hint}")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != "v3vision-strips":
        raise DataError(f"{path}: not a v3vision strip manifest")
    if not manifest.get("strips"):
        raise DataError(f"{path}: lists no strips")
    return manifest


def load_image(image: Any, *, name: str = "image") -> npt.NDArray[np.float32]:
    """Load and validate an RGB image: a path, bytes, a PIL image or an array.

    Accepted: RGB (3 channels); RGBA (4 channels, composited onto white);
    palette images (converted to RGB). Arrays must be [H, W, 3] or
    [H, W, 4], uint8 (0-255) or float (0-1).

    Returns
    -------
    ndarray float32 [H, W, 3]
        Pixel values in [0, 1].

    Raises
    ------
    InputError
        Not an image, an empty image, or a channel count other than 3 or 4.

    Examples
    --------
    >>> image = load_image(np.zeros((2, 3, 4), np.uint8))  # black, fully transparent RGBA
    >>> image.shape, image.dtype, float(image.min())  # composited onto white
    ((2, 3, 3), dtype('float32'), 1.0)
    >>> import io
    >>> png = io.BytesIO()
    >>> Image.new("RGB", (4, 2), (255, 0, 0)).save(png, format="PNG")
    >>> load_image(png.getvalue())[0, 0].tolist()  # PNG bytes: a red pixel
    [1.0, 0.0, 0.0]
    >>> load_image(np.ones((2, 2)), name="mask")
    Traceback (most recent call last):
    ...
    v3.errors.InputError: mask: has 1 channel(s) (shape (2, 2)); expected [H, W, 3] RGB or [H, W, 4] RGBA
    """
    pil: Image.Image | None = None
    if isinstance(image, (str, Path)):
        path = Path(image)
        name = str(path)
        if not path.is_file():
            raise InputError(f"{name}: file not found")
        if path.stat().st_size == 0:
            raise InputError(f"{name}: empty file, not an image")
        try:
            with Image.open(path) as opened:
                opened.load()
                pil = opened.copy()
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise InputError(f"{name}: not a readable image ({type(exc).__name__})") from exc
    elif isinstance(image, (bytes, bytearray)):
        if not image:
            raise InputError(f"{name}: empty data, not an image")
        try:
            with Image.open(io.BytesIO(image)) as opened:
                opened.load()
                pil = opened.copy()
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise InputError(f"{name}: not a readable image ({type(exc).__name__})") from exc
    elif isinstance(image, Image.Image):
        pil = image
    if pil is not None:
        if pil.width == 0 or pil.height == 0:
            raise InputError(f"{name}: empty image ({pil.width}x{pil.height} pixels)")
        if pil.mode == "P":
            pil = pil.convert("RGBA" if "transparency" in pil.info else "RGB")
        bands = pil.getbands()
        if bands not in (("R", "G", "B"), ("R", "G", "B", "A")):
            raise InputError(f"{name}: has {len(bands)} channel(s) (mode {pil.mode}); expected an RGB or RGBA image")
        array = np.asarray(pil)
    else:
        try:
            array = np.asarray(image)
        except Exception as exc:
            raise InputError(f"{name}: not an image ({type(image).__name__})") from exc
        if array.dtype == object or array.dtype.kind not in "biuf":
            raise InputError(f"{name}: not an image ({type(image).__name__} of dtype {array.dtype})")
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        channels = 1 if array.ndim == 2 else (array.shape[2] if array.ndim == 3 else "?")
        raise InputError(f"{name}: has {channels} channel(s) (shape {array.shape}); expected [H, W, 3] RGB or [H, W, 4] RGBA")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InputError(f"{name}: empty image (shape {array.shape})")
    if array.dtype.kind in "biu":
        data = array.astype(np.float32) / 255.0
    else:
        data = array.astype(np.float32)
        if not np.all(np.isfinite(data)):
            raise InputError(f"{name}: holds NaN or Inf pixel values")
        data = np.clip(data, 0.0, 1.0)
    if data.shape[2] == 4:
        alpha = data[..., 3:4]
        data = data[..., :3] * alpha + (1.0 - alpha)
    return np.ascontiguousarray(data)


def cut_cells(
    strip: np.ndarray,
    *,
    cell_size: int,
    cells: int | None = None,
    cell_width: int | None = None,
    name: str = "image",
) -> npt.NDArray[np.float32]:
    """Cut a strip [H, W, 3] into cells and resize each to [3, cell_size, cell_size].

    Rule: the strip is split left to right into equal cells. With ``cells=N``
    the width must be a multiple of N; with ``cell_width=w`` a multiple of w;
    with neither, cells are square (``cell_width = H``) and the width must be
    a multiple of the height. Each cell of any size is then resized
    (bilinear, antialiased) to ``cell_size`` x ``cell_size``.

    Returns
    -------
    ndarray float32 [N, 3, cell_size, cell_size]

    Raises
    ------
    InputError
        The width does not split into whole cells, or both options are given.

    Examples
    --------
    >>> cut_cells(np.ones((24, 240, 3), np.float32), cell_size=24).shape
    (10, 3, 24, 24)
    """
    height, width = strip.shape[:2]
    if cells is not None and cell_width is not None:
        raise InputError("give the number of cells or the cell width, not both")
    if cells is not None:
        if cells < 1:
            raise InputError(f"cells={cells} must be >= 1")
        if width % cells:
            raise InputError(f"{name}: width {width} px does not split into {cells} equal cells")
        cell_width = width // cells
    elif cell_width is not None:
        if cell_width < 1:
            raise InputError(f"cell width {cell_width} must be >= 1")
        if width % cell_width:
            raise InputError(f"{name}: width {width} px is not a multiple of the cell width {cell_width} px")
    else:
        if width % height:
            raise InputError(
                f"{name}: width {width} px is not a multiple of the height {height} px (square cells); "
                "give the number of cells or the cell width")
        cell_width = height
    n = width // cell_width
    out = np.empty((n, 3, cell_size, cell_size), dtype=np.float32)
    for i in range(n):
        cell = strip[:, i * cell_width : (i + 1) * cell_width]
        if cell.shape[:2] != (cell_size, cell_size):
            channels = [
                np.asarray(Image.fromarray(cell[..., c].astype(np.float32), mode="F").resize(
                    (cell_size, cell_size), Image.Resampling.BILINEAR, reducing_gap=None))
                for c in range(3)
            ]
            cell = np.stack(channels, axis=-1)
        out[i] = np.clip(cell, 0.0, 1.0).transpose(2, 0, 1)
    return out
