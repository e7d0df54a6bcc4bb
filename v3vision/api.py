"""Public API: read the digits of a strip, recolour a strip, embed a strip's colour.

A ladder of functions plus one class holding a loaded model:

* :func:`read_digits` (image -> ``"0731..."``), :func:`recolor` (A, B -> image
  of A's digits in B's colour), :func:`embed` (image -> style vector);
* :func:`recolor_file` (paths in, PNG out, written atomically);
* :class:`DigitReader`, which keeps one checkpoint loaded for many images.

Every function takes ``model=``: a :class:`DigitReader`, a
:class:`v3.checkpoint.LoadedModel`, a checkpoint path, or the name of a
shipped checkpoint (default ``"digits"``).

Images are paths, PNG bytes, PIL images or arrays [H, W, 3|4] (see
:func:`v3vision.data.load_image`). A strip is cut into equal cells left to
right: ``cells=N`` (width must be a multiple of N), ``cell_width=W`` (width a
multiple of W) or, by default, square cells (width a multiple of the height).
Each cell is then resized (bilinear, antialiased) to the model's cell size.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Union

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor, nn

from v3.adapters import find_checkpoint
from v3.checkpoint import LoadedModel, load_model
from v3.errors import CheckpointError, InputError

from .backbones import PaintDecoder, ink_shape_and_colour
from .data import cut_cells, load_image, save_image

__all__ = [
    "DEFAULT_CHECKPOINT",
    "DigitReader",
    "ModelLike",
    "embed",
    "read_digits",
    "recolor",
    "recolor_cells",
    "recolor_file",
    "reconstruct_cells",
]

DEFAULT_CHECKPOINT = "digits"

ModelLike = Union["DigitReader", LoadedModel, str, Path]


@torch.no_grad()
def reconstruct_cells(model: nn.Module, cells: Tensor) -> Tensor:
    """Encode and decode cells [N, 3, H, W] as one sample; returns [N, 3, H, W] in [0, 1]."""
    model.eval()
    device = next(model.parameters()).device
    out = model(cells[None].to(device))  # type: ignore[operator]
    return out.reconstruction[0].float().cpu().clamp(0, 1)


@torch.no_grad()
def recolor_cells(model: nn.Module, cells_a: Tensor, cells_b: Tensor, *, shape: str = "codebook") -> Tensor:
    """Draw A's digits with B's style (the mean of B's cells' style vectors).

    With the paint decoder, OUT is ``1 - alpha * k``: the ink map alpha of
    A's digits, contrast-stretched so that strokes get full-strength ink
    (alpha 0.3 -> 0, 0.7 -> 1), times the ink k that the decoder derives
    from B's style, scaled to the strength of B's darkest strokes (99.5th
    percentile of B's ink; the decoder alone draws ink as pale as the
    average stroke it reconstructs). Other decoders decode A's quantised content with B's style.

    Parameters
    ----------
    cells_a : Tensor[Na, 3, H, W] or Tensor[Na, 3, S, S]
        Model-sized cells; with ``shape="input"`` any size S.
    cells_b : Tensor[Nb, 3, H, W]
    shape : {"codebook", "input"}
        Where alpha comes from. ``"codebook"``: the decoder's drawing of A's
        atoms (a digit is redrawn from its symbol). ``"input"``: A's own
        strokes (its colour-free ink map, see
        :func:`v3vision.backbones.ink_shape_and_colour`; paint decoder only).

    Returns
    -------
    Tensor[Na, 3, H, W] (or [Na, 3, S, S])
        A's digits drawn in B's colour, pixels in [0, 1].
    """
    if shape not in ("codebook", "input"):
        raise InputError(f"shape={shape!r} must be 'codebook' or 'input'")
    model.eval()
    device = next(model.parameters()).device
    decoder = model.decoder  # type: ignore[union-attr]
    enc_b = model.encode(cells_b[None].to(device))  # type: ignore[operator]
    style = enc_b.style.mean(dim=1, keepdim=True).expand(-1, cells_a.shape[0], -1)
    if not isinstance(decoder, PaintDecoder):
        if shape == "input":
            raise CheckpointError("shape='input' needs a checkpoint with the paint decoder")
        enc_a = model.encode(cells_a[None].to(device))  # type: ignore[operator]
        return model.decode(enc_a.quantized, style)[0].float().cpu().clamp(0, 1)  # type: ignore[operator]
    if shape == "input":
        alpha = ink_shape_and_colour(cells_a.to(device).float())[0].clamp(0, 1)  # [Na, 1, H, W]
    else:
        alpha = decoder.glyph(model.encode(cells_a[None].to(device)).quantized[0].float())  # type: ignore[operator]
    # Full-strength strokes: alpha 0.3 -> 0, 0.7 -> 1 (the input's strokes fade into the paper).
    alpha = ((alpha - 0.3) / 0.4).clamp(0, 1)
    ink = decoder.ink(style[0].float())  # [Na, 3]
    # The decoder's ink is as pale as the average stroke it reconstructs; OUT is drawn at the
    # strength of B's darkest strokes instead: hue from B's style, strength from B's pixels.
    peak = torch.quantile((1.0 - cells_b.float()).clamp(min=0).mean(dim=1).flatten(), 0.995)
    ink = (ink * (peak / ink.mean(dim=1, keepdim=True).clamp(min=1e-3))).clamp(0, 1)
    return (1.0 - alpha * ink[:, :, None, None]).cpu().clamp(0, 1)


@lru_cache(maxsize=4)
def _load_cached(path: str) -> LoadedModel:
    return load_model(path)


class DigitReader:
    """A loaded vision checkpoint, ready to read, recolour and embed many strips.

    Parameters
    ----------
    model : LoadedModel, path or str
        A loaded model, a checkpoint file, or a shipped checkpoint's name.
    device : str or torch.device
        Where to run the model.

    Examples
    --------
    A strip of three handwritten digits (7, 3, 1) drawn by the package's own
    generator, read with the shipped ``digits`` checkpoint:

    >>> from v3vision.data import draw_strip
    >>> blue = draw_strip("731", "blue")  # handwriting no model was trained on: RGB [24, 72, 3]
    >>> reader = DigitReader("digits")
    >>> reader.read(blue), reader.cell_size  # cells are resized to 16 x 16 pixels
    ('731', 16)
    """

    def __init__(self, model: LoadedModel | str | Path = DEFAULT_CHECKPOINT, *,
                 device: str | torch.device = "cpu") -> None:
        if isinstance(model, LoadedModel):
            loaded = model
        else:
            path = find_checkpoint(model)
            loaded = _load_cached(str(Path(path).resolve())) if str(device) == "cpu" else load_model(path, device=device)
        if loaded.adapter.name != "vision":
            raise CheckpointError(f"{loaded.path}: a {loaded.adapter.name!r} checkpoint, not a vision one")
        self.loaded = loaded
        self.config = loaded.adapter.parse_config(loaded.config.adapter_config)
        self.cell_size: int = self.config.cell_size
        self.atom_labels: list[int] = loaded.atom_labels

    @property
    def model(self) -> nn.Module:
        """The loaded :class:`v3.ContentStyleAutoencoder` (eval mode).

        Examples
        --------
        >>> model = DigitReader("digits").model
        >>> type(model).__name__, model.quantizer.codebook_size  # one atom per digit
        ('ContentStyleAutoencoder', 10)
        """
        return self.loaded.model

    def cells(self, image: Any, *, cells: int | None = None, cell_width: int | None = None,
              name: str = "image") -> Tensor:
        """Load a strip and cut it into model-sized cells.

        Parameters
        ----------
        image : path, bytes, PIL image or array [H, W, 3|4]
            The strip (see :func:`v3vision.data.load_image`).
        cells, cell_width : int, optional
            How to cut it (see :func:`v3vision.data.cut_cells`; default: square cells).
        name : str
            Names the image in error messages when it is not a path.

        Returns
        -------
        Tensor[N, 3, cell_size, cell_size]
            RGB in [0, 1], left to right.

        Examples
        --------
        >>> reader = DigitReader("digits")
        >>> strip = np.ones((24, 72, 3), np.float32)  # white [H, W, 3]: three 24 x 24 cells
        >>> reader.cells(strip).shape, reader.cells(strip, cells=2).shape  # cells=2: 36 px wide each
        (torch.Size([3, 3, 16, 16]), torch.Size([2, 3, 16, 16]))
        """
        strip = load_image(image, name=name)
        return torch.from_numpy(cut_cells(strip, cell_size=self.cell_size, cells=cells,
                                          cell_width=cell_width, name=_name(image, name)))

    @torch.no_grad()
    def codes(self, image: Any, *, cells: int | None = None, cell_width: int | None = None) -> npt.NDArray[np.int64]:
        """Codebook atom of every cell, left to right: int64 [N].

        Each cell is encoded on its own. ``atom_labels[code]`` is the digit
        the atom was named after at calibration (what :meth:`read` returns).

        Examples
        --------
        >>> from v3vision.data import draw_strip
        >>> blue = draw_strip("731", "blue")  # handwriting no model was trained on: RGB [24, 72, 3]
        >>> reader = DigitReader("digits")
        >>> codes = reader.codes(blue)
        >>> codes.shape, [reader.atom_labels[c] for c in codes]
        ((3,), [7, 3, 1])
        """
        x = self.cells(image, cells=cells, cell_width=cell_width)
        self.model.eval()
        enc = self.model.encode(x[:, None].to(_device(self.model)))  # type: ignore[operator]  # cells one by one
        return enc.codes[:, 0].cpu().numpy().astype(np.int64)

    def read(self, image: Any, *, cells: int | None = None, cell_width: int | None = None) -> str:
        """The digits of a strip, left to right, as a string ("?" for an unnamed atom).

        Examples
        --------
        >>> from v3vision.data import draw_strip
        >>> blue = draw_strip("731", "blue")  # handwriting no model was trained on: RGB [24, 72, 3]
        >>> red = draw_strip("731", "red")  # the same digits in red
        >>> reader = DigitReader("digits")
        >>> reader.read(blue), reader.read(red, cells=3)  # the colour does not change the reading
        ('731', '731')
        """
        names = self.atom_labels
        return "".join(str(names[c]) if c < len(names) and names[c] >= 0 else "?"
                       for c in self.codes(image, cells=cells, cell_width=cell_width))

    def recolor(self, a: Any, b: Any, *, cells: int | None = None, cell_width: int | None = None,
                cells_b: int | None = None, cell_width_b: int | None = None,
                shape: str = "input") -> npt.NDArray[np.float32]:
        """A's digits in B's colour: RGB float32 [S, Na * S, 3] in [0, 1].

        ``cells``/``cell_width`` cut A; ``cells_b``/``cell_width_b`` cut B
        (default: the same options as A). ``shape`` as in
        :func:`recolor_cells`: ``"input"`` keeps A's strokes and A's cell
        height (S = height of A), ``"codebook"`` draws A's atoms at the
        model's cell size (S = ``cell_size``).

        Examples
        --------
        >>> from v3vision.data import draw_strip
        >>> blue = draw_strip("731", "blue")  # handwriting no model was trained on: RGB [24, 72, 3]
        >>> red = draw_strip("731", "red")  # the same digits in red
        >>> reader = DigitReader("digits")
        >>> out = reader.recolor(blue, red)  # blue's 7, 3, 1 in red's ink
        >>> out.shape, out.dtype, bool(out[..., 0].mean() > out[..., 2].mean())  # now more red than blue
        ((24, 72, 3), dtype('float32'), True)
        >>> reader.recolor(blue, red, shape="codebook").shape  # digits redrawn at the cell size
        (16, 48, 3)
        """
        if shape == "input":
            strip = load_image(a, name="A")
            xa = torch.from_numpy(cut_cells(strip, cell_size=max(strip.shape[0], 4), cells=cells,
                                            cell_width=cell_width, name=_name(a, "A")))
        else:
            xa = self.cells(a, cells=cells, cell_width=cell_width, name="A")
        if cells_b is None and cell_width_b is None:
            cells_b, cell_width_b = cells, cell_width
        xb = self.cells(b, cells=cells_b, cell_width=cell_width_b, name="B")
        out = recolor_cells(self.model, xa, xb, shape=shape).numpy()
        return np.ascontiguousarray(np.concatenate(list(out.transpose(0, 2, 3, 1)), axis=1))

    @torch.no_grad()
    def embed(self, image: Any, *, cells: int | None = None, cell_width: int | None = None) -> npt.NDArray[np.float32]:
        """Style (colour) vector of a strip: the mean of its cells' style vectors, float32 [Ds].

        Examples
        --------
        Same digits in another colour lie far apart; other digits in the same
        colour lie close:

        >>> import numpy as np
        >>> from v3vision.data import draw_strip
        >>> blue = draw_strip("731", "blue")  # handwriting no model was trained on: RGB [24, 72, 3]
        >>> red = draw_strip("731", "red")  # the same digits in red
        >>> blue_258 = draw_strip("258", "blue", index=1)  # other digits, other writers, in blue
        >>> reader = DigitReader("digits")
        >>> e_blue, e_red, e_blue_258 = reader.embed(blue), reader.embed(red), reader.embed(blue_258)
        >>> e_blue.shape, bool(np.linalg.norm(e_blue - e_blue_258) < np.linalg.norm(e_blue - e_red))
        ((8,), True)
        """
        x = self.cells(image, cells=cells, cell_width=cell_width)
        self.model.eval()
        enc = self.model.encode(x[:, None].to(_device(self.model)))  # type: ignore[operator]
        return enc.style[:, 0].mean(dim=0).float().cpu().numpy()


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _name(image: Any, default: str) -> str:
    return str(image) if isinstance(image, (str, Path)) else default


def _reader(model: ModelLike) -> DigitReader:
    return model if isinstance(model, DigitReader) else DigitReader(model)


def read_digits(image: Any, *, model: ModelLike = DEFAULT_CHECKPOINT, cells: int | None = None,
                cell_width: int | None = None) -> str:
    """Read the digits of a strip with a V3 codebook (atoms named at calibration).

    Parameters
    ----------
    image : path, bytes, PIL image or array [H, W, 3|4]
        The strip.
    model : DigitReader, LoadedModel, path or str
        Default: the shipped ``digits`` checkpoint.
    cells, cell_width : int, optional
        How to cut the strip (see the module docstring).

    Returns
    -------
    str
        One character per cell, e.g. ``"7310524968"``.

    Examples
    --------
    A strip drawn by the package's generator, read from a PNG file:

    >>> import tempfile
    >>> from v3vision.data import draw_strip
    >>> blue = draw_strip("731", "blue")  # handwriting no model was trained on: RGB [24, 72, 3]
    >>> from v3vision.data import save_image
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_image(blue, Path(folder) / "strip.png")
    ...     read_digits(path)
    '731'
    """
    return _reader(model).read(image, cells=cells, cell_width=cell_width)


def recolor(a: Any, b: Any, *, model: ModelLike = DEFAULT_CHECKPOINT, cells: int | None = None,
            cell_width: int | None = None, shape: str = "input") -> npt.NDArray[np.float32]:
    """Draw A's digits in B's colour (ink from B's mean style vector).

    ``shape="input"`` (default) keeps A's own strokes; ``shape="codebook"``
    redraws each of A's digits from its codebook atom (see :func:`recolor_cells`).

    Returns
    -------
    ndarray float32 [S, Na * S, 3]
        RGB in [0, 1]; one cell per cell of A, S = A's height
        (``"input"``) or the model's cell size (``"codebook"``).

    Examples
    --------
    >>> from v3vision.data import draw_strip
    >>> blue = draw_strip("731", "blue")  # handwriting no model was trained on: RGB [24, 72, 3]
    >>> red = draw_strip("731", "red")  # the same digits in red
    >>> out = recolor(blue, red)
    >>> out.shape, bool(out[..., 0].mean() > out[..., 2].mean())  # [S, Na * S, 3], now red ink
    ((24, 72, 3), True)
    """
    return _reader(model).recolor(a, b, cells=cells, cell_width=cell_width, shape=shape)


def recolor_file(a: Path | str, b: Path | str, out: Path | str, *, model: ModelLike = DEFAULT_CHECKPOINT,
                 cells: int | None = None, cell_width: int | None = None, shape: str = "input") -> Path:
    """:func:`recolor` two image files and write the result as PNG (atomically).

    Parameters
    ----------
    a, b : path
        Image files: A gives the digits, B the colour.
    out : path
        The PNG to write; its folder must exist.
    model, cells, cell_width, shape
        As in :func:`recolor`.

    Returns
    -------
    Path
        ``out``.

    Examples
    --------
    >>> import tempfile
    >>> from v3vision.data import draw_strip
    >>> blue = draw_strip("731", "blue")  # handwriting no model was trained on: RGB [24, 72, 3]
    >>> red = draw_strip("731", "red")  # the same digits in red
    >>> from v3vision.data import load_image, save_image
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     a, b = save_image(blue, Path(folder) / "a.png"), save_image(red, Path(folder) / "b.png")
    ...     out = recolor_file(a, b, Path(folder) / "a_in_red.png")
    ...     out.name, load_image(out).shape
    ('a_in_red.png', (24, 72, 3))
    """
    out = Path(out)
    if out.is_dir():
        raise InputError(f"{out}: is a folder, expected a PNG file path")
    if not out.parent.is_dir():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    image = recolor(a, b, model=model, cells=cells, cell_width=cell_width, shape=shape)
    return save_image(image, out)


def embed(image: Any, *, model: ModelLike = DEFAULT_CHECKPOINT, cells: int | None = None,
          cell_width: int | None = None) -> npt.NDArray[np.float32]:
    """Style (colour) vector of a strip: the mean style vector of its cells, float32 [Ds].

    Examples
    --------
    >>> from v3vision.data import draw_strip
    >>> blue = draw_strip("731", "blue")  # handwriting no model was trained on: RGB [24, 72, 3]
    >>> vector = embed(blue)
    >>> vector.shape, vector.dtype
    ((8,), dtype('float32'))
    """
    return _reader(model).embed(image, cells=cells, cell_width=cell_width)
