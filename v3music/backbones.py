"""Encoder and decoder backbones for log-CQT fragments."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["MLPEncoder", "MLPDecoder"]


class MLPEncoder(nn.Module):
    """Flatten a fragment [N, n_bins, frames] and map it to features [N, hidden].

    Parameters
    ----------
    fragment_shape : tuple of int
        (n_bins, frames).
    hidden : int
        Width of the two hidden layers (= ``out_features``).

    Examples
    --------
    >>> MLPEncoder((144, 16), hidden=32)(torch.zeros(3, 144, 16)).shape
    torch.Size([3, 32])
    """

    def __init__(self, fragment_shape: tuple[int, ...], *, hidden: int) -> None:
        super().__init__()
        size = 1
        for s in fragment_shape:
            size *= int(s)
        self.out_features = hidden
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(size, hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.GELU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class MLPDecoder(nn.Module):
    """Map joint content+style vectors [N, Dc + Ds] back to fragments [N, *fragment_shape]."""

    def __init__(self, in_features: int, fragment_shape: tuple[int, ...], *, hidden: int) -> None:
        super().__init__()
        size = 1
        for s in fragment_shape:
            size *= int(s)
        self.fragment_shape = tuple(int(s) for s in fragment_shape)
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Linear(hidden, size),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).reshape(-1, *self.fragment_shape)
