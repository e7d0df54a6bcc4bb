"""Batch encoding of a whole data set and naming of codebook atoms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .metrics import confusion_matrix, majority_mapping
from .model import ContentStyleAutoencoder

__all__ = ["EncodedFragments", "encode_fragments", "name_atoms"]


@dataclass
class EncodedFragments:
    """Per-fragment encodings of a data set (numpy, on the CPU).

    Attributes
    ----------
    content : ndarray[N, Dc]
    codes : ndarray[N] (int64)
    style : ndarray[N, Ds]
    """

    content: np.ndarray
    codes: np.ndarray
    style: np.ndarray


@torch.no_grad()
def encode_fragments(
    model: ContentStyleAutoencoder,
    fragments: torch.Tensor,
    *,
    batch_size: int = 1024,
    device: torch.device | str | None = None,
) -> EncodedFragments:
    """Encode fragments [N, *fragment_shape] one by one (as samples of one fragment).

    Encoding is per fragment, so it does not depend on how fragments are
    grouped into samples. The model is put in eval mode (the codebook is not
    updated).
    """
    model.eval()
    device = device or next(model.parameters()).device
    content, codes, style = [], [], []
    for start in range(0, fragments.shape[0], batch_size):
        chunk = fragments[start : start + batch_size].to(device)[:, None]
        enc = model.encode(chunk)
        content.append(enc.content[:, 0].float().cpu())
        codes.append(enc.codes[:, 0].cpu())
        style.append(enc.style[:, 0].float().cpu())
    return EncodedFragments(
        content=torch.cat(content).numpy(),
        codes=torch.cat(codes).numpy().astype(np.int64),
        style=torch.cat(style).numpy(),
    )


def name_atoms(codes: np.ndarray, labels: np.ndarray, codebook_size: int) -> list[int]:
    """Name each atom by the majority label of the fragments it codes (-1: unused).

    This is the only place labels meet the model: a small calibration set
    names the atoms after training; it never trains the encoder.

    Examples
    --------
    >>> name_atoms(np.array([0, 0, 1, 2]), np.array([60, 60, 62, 61]), 4)
    [60, 62, 61, -1]
    """
    known = labels >= 0
    if not known.any():
        return [-1] * codebook_size
    ids = np.unique(labels[known])
    index = np.searchsorted(ids, labels[known])
    confusion = confusion_matrix(codes[known], index, n_codes=codebook_size, n_labels=len(ids))
    mapping = majority_mapping(confusion)
    return [int(ids[m]) if m >= 0 else -1 for m in mapping]
