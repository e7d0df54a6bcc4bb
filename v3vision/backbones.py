"""Encoder and decoder backbones for RGB digit cells [N, 3, H, W] (white background)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["CellDecoder", "CellEncoder", "PaintDecoder", "ink_shape_and_colour"]


def ink_shape_and_colour(x: Tensor, *, top_fraction: float = 0.05, eps: float = 1e-4) -> tuple[Tensor, Tensor]:
    """Split cells into a colour-free ink shape and an ink colour.

    Parameters
    ----------
    x : Tensor[N, 3, H, W]
        Pixels in [0, 1] on a white background.

    Returns
    -------
    shape : Tensor[N, 1, H, W]
        Ink amount (mean over channels of ``1 - x``) divided by the mean of the
        cell's brightest ``top_fraction`` ink pixels: about 1 on strokes, 0 on
        paper, for any ink colour.
    colour : Tensor[N, 4]
        Ink-weighted mean ink ``1 - x`` per channel and the ink scale used above.

    Examples
    --------
    >>> s, c = ink_shape_and_colour(torch.ones(2, 3, 8, 8))
    >>> s.shape, c.shape
    (torch.Size([2, 1, 8, 8]), torch.Size([2, 4]))
    """
    ink = (1.0 - x).clamp(min=0.0)
    amount = ink.mean(dim=1, keepdim=True)  # [N, 1, H, W]
    flat = amount.flatten(1)
    k = max(1, round(flat.shape[1] * top_fraction))
    scale = flat.topk(k, dim=1).values.mean(dim=1)  # [N]
    shape = amount / (scale[:, None, None, None] + eps)
    weight = flat / (flat.sum(dim=1, keepdim=True) + eps)  # [N, HW]
    colour = torch.einsum("ncp,np->nc", ink.flatten(2), weight)
    return shape, torch.cat([colour, scale[:, None]], dim=1)


class CellEncoder(nn.Module):
    """Two branches: a CNN on the colour-free ink shape and an MLP on the ink colour.

    The shape branch sees the cell only through :func:`ink_shape_and_colour`,
    so a new ink colour looks to it like a known one; the colour branch sees
    only the ink colour. The V3 heads of the core (linear maps from the
    concatenated features) decide, without labels, which features are content
    and which are style.

    Parameters
    ----------
    cell_size : int
        H = W of the input cells (a multiple of 4).
    channels : int
        Feature maps of the first convolution (the second and third have twice as many).
    hidden : int
        Width of the shape features; ``out_features = hidden + colour_hidden``.
    colour_hidden : int
        Width of the colour features.
    colour_input : bool
        Also feed the raw RGB cell to the shape branch (off by default: that
        would let colour leak into content).

    Examples
    --------
    >>> CellEncoder(24, channels=8, hidden=16)(torch.rand(5, 3, 24, 24)).shape
    torch.Size([5, 48])
    """

    def __init__(self, cell_size: int, *, channels: int = 32, hidden: int = 128, colour_hidden: int = 32,
                 colour_input: bool = False) -> None:
        super().__init__()
        self.colour_input = colour_input
        c = channels
        in_ch = 4 if colour_input else 1
        side = cell_size // 4
        self.shape_net = nn.Sequential(
            nn.Conv2d(in_ch, c, 3, padding=1), nn.GELU(),
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1), nn.GELU(),
            nn.Flatten(),
            nn.Linear(2 * c * side * side, hidden), nn.GELU(),
        )
        self.colour_net = nn.Sequential(nn.Linear(4, colour_hidden), nn.GELU(),
                                        nn.Linear(colour_hidden, colour_hidden), nn.GELU())
        self.out_features = hidden + colour_hidden

    def forward(self, x: Tensor) -> Tensor:
        shape, colour = ink_shape_and_colour(x)
        inp = torch.cat([shape, x], dim=1) if self.colour_input else shape
        return torch.cat([self.shape_net(inp), self.colour_net(colour)], dim=1)


class CellDecoder(nn.Module):
    """Map joint content+style vectors [N, Dc + Ds] to RGB cells [N, 3, H, W] in [0, 1].

    A linear layer to a [2c, H/4, W/4] map, two transposed convolutions up to
    H x W, and a sigmoid.

    Examples
    --------
    >>> CellDecoder(20, 24, channels=8)(torch.zeros(2, 20)).shape
    torch.Size([2, 3, 24, 24])
    """

    def __init__(self, in_features: int, cell_size: int, *, channels: int = 32, hidden: int = 128) -> None:
        super().__init__()
        c = channels
        self.side = cell_size // 4
        self.c = 2 * c
        self.fc = nn.Sequential(nn.Linear(in_features, hidden), nn.GELU(),
                                nn.Linear(hidden, 2 * c * self.side * self.side), nn.GELU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * c, 2 * c, 4, stride=2, padding=1), nn.GELU(),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(c, 3, 3, padding=1), nn.Sigmoid(),
        )

    def forward(self, z: Tensor) -> Tensor:
        h = self.fc(z).reshape(-1, self.c, self.side, self.side)
        return self.net(h)


class PaintDecoder(nn.Module):
    """Draw a colourless glyph from the content part and paint it with a colour from the style part.

    The input [N, Dc + Ds] is split: the first ``content_dim`` values (the
    quantised content) go through a :class:`CellDecoder`-like network to an
    ink map alpha [N, 1, H, W] in [0, 1]; the last ``Ds`` values (the style)
    go through a small MLP to one ink colour k [N, 3] in [0, 1]. The cell is
    ``1 - alpha * k`` (white paper). Style can then only set the colour, so
    the shape of a digit has to come through the codebook.

    Examples
    --------
    >>> PaintDecoder(16, 8, 24, channels=8)(torch.zeros(2, 24)).shape
    torch.Size([2, 3, 24, 24])
    """

    def __init__(self, content_dim: int, style_dim: int, cell_size: int, *, channels: int = 32,
                 hidden: int = 128, colour_hidden: int = 32) -> None:
        super().__init__()
        c = channels
        self.content_dim = content_dim
        self.side = cell_size // 4
        self.c = 2 * c
        self.fc = nn.Sequential(nn.Linear(content_dim, hidden), nn.GELU(),
                                nn.Linear(hidden, 2 * c * self.side * self.side), nn.GELU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * c, 2 * c, 4, stride=2, padding=1), nn.GELU(),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(c, 1, 3, padding=1), nn.Sigmoid(),
        )
        self.colour = nn.Sequential(nn.Linear(style_dim, colour_hidden), nn.GELU(),
                                    nn.Linear(colour_hidden, 3), nn.Sigmoid())

    def forward(self, z: Tensor) -> Tensor:
        content, style = z[:, : self.content_dim], z[:, self.content_dim :]
        alpha = self.net(self.fc(content).reshape(-1, self.c, self.side, self.side))
        ink = self.colour(style)[:, :, None, None]
        return 1.0 - alpha * ink
