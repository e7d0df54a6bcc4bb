"""The content-style autoencoder shell around adapter-supplied backbones."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .config import ModelConfig
from .errors import InputError
from .quantizer import VectorQuantizer

__all__ = ["AutoencoderOutput", "ContentStyleAutoencoder", "Encoding"]


@dataclass
class Encoding:
    """Content and style of a batch of fragments.

    Attributes
    ----------
    content : Tensor[B, F, Dc]
        Continuous content vectors z_c.
    quantized : Tensor[B, F, Dc]
        Straight-through quantised content q.
    codes : Tensor[B, F] (int64)
        Atom index of each fragment.
    style : Tensor[B, F, Ds]
        Style vectors z_s.
    commitment : Tensor[]
        Commitment loss of the quantiser.
    """

    content: Tensor
    quantized: Tensor
    codes: Tensor
    style: Tensor
    commitment: Tensor


@dataclass
class AutoencoderOutput(Encoding):
    """An :class:`Encoding` plus the reconstruction ``x_hat`` [B, F, *fragment_shape]."""

    reconstruction: Tensor


class ContentStyleAutoencoder(nn.Module):
    """Encoder -> (content, style) -> quantised content -> decoder.

    Parameters
    ----------
    encoder : nn.Module
        Maps fragments [N, *fragment_shape] to features [N, H]; must have an
        integer attribute ``out_features`` (= H).
    decoder : nn.Module
        Maps [N, Dc + Ds] to fragments [N, *fragment_shape].
    fragment_shape : tuple of int
        Shape of one fragment, e.g. (n_bins, n_frames) or (3, 24, 24).
    config : ModelConfig
        Content/style sizes and codebook settings.

    Examples
    --------
    >>> enc = nn.Sequential(nn.Flatten(), nn.Linear(6, 8)); enc.out_features = 8
    >>> dec = nn.Sequential(nn.Linear(8, 6), nn.Unflatten(1, (2, 3)))
    >>> model = ContentStyleAutoencoder(enc, dec, (2, 3), ModelConfig(content_dim=4, style_dim=4))
    >>> out = model(torch.randn(5, 12, 2, 3))
    >>> out.codes.shape, out.reconstruction.shape
    (torch.Size([5, 12]), torch.Size([5, 12, 2, 3]))
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        fragment_shape: tuple[int, ...],
        config: ModelConfig,
    ) -> None:
        super().__init__()
        hidden = int(encoder.out_features)  # type: ignore[arg-type]
        self.encoder = encoder
        self.decoder = decoder
        self.fragment_shape = tuple(int(s) for s in fragment_shape)
        self.config = config
        self.content_head = nn.Linear(hidden, config.content_dim)
        self.style_head = nn.Linear(hidden, config.style_dim)
        self.quantizer = VectorQuantizer(config.content_dim, config.quantizer)

    def _check(self, x: Tensor) -> None:
        if x.ndim != 2 + len(self.fragment_shape) or tuple(x.shape[2:]) != self.fragment_shape:
            raise InputError(
                f"fragments of shape {tuple(x.shape)} do not fit the model, "
                f"which expects [B, F, {', '.join(map(str, self.fragment_shape))}]"
            )

    def encode(self, x: Tensor) -> Encoding:
        """Encode fragments ``x`` [B, F, *fragment_shape] (see :class:`Encoding`).

        Raises
        ------
        InputError
            ``x`` is not [B, F, *fragment_shape].

        Examples
        --------
        >>> model = ContentStyleAutoencoder(nn.Linear(6, 8), nn.Linear(4 + 3, 6), (6,),
        ...                                 ModelConfig(content_dim=4, style_dim=3)).eval()
        >>> enc = model.encode(torch.randn(5, 12, 6))  # 5 samples of 12 fragments
        >>> enc.content.shape, enc.codes.shape, enc.style.shape
        (torch.Size([5, 12, 4]), torch.Size([5, 12]), torch.Size([5, 12, 3]))
        """
        self._check(x)
        b, f = x.shape[:2]
        features = self.encoder(x.reshape(b * f, *self.fragment_shape))
        content = self.content_head(features)
        style = self.style_head(features)
        vq = self.quantizer(content)
        return Encoding(
            content=content.reshape(b, f, -1),
            quantized=vq.quantized.reshape(b, f, -1),
            codes=vq.codes.reshape(b, f),
            style=style.reshape(b, f, -1),
            commitment=vq.commitment,
        )

    def decode(self, quantized: Tensor, style: Tensor) -> Tensor:
        """Decode content ``quantized`` [B, F, Dc] and ``style`` [B, F, Ds] to fragments.

        Returns
        -------
        Tensor[B, F, *fragment_shape]

        Examples
        --------
        >>> model = ContentStyleAutoencoder(nn.Linear(6, 8), nn.Linear(4 + 3, 6), (6,),
        ...                                 ModelConfig(content_dim=4, style_dim=3)).eval()
        >>> enc = model.encode(torch.randn(5, 12, 6))
        >>> swapped = model.decode(enc.quantized, enc.style.flip(0))  # content of each, style of another
        >>> swapped.shape
        torch.Size([5, 12, 6])
        """
        b, f = quantized.shape[:2]
        joint = torch.cat([quantized, style.to(quantized.dtype)], dim=-1).reshape(b * f, -1)
        return self.decoder(joint).reshape(b, f, *self.fragment_shape)

    def forward(self, x: Tensor) -> AutoencoderOutput:
        """Encode and reconstruct ``x`` [B, F, *fragment_shape].

        Returns
        -------
        AutoencoderOutput
            The :class:`Encoding` of ``x`` plus ``reconstruction`` [B, F, *fragment_shape].

        Examples
        --------
        >>> model = ContentStyleAutoencoder(nn.Linear(6, 8), nn.Linear(4 + 3, 6), (6,),
        ...                                 ModelConfig(content_dim=4, style_dim=3)).eval()
        >>> out = model(torch.randn(5, 12, 6))
        >>> out.reconstruction.shape, out.commitment.shape
        (torch.Size([5, 12, 6]), torch.Size([]))
        """
        enc = self.encode(x)
        x_hat = self.decode(enc.quantized, enc.style)
        return AutoencoderOutput(
            content=enc.content,
            quantized=enc.quantized,
            codes=enc.codes,
            style=enc.style,
            commitment=enc.commitment,
            reconstruction=x_hat,
        )
