"""Vector quantiser invariants."""

from __future__ import annotations

import torch

from v3.config import QuantizerConfig
from v3.quantizer import VectorQuantizer, kmeans


def _vq(k: int = 4, dim: int = 3, **kw: float) -> VectorQuantizer:
    vq = VectorQuantizer(dim, QuantizerConfig(codebook_size=k, **kw))  # type: ignore[arg-type]
    vq.generator = torch.Generator().manual_seed(0)
    return vq


def test_output_equals_codebook_rows_of_its_indices() -> None:
    vq = _vq()
    z = torch.randn(50, 3, generator=torch.Generator().manual_seed(1))
    out = vq(z)  # training mode: k-means init + EMA update
    assert torch.allclose(out.quantized, vq.codebook[out.codes], atol=1e-6)
    vq.eval()
    out = vq(z)
    assert torch.allclose(out.quantized, vq.codebook[out.codes], atol=1e-6)
    # codes are the nearest atoms
    assert torch.equal(out.codes, torch.cdist(z, vq.codebook).argmin(dim=1))


def test_straight_through_gradient_is_identity() -> None:
    vq = _vq()
    vq.eval()
    z = torch.randn(10, 3, requires_grad=True)
    vq(z).quantized.sum().backward()
    assert torch.allclose(z.grad, torch.ones_like(z))


def test_kmeans_initialisation_finds_clusters() -> None:
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]])
    z = torch.cat([c + 0.1 * torch.randn(25, 3, generator=g) for c in centres])
    vq = _vq()
    vq(z)
    assert bool(vq.initialised)
    found = torch.cdist(centres, vq.codebook).min(dim=1).values
    assert float(found.max()) < 0.5
    # each cluster gets its own atom
    assert len(set(vq.nearest(z).tolist())) == 4


def test_dead_codes_are_reseeded_into_the_batch() -> None:
    vq = _vq(k=4, dead_code_threshold=1.0)
    g = torch.Generator().manual_seed(0)
    vq(torch.randn(40, 3, generator=g))
    # Move two atoms far away: they will get no assignments.
    with torch.no_grad():
        vq.codebook[2] = 1000.0
        vq.codebook[3] = -1000.0
    vq.window_usage.zero_()
    batch = torch.randn(40, 3, generator=g)
    vq(batch)
    assert vq.window_usage[2] == 0 and vq.window_usage[3] == 0
    assert vq.reseed_dead(batch) == 2
    # every atom now codes part of the batch, and the window count restarts
    assert set(vq.nearest(batch).tolist()) == {0, 1, 2, 3}
    assert float(vq.window_usage.sum()) == 0.0


def test_underused_atom_splits_a_merged_cluster() -> None:
    """One atom covering two clusters, another covering a sliver: re-seeding fixes it."""
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    batch = torch.cat([c + 0.3 * torch.randn(30, 2, generator=g) for c in centres])
    vq = _vq(k=3, dim=2, dead_code_threshold=0.0, underuse_fraction=0.5)
    vq.initialised.fill_(True)
    vq.eval()
    with torch.no_grad():
        vq.codebook.copy_(torch.tensor([[0.0, 0.0], [5.0, 5.0], [-1.5, -1.5]]))  # atom 1 merges two clusters
    vq.window_usage.copy_(torch.bincount(vq.nearest(batch), minlength=3).float())
    assert vq.reseed_dead(batch) >= 1
    codes = vq.nearest(batch)
    # each true cluster now maps to a single atom of its own
    per_cluster = [set(codes[i * 30 : (i + 1) * 30].tolist()) for i in range(3)]
    assert all(len(c) == 1 for c in per_cluster)
    assert len(set.union(*per_cluster)) == 3


def test_ema_moves_atom_towards_assigned_vectors() -> None:
    vq = _vq(k=1, dim=2, decay=0.5)
    vq(torch.zeros(8, 2))  # init at 0
    vq(torch.ones(8, 2))  # EMA: halfway-ish towards 1
    assert 0.3 < float(vq.codebook[0, 0]) < 0.7


def test_usage_perplexity_counts_used_atoms() -> None:
    vq = _vq(k=4)
    vq.total_usage.copy_(torch.tensor([10.0, 10.0, 0.0, 0.0]))
    assert abs(vq.usage_perplexity() - 2.0) < 1e-5


def test_kmeans_reseeds_empty_clusters() -> None:
    z = torch.tensor([[0.0], [0.1], [10.0], [10.1]])
    init = torch.tensor([[0.0], [100.0]])  # second centre starts empty
    c = kmeans(z, 2, init=init, generator=torch.Generator().manual_seed(0))
    assert sorted(round(float(v)) for v in c[:, 0]) == [0, 10]
