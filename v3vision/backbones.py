"""Encoder and decoder backbones for RGB digit cells [N, 3, H, W] (white background)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["CellDecoder", "CellEncoder", "PaintDecoder", "deskew_cells", "ink_shape_and_colour"]


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


def deskew_cells(x: Tensor, *, eps: float = 1e-6) -> Tensor:
    """Centre and deslant every cell by the moments of its ink (a fixed, label-free normalisation).

    The classic handwriting normalisation: the ink's centre of mass is moved
    to the cell centre and the slant (shear of columns along rows, from the
    second moments) is removed, so the same digit written shifted or slanted
    gives about the same picture. Colour is kept (all channels are warped
    alike; paper outside the cell is white).

    Parameters
    ----------
    x : Tensor[N, 3, H, W]
        Pixels in [0, 1] on a white background.

    Returns
    -------
    Tensor[N, 3, H, W]

    Examples
    --------
    >>> x = torch.ones(1, 3, 16, 16); x[:, :, 2:6, 2:6] = 0.0
    >>> y = deskew_cells(x)
    >>> ink = (1 - y).mean(dim=1)[0]
    >>> bool(ink[6:10, 6:10].mean() > 0.9)  # the square moved to the centre
    True
    """
    n, _, h, w = x.shape
    ink = (1.0 - x).clamp(min=0.0).mean(dim=1)  # [N, H, W]
    total = ink.sum(dim=(1, 2)).clamp(min=eps)
    ys = torch.arange(h, dtype=x.dtype, device=x.device) - (h - 1) / 2
    xs = torch.arange(w, dtype=x.dtype, device=x.device) - (w - 1) / 2
    cy = (ink.sum(dim=2) * ys).sum(dim=1) / total
    cx = (ink.sum(dim=1) * xs).sum(dim=1) / total
    dy = ys[None, :, None] - cy[:, None, None]
    dx = xs[None, None, :] - cx[:, None, None]
    vy = (ink * dy**2).sum(dim=(1, 2)) / total
    cxy = (ink * dy * dx).sum(dim=(1, 2)) / total
    shear = cxy / vy.clamp(min=eps)
    empty = total <= 10 * eps
    shear = torch.where(empty, torch.zeros_like(shear), shear)
    # affine_grid maps output coordinates (x, y) in [-1, 1] to input coordinates
    theta = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = 1.0
    theta[:, 0, 1] = shear * h / w
    theta[:, 0, 2] = 2 * cx / w
    theta[:, 1, 1] = 1.0
    theta[:, 1, 2] = 2 * cy / h
    grid = torch.nn.functional.affine_grid(theta, [n, 3, h, w], align_corners=False)
    warped = torch.nn.functional.grid_sample(1.0 - x, grid, mode="bilinear", padding_mode="zeros",
                                             align_corners=False)
    return 1.0 - warped


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
    deskew : bool
        Centre and deslant each cell first (:func:`deskew_cells`).

    Examples
    --------
    >>> CellEncoder(24, channels=8, hidden=16)(torch.rand(5, 3, 24, 24)).shape
    torch.Size([5, 48])
    """

    def __init__(self, cell_size: int, *, channels: int = 32, hidden: int = 128, colour_hidden: int = 32,
                 colour_input: bool = False, deskew: bool = False) -> None:
        super().__init__()
        self.colour_input = colour_input
        self.deskew = deskew
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
        if self.deskew:
            x = deskew_cells(x)
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

    With ``latent_norm`` the content and the style are standardised per
    dimension (batch normalisation, running statistics at inference) before
    their networks. Without it the V3 terms, which only fix ratios of
    distances, let weight decay shrink both to a standard deviation of ~0.02:
    the decoder then cannot tell the atoms apart (every cell decodes to the
    same blurred glyph) nor the colours (every colour decodes to about the
    same grey), and reconstruction stops shaping the codebook.

    Examples
    --------
    >>> PaintDecoder(16, 8, 24, channels=8)(torch.zeros(2, 24)).shape
    torch.Size([2, 3, 24, 24])
    """

    def __init__(self, content_dim: int, style_dim: int, cell_size: int, *, channels: int = 32,
                 hidden: int = 128, colour_hidden: int = 32, latent_norm: bool = False) -> None:
        super().__init__()
        c = channels
        self.content_dim = content_dim
        self.side = cell_size // 4
        self.c = 2 * c
        content_norm: list[nn.Module] = [nn.BatchNorm1d(content_dim)] if latent_norm else []
        self.fc = nn.Sequential(*content_norm, nn.Linear(content_dim, hidden), nn.GELU(),
                                nn.Linear(hidden, 2 * c * self.side * self.side), nn.GELU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * c, 2 * c, 4, stride=2, padding=1), nn.GELU(),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(c, 1, 3, padding=1), nn.Sigmoid(),
        )
        style_norm: list[nn.Module] = [nn.BatchNorm1d(style_dim)] if latent_norm else []
        self.colour = nn.Sequential(*style_norm, nn.Linear(style_dim, colour_hidden), nn.GELU(),
                                    nn.Linear(colour_hidden, 3), nn.Sigmoid())

    def glyph(self, content: Tensor) -> Tensor:
        """Ink map alpha [N, 1, H, W] in [0, 1] of content vectors [N, Dc]."""
        return self.net(self.fc(content).reshape(-1, self.c, self.side, self.side))

    def ink(self, style: Tensor) -> Tensor:
        """Ink amount k [N, 3] in [0, 1] per channel (the ink colour is ``1 - k``) of style vectors [N, Ds]."""
        return self.colour(style)

    def forward(self, z: Tensor) -> Tensor:
        content, style = z[:, : self.content_dim], z[:, self.content_dim :]
        return 1.0 - self.glyph(content) * self.ink(style)[:, :, None, None]
