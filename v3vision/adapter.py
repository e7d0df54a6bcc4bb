"""The vision adapter: strips of coloured handwritten digits -> RGB digit cells."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from v3.adapters import Adapter
from v3.config import (
    ExperimentConfig,
    LossConfig,
    ModelConfig,
    QuantizerConfig,
    TrainConfig,
    from_dict,
)
from v3.data import FragmentDataset
from v3.errors import ConfigError, DataError, V3Error

from .backbones import CellDecoder, CellEncoder, PaintDecoder, deskew_cells
from .data import ALL_COLOURS, cut_cells, load_image, read_manifest

__all__ = ["VisionAdapter", "VisionConfig"]

log = logging.getLogger(__name__)


@dataclass
class VisionConfig:
    """Settings of the vision adapter (cells, backbone, augmentation).

    Attributes
    ----------
    cell_size : int
        Cells are resized to ``cell_size`` x ``cell_size`` pixels (a multiple of 4).
    fragments_per_sample : int
        Cells per strip (F); every strip of a data folder must hold this many.
    channels : int
        Feature maps of the first convolution of encoder and decoder.
    hidden : int
        Width of the encoder's shape features and of the decoder's first layer.
    colour_hidden : int
        Width of the encoder's colour features.
    colour_input : bool
        Feed the raw RGB cell to the shape branch too (see
        :class:`v3vision.backbones.CellEncoder`).
    decoder : str
        ``"paint"`` (default): the content draws a colourless glyph, the style
        only its ink colour (:class:`v3vision.backbones.PaintDecoder`);
        ``"joint"``: one network decodes content and style together
        (:class:`v3vision.backbones.CellDecoder`), so style may also carry shape.
    cell_shift : float
        Training augmentation: each cell, independently, is shifted by up to
        this fraction of its side, rotated by up to 30 degrees times this
        value and scaled by up to +-this value (handwriting-like nuisance that
        the content must learn to ignore); 0 disables. Uses no labels.
    recolour_probability : float
        Training augmentation: each strip is redrawn, with this probability,
        in a random ink colour (the same for all its cells, so it acts as a
        new style); 0 disables. Uses no labels.
    latent_norm : bool
        Standardise content and style (batch normalisation) at the input of
        the paint decoder, so that it can tell atoms and colours apart (see
        :class:`v3vision.backbones.PaintDecoder`; off in checkpoints made
        before this setting existed, on for new ones).
    deskew : bool
        Centre and deslant every cell by its ink moments
        (:func:`v3vision.backbones.deskew_cells`), in the encoder and in the
        training targets, so that the decoder draws upright centred glyphs
        and the codebook need not spend atoms on slant and position (off in
        checkpoints made before this setting existed; on for new ones).
        Fixed, label-free; measured alone, k-means on deslanted ink maps
        of the test cells scores 0.86 one-to-one against 0.62 without.

    Examples
    --------
    The adapter parses and checks it from a checkpoint's or the command
    line's plain dict:

    >>> adapter = VisionAdapter()
    >>> config = adapter.parse_config({"cell_size": 24, "decoder": "joint"})
    >>> config.fragments_per_sample, adapter.fragment_shape(config)  # 10 cells of [3, 24, 24]
    (10, (3, 24, 24))
    >>> adapter.parse_config({"cell_size": 10})
    Traceback (most recent call last):
    ...
    v3.errors.ConfigError: adapter_config.cell_size=10 must be a multiple of 4, at least 8
    """

    cell_size: int = 16
    fragments_per_sample: int = 10
    channels: int = 16
    hidden: int = 128
    colour_hidden: int = 32
    colour_input: bool = False
    decoder: str = "paint"
    cell_shift: float = 0.0
    recolour_probability: float = 0.5
    latent_norm: bool = False
    deskew: bool = False


class VisionAdapter(Adapter):
    """Digit strips: content = digit identity, style = ink colour.

    Registered as ``vision`` under the ``v3.adapters`` entry point; each strip
    is one sample, each of its cells one fragment [3, cell_size, cell_size].

    Examples
    --------
    >>> import tempfile
    >>> from v3 import get_adapter
    >>> from v3vision.data import make_digit_strips
    >>> adapter = get_adapter("vision")
    >>> config = adapter.parse_config(adapter.default_config().adapter_config)
    >>> adapter.fragment_shape(config), sorted(adapter.shipped_checkpoints())
    ((3, 16, 16), ['digits'])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = make_digit_strips(folder, train_strips_per_colour=1, test_strips_per_colour=1)
    ...     data = adapter.load_dataset(Path(folder) / "test", config)
    >>> len(data), data.fragments.shape  # 8 strips (one per colour) of 10 cells
    (8, torch.Size([80, 3, 16, 16]))
    """

    name = "vision"
    description = "RGB digit cells from coloured strips: content = digit, style = colour"

    def default_config(self) -> ExperimentConfig:
        return ExperimentConfig(
            adapter=self.name,
            model=ModelConfig(content_dim=16, style_dim=8,
                              quantizer=QuantizerConfig(codebook_size=10, underuse_fraction=0.5)),
            # Relativity 5 instead of the paper's 15: with r = 15 the content vectors of
            # handwritten digits collapse early onto a poor partition (measured: 0.35-0.38
            # one-to-one vs 0.41-0.44 with r = 5 on three seeds; see checkpoints/digits.md).
            # Reconstruction weight 5: once the decoder can tell the atoms apart (latent_norm),
            # reconstruction is what sorts the handwriting into digits (0.63 -> 0.81 at 600 steps).
            # Balance term: a strip holds each digit once, so its ten cells should spread over
            # the ten atoms (0.854 -> 0.965-0.970 one-to-one on unseen handwriting; digits.md, AB).
            loss=LossConfig(relativity_content=5.0, relativity_style=5.0, relativity_sample=5.0,
                            relativity_fragment=5.0, reconstruction_weight=5.0, balance_weight=1.0),
            train=TrainConfig(steps=1200, batch_size=32, kmeans_refit_steps=(), checkpoint_every=100),
            # cell_shift 0.1: with the balance term the model fits the training handwriting
            # (0.996-0.998 on it); small random warps narrow the gap to unseen writers.
            adapter_config=asdict(VisionConfig(latent_norm=True, deskew=True, cell_shift=0.1)),
        )

    def parse_config(self, data: dict[str, Any]) -> VisionConfig:
        cfg = from_dict(VisionConfig, data, where="adapter_config")
        if cfg.cell_size < 8 or cfg.cell_size % 4:
            raise ConfigError(f"adapter_config.cell_size={cfg.cell_size} must be a multiple of 4, at least 8")
        if cfg.fragments_per_sample < 2:
            raise ConfigError(f"adapter_config.fragments_per_sample={cfg.fragments_per_sample} must be >= 2")
        if cfg.decoder not in ("paint", "joint"):
            raise ConfigError(f"adapter_config.decoder must be 'paint' or 'joint', got {cfg.decoder!r}")
        if not 0.0 <= cfg.recolour_probability <= 1.0:
            raise ConfigError(f"adapter_config.recolour_probability={cfg.recolour_probability} must lie in [0, 1]")
        return cfg

    def fragment_shape(self, adapter_config: VisionConfig) -> tuple[int, ...]:
        return (3, adapter_config.cell_size, adapter_config.cell_size)

    def build_backbones(self, adapter_config: VisionConfig, model_config: ModelConfig) -> tuple[nn.Module, nn.Module]:
        c = adapter_config
        encoder = CellEncoder(c.cell_size, channels=c.channels, hidden=c.hidden, colour_hidden=c.colour_hidden,
                              colour_input=c.colour_input, deskew=c.deskew)
        decoder: nn.Module
        if c.decoder == "paint":
            decoder = PaintDecoder(model_config.content_dim, model_config.style_dim, c.cell_size,
                                   channels=c.channels, hidden=c.hidden, colour_hidden=c.colour_hidden,
                                   latent_norm=c.latent_norm)
        else:
            decoder = CellDecoder(model_config.content_dim + model_config.style_dim, c.cell_size,
                                  channels=c.channels, hidden=c.hidden)
        return encoder, decoder

    def frontend_settings(self, adapter_config: VisionConfig) -> dict[str, Any]:
        return {"cell_size": adapter_config.cell_size, "fragments_per_sample": adapter_config.fragments_per_sample,
                "pixels": "RGB in [0, 1], white background", "resize": "bilinear, antialiased, per cell"}

    def load_dataset(self, data_dir: Path, adapter_config: VisionConfig) -> FragmentDataset:
        """Load a folder written by ``v3 vision make-data`` (its train, test or ood part).

        Each strip is one sample of ``fragments_per_sample`` cells.
        """
        data_dir = Path(data_dir)
        manifest = read_manifest(data_dir)
        f = adapter_config.fragments_per_sample
        cells: list[np.ndarray] = []
        content: list[int] = []
        style: list[int] = []
        for entry in manifest["strips"]:
            path = data_dir / entry["path"]
            try:
                strip = load_image(path)
                frags = cut_cells(strip, cell_size=adapter_config.cell_size, cells=len(entry["digits"]), name=str(path))
            except V3Error as exc:
                raise DataError(str(exc)) from exc
            if len(frags) != f:
                raise DataError(f"{path}: {len(frags)} cells, expected fragments_per_sample={f}")
            cells.append(frags)
            content.extend(int(d) for d in entry["digits"])
            style.extend([int(entry["colour_id"])] * f)
        n = len(manifest["strips"])
        return FragmentDataset(
            fragments=torch.from_numpy(np.concatenate(cells)),
            samples=torch.arange(n * f, dtype=torch.int64).reshape(n, f),
            content_labels=torch.tensor(content, dtype=torch.int64),
            style_labels=torch.tensor(style, dtype=torch.int64),
            content_names={d: str(d) for d in range(10)},
            style_names={i: name for i, (name, _) in ALL_COLOURS.items() if i in set(style)},
        )

    def augment(self, fragments: torch.Tensor, adapter_config: VisionConfig,
                generator: torch.Generator) -> torch.Tensor:
        """Redraw some strips [B, F, 3, H, W] in a random ink colour (one colour per strip).

        Before that, with ``cell_shift`` each cell is warped at random, and
        with ``deskew`` each cell is centred and deslanted (the training
        target of the decoder is then the normalised cell).

        The ink of a strip is projected on its own mean ink direction; the
        projection, scaled so that strokes reach 1, times a random colour
        becomes the new ink; what lies off that direction (noise) is kept.
        """
        if adapter_config.cell_shift > 0:
            fragments = _jitter_cells(fragments, adapter_config.cell_shift, generator)
        if adapter_config.deskew:
            b, f = fragments.shape[:2]
            fragments = deskew_cells(fragments.reshape(b * f, *fragments.shape[2:])).reshape(fragments.shape)
        p = adapter_config.recolour_probability
        b = fragments.shape[0]
        chosen = torch.rand(b, generator=generator) < p
        new_ink = torch.rand(b, 3, generator=generator)
        peak = 0.3 + 0.7 * torch.rand(b, generator=generator)
        if p <= 0 or not bool(chosen.any()):
            return fragments
        new_ink = new_ink / new_ink.amax(dim=1, keepdim=True).clamp(min=1e-6) * peak[:, None]
        x = fragments[chosen]
        ink = 1.0 - x  # [b', F, 3, H, W]
        amount = ink.mean(dim=2, keepdim=True).clamp(min=0)
        direction = (ink * amount).sum(dim=(1, 3, 4)) / amount.sum(dim=(1, 3, 4)).clamp(min=1e-6)  # [b', 3]
        unit = direction / direction.norm(dim=1, keepdim=True).clamp(min=1e-6)
        coef = torch.einsum("bfchw,bc->bfhw", ink, unit)
        stroke = torch.quantile(coef.flatten(1), 0.98, dim=1).clamp(min=1e-3)  # [b']
        alpha = (coef / stroke[:, None, None, None]).clamp(0.0, 1.0)
        residual = ink - coef[:, :, None] * unit[:, None, :, None, None]
        recoloured = 1.0 - alpha[:, :, None] * new_ink[chosen][:, None, :, None, None] - residual
        out = fragments.clone()
        out[chosen] = recoloured.clamp(0.0, 1.0)
        return out

    def shipped_checkpoints(self) -> dict[str, Path]:
        folder = Path(__file__).parent / "checkpoints"
        return {p.stem: p for p in sorted(folder.glob("*.pt"))}

    def extra_pictures(self, model: nn.Module, dataset: FragmentDataset, adapter_config: VisionConfig,
                       out_dir: Path) -> dict[str, str]:
        """Write ``reconstruction.png`` and ``recolor.png`` into ``out_dir``.

        reconstruction.png: pairs of rows, a strip and its reconstruction, one
        strip per colour (up to 8). recolor.png: the first row holds strips
        B (one per colour, up to 4); then, for each of 3 strips A, A itself and
        A's digits drawn in each B's colour.
        """
        from .api import recolor_cells, reconstruct_cells
        from .data import save_image

        out_dir = Path(out_dir)
        styles = dataset.style_labels[dataset.samples[:, 0]].numpy()
        picks: list[int] = []
        for s in np.unique(styles):
            picks.append(int(np.flatnonzero(styles == s)[0]))
        picks = picks[:8]
        rows = []
        for i in picks:
            cells = dataset.fragments[dataset.samples[i]]
            rows.append(_strip(cells.numpy()))
            rows.append(_strip(reconstruct_cells(model, cells).numpy()))
        zoom = max(1, -(-32 // adapter_config.cell_size))  # pictures drawn with cells of at least 32 px
        save_image(_zoom(np.concatenate(rows, axis=0), zoom), out_dir / "reconstruction.png")

        b_list = picks[:4]
        a_list = [int(i) for i in range(len(dataset)) if i not in b_list][:3] or picks[:1]
        blocks = [_strip(dataset.fragments[dataset.samples[j]].numpy()) for j in b_list]
        gap = np.ones((4, blocks[0].shape[1], 3), dtype=np.float32)
        blocks.append(gap)
        for i in a_list:
            a_cells = dataset.fragments[dataset.samples[i]]
            blocks.append(_strip(a_cells.numpy()))
            for j in b_list:
                blocks.append(_strip(recolor_cells(model, a_cells, dataset.fragments[dataset.samples[j]]).numpy()))
            blocks.append(gap)
        save_image(_zoom(np.concatenate(blocks, axis=0), zoom), out_dir / "recolor.png")
        return {"reconstruction": "reconstruction.png", "recolor": "recolor.png"}


def _jitter_cells(x: torch.Tensor, amount: float, generator: torch.Generator) -> torch.Tensor:
    """Random affine warp of every cell of x [B, F, 3, H, W] on its own (white outside the cell)."""
    b, f = x.shape[:2]
    n = b * f
    u = torch.rand(n, 4, generator=generator) * 2 - 1
    angle = u[:, 0] * amount * torch.pi / 6
    scale = 1.0 + u[:, 1] * amount
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, u[:, 2] * amount * 2], dim=1),
                         torch.stack([sin, cos, u[:, 3] * amount * 2], dim=1)], dim=1)  # [n, 2, 3]
    cells = 1.0 - x.reshape(n, *x.shape[2:])  # warp the ink, zero outside
    grid = torch.nn.functional.affine_grid(theta, list(cells.shape), align_corners=False)
    warped = torch.nn.functional.grid_sample(cells, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return (1.0 - warped).reshape(x.shape)


def _zoom(image: np.ndarray, factor: int) -> np.ndarray:
    """Enlarge an image [H, W, 3] by an integer factor (nearest neighbour)."""
    return image.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else image


def _strip(cells: np.ndarray) -> np.ndarray:
    """Cells [N, 3, H, W] -> strip image [H, N * W, 3]."""
    return np.concatenate(list(cells.transpose(0, 2, 3, 1)), axis=1)
