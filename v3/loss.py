"""The V3 (variance-versus-invariance) loss, vectorised.

Implements ``shared/V3_METHOD.md`` exactly: four statistics of the content and
style vectors of a batch [B samples, F fragments], four hinge terms on their
ratios, plus reconstruction and commitment. Fragments can be masked out
(e.g. rests) so they take no part in any statistic or in the reconstruction.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .config import LossConfig
from .errors import TrainingError

__all__ = [
    "V3LossBreakdown",
    "V3Statistics",
    "across_sample_distance",
    "hinge",
    "mean_pairwise_distance",
    "v3_loss",
    "v3_statistics",
    "within_sample_distance",
]


def mean_pairwise_distance(x: Tensor, weights: Tensor | None = None) -> Tensor:
    """Mean Euclidean distance over ordered pairs i != j of the rows of ``x``.

    Parameters
    ----------
    x : Tensor[..., N, D]
        Rows to compare; leading dimensions are batched.
    weights : Tensor[..., N] (bool or float), optional
        Row validity; a pair counts with weight ``w_i * w_j``.

    Returns
    -------
    Tensor[...]
        The mean distance (0 where fewer than two rows are valid).

    Examples
    --------
    >>> mean_pairwise_distance(torch.tensor([[0.0, 0.0], [3.0, 4.0]]))
    tensor(5.)
    """
    n = x.shape[-2]
    dist = torch.cdist(x.float(), x.float())
    off_diagonal = 1.0 - torch.eye(n, device=x.device, dtype=dist.dtype)
    if weights is None:
        pair_weight = off_diagonal.expand_as(dist)
    else:
        w = weights.to(dist.dtype)
        pair_weight = w[..., :, None] * w[..., None, :] * off_diagonal
    total = (dist * pair_weight).sum(dim=(-2, -1))
    return total / pair_weight.sum(dim=(-2, -1)).clamp(min=1e-12)


def within_sample_distance(z: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean over samples of the mean pairwise distance between a sample's fragments.

    Parameters
    ----------
    z : Tensor[B, F, D]
    mask : Tensor[B, F] (bool), optional
        Valid fragments; samples with fewer than two are left out of the mean.

    Returns
    -------
    Tensor[] (scalar)
    """
    per_sample = mean_pairwise_distance(z, mask)
    if mask is None:
        return per_sample.mean()
    usable = (mask.sum(dim=1) >= 2).to(per_sample.dtype)
    return (per_sample * usable).sum() / usable.sum().clamp(min=1.0)


def across_sample_distance(z: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean pairwise distance between the samples' mean vectors.

    Parameters
    ----------
    z : Tensor[B, F, D]
    mask : Tensor[B, F] (bool), optional
        Valid fragments; a sample's mean is over its valid fragments, and
        samples with none are left out.

    Returns
    -------
    Tensor[] (scalar)
    """
    if mask is None:
        return mean_pairwise_distance(z.float().mean(dim=1))
    w = mask.to(torch.float32)
    count = w.sum(dim=1)
    means = (z.float() * w[..., None]).sum(dim=1) / count.clamp(min=1.0)[:, None]
    return mean_pairwise_distance(means, count > 0)


@dataclass(frozen=True)
class V3Statistics:
    """The four V3 statistics of a batch (scalars).

    ``content_*`` are averages of the value on z_c and on its quantised q.
    """

    content_fragment: Tensor
    content_sample: Tensor
    style_fragment: Tensor
    style_sample: Tensor


def v3_statistics(z_content: Tensor, quantized: Tensor, z_style: Tensor, mask: Tensor | None = None) -> V3Statistics:
    """Compute Vc_frag, Vc_samp, Vs_frag, Vs_samp of V3_METHOD.md.

    Parameters
    ----------
    z_content, quantized : Tensor[B, F, Dc]
        Content vectors and their quantised versions.
    z_style : Tensor[B, F, Ds]
        Style vectors.
    mask : Tensor[B, F] (bool), optional
        Fragments that take part.
    """
    return V3Statistics(
        content_fragment=0.5 * (within_sample_distance(z_content, mask) + within_sample_distance(quantized, mask)),
        content_sample=0.5 * (across_sample_distance(z_content, mask) + across_sample_distance(quantized, mask)),
        style_fragment=within_sample_distance(z_style, mask),
        style_sample=across_sample_distance(z_style, mask),
    )


def hinge(ratio: Tensor, relativity: float) -> Tensor:
    """h(a) = relu(r - a) / r: zero once ``ratio`` reaches the relativity r.

    Examples
    --------
    >>> hinge(torch.tensor(5.0), 15.0)
    tensor(0.6667)
    """
    return torch.relu(relativity - ratio) / relativity


def balance_term(z_content: Tensor, codebook: Tensor, *, temperature: float, mask: Tensor | None = None) -> Tensor:
    """How unevenly each sample spreads its fragments over the atoms (0 = one each, for F = K).

    Each fragment's soft assignment is a softmax over atoms of minus its
    squared distance to them, divided by ``temperature`` times the batch's
    mean squared distance to the nearest atom. Summed over a sample's valid
    fragments this is the sample's soft atom count; the term is the mean
    squared difference between these counts and an even share (valid
    fragments / K).

    Parameters
    ----------
    z_content : Tensor[B, F, Dc]
    codebook : Tensor[K, Dc]
        The atoms (no gradient flows into them).
    temperature : float
    mask : Tensor[B, F] (bool), optional
        Fragments that count.

    Returns
    -------
    Tensor[]

    Examples
    --------
    Two atoms; a sample whose two fragments sit on different atoms is
    balanced, one whose fragments sit on the same atom is not:

    >>> import torch
    >>> atoms = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    >>> spread = torch.tensor([[[0.0, 0.0], [1.0, 0.0]]])
    >>> same = torch.tensor([[[0.0, 0.0], [0.0, 0.01]]])
    >>> round(float(balance_term(spread, atoms, temperature=0.3)), 3), round(float(balance_term(same, atoms, temperature=0.3)), 3)
    (0.0, 1.0)
    """
    b, f, d = z_content.shape
    atoms = codebook.detach().to(z_content.dtype)
    squared = torch.cdist(z_content.reshape(b * f, d), atoms).pow(2)  # [B*F, K]
    valid = torch.ones(b, f, dtype=torch.bool, device=z_content.device) if mask is None else mask
    nearest = squared.min(dim=1).values.reshape(b, f)
    scale = (nearest * valid).sum().detach() / valid.sum().clamp(min=1) + 1e-12
    weights = torch.softmax(-squared / (temperature * scale), dim=1).reshape(b, f, -1)
    counts = (weights * valid[..., None]).sum(dim=1)  # [B, K]
    share = valid.sum(dim=1, keepdim=True).to(counts.dtype) / atoms.shape[0]
    return (counts - share).pow(2).mean()


@dataclass(frozen=True)
class V3LossBreakdown:
    """Every component of the training loss (0-d tensors; ``total`` has a graph).

    ``content``, ``style``, ``sample`` and ``fragment`` are the four V3 hinge
    terms (before ``v3_weight``); ``reconstruction`` is the MSE and
    ``commitment`` the VQ commitment term (before their weights);
    ``balance`` the optional balance term (:func:`balance_term`; None when off).
    """

    total: Tensor
    reconstruction: Tensor
    commitment: Tensor
    content: Tensor
    style: Tensor
    sample: Tensor
    fragment: Tensor
    statistics: V3Statistics
    balance: Tensor | None = None

    def as_floats(self) -> dict[str, float]:
        """All components and statistics as plain floats (for logs)."""
        s = self.statistics
        values = {
            "total": self.total,
            "reconstruction": self.reconstruction,
            "commitment": self.commitment,
            "content": self.content,
            "style": self.style,
            "sample": self.sample,
            "fragment": self.fragment,
            **({"balance": self.balance} if self.balance is not None else {}),
            "Vc_frag": s.content_fragment,
            "Vc_samp": s.content_sample,
            "Vs_frag": s.style_fragment,
            "Vs_samp": s.style_sample,
        }
        return {name: float(value.detach()) for name, value in values.items()}


def v3_loss(
    x: Tensor,
    x_hat: Tensor,
    z_content: Tensor,
    quantized: Tensor,
    z_style: Tensor,
    commitment: Tensor,
    config: LossConfig,
    *,
    mask: Tensor | None = None,
    codebook: Tensor | None = None,
) -> V3LossBreakdown:
    """Total training loss = MSE + four V3 terms + commitment (+ balance), with its breakdown.

    Parameters
    ----------
    x, x_hat : Tensor[B, F, *fragment_shape]
        Input fragments and their reconstruction.
    z_content, quantized : Tensor[B, F, Dc]
    z_style : Tensor[B, F, Ds]
    commitment : Tensor[]
        The quantiser's commitment loss.
    config : LossConfig
        Relativities and weights.
    mask : Tensor[B, F] (bool), optional
        Fragments that count (all when omitted).
    codebook : Tensor[K, Dc], optional
        The atoms; needed when ``config.balance_weight`` > 0.

    Returns
    -------
    V3LossBreakdown

    Raises
    ------
    TrainingError
        If the total is NaN or Inf.

    Examples
    --------
    Two samples of two fragments. Where content varies within each sample
    (same set in both) and style only across samples, the four V3 terms are
    0 and the total is the reconstruction MSE; with the roles swapped each
    term is h(0) = 1:

    >>> import torch
    >>> from v3.config import LossConfig
    >>> x = torch.zeros(2, 2, 3)  # [B, F, 3]
    >>> within = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]] * 2)  # [B, F, 2]: differs within a sample
    >>> across = torch.tensor([[[0.0, 0.0]] * 2, [[3.0, 4.0]] * 2])  # [B, F, 2]: differs across samples
    >>> no_commitment = torch.tensor(0.0)
    >>> good = v3_loss(x, x + 0.5, within, within, across, no_commitment, LossConfig())
    >>> [float(t) for t in (good.content, good.style, good.sample, good.fragment)], float(good.total)
    ([0.0, 0.0, 0.0, 0.0], 0.25)
    >>> bad = v3_loss(x, x + 0.5, across, across, within, no_commitment, LossConfig())
    >>> [float(t) for t in (bad.content, bad.style, bad.sample, bad.fragment)], float(bad.total)
    ([1.0, 1.0, 1.0, 1.0], 4.25)
    """
    eps = config.epsilon
    stats = v3_statistics(z_content, quantized, z_style, mask)
    content = hinge(stats.content_fragment / (stats.content_sample + eps), config.relativity_content)
    style = hinge(stats.style_sample / (stats.style_fragment + eps), config.relativity_style)
    sample = hinge(stats.style_sample / (stats.content_sample + eps), config.relativity_sample)
    fragment = hinge(stats.content_fragment / (stats.style_fragment + eps), config.relativity_fragment)

    squared = (x_hat.float() - x.float()).pow(2).flatten(2).mean(dim=2)  # [B, F]
    if mask is None:
        reconstruction = squared.mean()
    else:
        w = mask.to(squared.dtype)
        reconstruction = (squared * w).sum() / w.sum().clamp(min=1.0)

    total = (
        config.reconstruction_weight * reconstruction
        + config.v3_weight * (content + style + sample + fragment)
        + config.commitment_weight * commitment.float()
    )
    balance = None
    if config.balance_weight > 0:
        if codebook is None:
            raise ValueError("balance_weight > 0 needs the codebook")
        balance = balance_term(z_content, codebook, temperature=config.balance_temperature, mask=mask)
        total = total + config.balance_weight * balance
    if not bool(torch.isfinite(total)):
        raise TrainingError(
            f"loss is not finite (total={float(total)}, reconstruction={float(reconstruction)}, "
            f"commitment={float(commitment)}); lower the learning rate or check the input for NaN"
        )
    return V3LossBreakdown(
        total=total,
        reconstruction=reconstruction,
        commitment=commitment.float(),
        content=content,
        style=style,
        sample=sample,
        fragment=fragment,
        statistics=stats,
        balance=balance,
    )
