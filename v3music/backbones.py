"""Encoder and decoder backbones for log-CQT fragments."""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["MLPDecoder", "MLPEncoder"]


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
    >>> import torch
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


class ConvEncoder(nn.Module):
    """Convolutions along the log-frequency axis, then an MLP.

    A pitch change is a shift along the CQT's frequency axis, so shared
    filters over frequency (time frames as input channels) see a new
    instrument's harmonics the way they saw the training ones.

    Parameters
    ----------
    fragment_shape : tuple of int
        (n_bins, frames).
    hidden : int
        Output width (= ``out_features``).
    channels : int
        Feature maps of each convolution.
    kernel : int
        Kernel length in taps; with ``dilation`` 2 a 13-tap kernel spans 25
        CQT bins (one octave at 24 bins per octave).
    dilation : int
        Spacing of the taps, in bins.

    Examples
    --------
    >>> import torch
    >>> ConvEncoder((144, 16), hidden=32)(torch.zeros(3, 144, 16)).shape
    torch.Size([3, 32])
    """

    def __init__(self, fragment_shape: tuple[int, ...], *, hidden: int, channels: int = 8, kernel: int = 13,
                 dilation: int = 2) -> None:
        super().__init__()
        n_bins, frames = (int(s) for s in fragment_shape)
        self.out_features = hidden
        self.conv = nn.Sequential(
            nn.Conv1d(frames, channels, kernel, padding=dilation * (kernel // 2), dilation=dilation),
            nn.GELU(),
            nn.Conv1d(channels, channels, kernel, padding=dilation * (kernel // 2), dilation=dilation),
            nn.GELU(),
        )
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(channels * n_bins, hidden), nn.GELU(),
                                 nn.Linear(hidden, hidden), nn.GELU())

    def forward(self, x: Tensor) -> Tensor:
        # [N, n_bins, frames] -> channels = frames, length = n_bins
        return self.mlp(self.conv(x.transpose(1, 2)))
