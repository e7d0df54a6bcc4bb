"""The V3 loss against values worked out by hand."""

from __future__ import annotations

import pytest
import torch

from v3.config import LossConfig
from v3.errors import TrainingError
from v3.loss import balance_term, hinge, mean_pairwise_distance, v3_loss, v3_statistics

# B = 2 samples x F = 3 fragments, 1-D vectors.
Z_CONTENT = torch.tensor([[[0.0], [1.0], [2.0]], [[1.0], [2.0], [3.0]]])
Z_STYLE = torch.tensor([[[0.0], [0.0], [1.0]], [[5.0], [5.0], [5.0]]])


def test_mean_pairwise_distance_over_ordered_pairs() -> None:
    # pairs (0,1)=1, (0,2)=2, (1,2)=1 -> mean 4/3
    assert mean_pairwise_distance(torch.tensor([[0.0], [1.0], [2.0]])).item() == pytest.approx(4 / 3)
    assert mean_pairwise_distance(torch.tensor([[0.0, 0.0], [3.0, 4.0]])).item() == pytest.approx(5.0)


def test_statistics_by_hand() -> None:
    s = v3_statistics(Z_CONTENT, Z_CONTENT, Z_STYLE)
    assert s.content_fragment.item() == pytest.approx(4 / 3)  # both samples 4/3
    assert s.content_sample.item() == pytest.approx(1.0)  # means 1 and 2
    assert s.style_fragment.item() == pytest.approx(1 / 3)  # 2/3 and 0
    assert s.style_sample.item() == pytest.approx(14 / 3)  # means 1/3 and 5


def test_content_statistics_average_z_and_q() -> None:
    q = torch.zeros_like(Z_CONTENT)
    s = v3_statistics(Z_CONTENT, q, Z_STYLE)
    assert s.content_fragment.item() == pytest.approx(2 / 3)
    assert s.content_sample.item() == pytest.approx(0.5)


def test_loss_by_hand() -> None:
    x = torch.randn(2, 3, 5)
    out = v3_loss(x, x.clone(), Z_CONTENT, Z_CONTENT, Z_STYLE, torch.tensor(0.0), LossConfig())
    # content 4/3 -> 41/45; style 14 -> 1/15; sample 14/3 -> 31/45; fragment 4 -> 11/15
    assert out.content.item() == pytest.approx(41 / 45, abs=1e-6)
    assert out.style.item() == pytest.approx(1 / 15, abs=1e-6)
    assert out.sample.item() == pytest.approx(31 / 45, abs=1e-6)
    assert out.fragment.item() == pytest.approx(11 / 15, abs=1e-6)
    assert out.total.item() == pytest.approx(2.4, abs=1e-5)
    floats = out.as_floats()
    assert set(floats) >= {"total", "reconstruction", "commitment", "content", "style", "sample", "fragment", "Vc_frag"}


def test_loss_weights_reconstruction_and_commitment() -> None:
    x = torch.zeros(2, 3, 4)
    x_hat = torch.ones(2, 3, 4)  # MSE 1
    out = v3_loss(x, x_hat, Z_CONTENT, Z_CONTENT, Z_STYLE, torch.tensor(2.0), LossConfig())
    assert out.reconstruction.item() == pytest.approx(1.0)
    assert out.total.item() == pytest.approx(2.4 + 1.0 + 0.1 * 2.0, abs=1e-5)


def test_mask_removes_fragments_from_every_statistic() -> None:
    mask = torch.tensor([[True, True, False], [True, True, True]])
    s = v3_statistics(Z_CONTENT, Z_CONTENT, Z_STYLE, mask)
    # sample 0 keeps [0, 1] (mpd 1), sample 1 keeps all (4/3)
    assert s.content_fragment.item() == pytest.approx((1 + 4 / 3) / 2)
    # means 0.5 and 2
    assert s.content_sample.item() == pytest.approx(1.5)
    # style sample 0 keeps [0, 0]: 0; sample 1: 0
    assert s.style_fragment.item() == pytest.approx(0.0)
    x = torch.zeros(2, 3, 2)
    x_hat = torch.zeros(2, 3, 2)
    x_hat[0, 2] = 100.0  # masked out: no reconstruction error counted
    out = v3_loss(x, x_hat, Z_CONTENT, Z_CONTENT, Z_STYLE, torch.tensor(0.0), LossConfig(), mask=mask)
    assert out.reconstruction.item() == 0.0


def test_hinge_is_zero_past_relativity() -> None:
    assert hinge(torch.tensor(20.0), 15.0).item() == 0.0
    assert hinge(torch.tensor(0.0), 15.0).item() == pytest.approx(1.0)


def test_nan_raises() -> None:
    x = torch.zeros(2, 3, 1)
    bad = x.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(TrainingError, match="not finite"):
        v3_loss(x, bad, Z_CONTENT, Z_CONTENT, Z_STYLE, torch.tensor(0.0), LossConfig())


def test_gradients_flow_to_both_branches() -> None:
    zc = Z_CONTENT.clone().requires_grad_(True)
    zs = Z_STYLE.clone().requires_grad_(True)
    x = torch.zeros(2, 3, 1)
    v3_loss(x, x, zc, zc, zs, torch.tensor(0.0), LossConfig()).total.backward()
    assert zc.grad is not None and zc.grad.abs().sum() > 0
    assert zs.grad is not None and zs.grad.abs().sum() > 0


ATOMS = torch.tensor([[0.0], [1.0], [2.0]])  # K = 3 atoms in 1-D


def test_balance_term_is_zero_for_one_fragment_per_atom_and_grows_with_sharing() -> None:
    # sample 0 sits on the three atoms, sample 1 puts all three fragments on atom 0 (hard limit: counts 3, 0, 0)
    spread = balance_term(Z_CONTENT[:1], ATOMS, temperature=1e-3)
    crowded = balance_term(torch.tensor([[[0.0], [0.01], [-0.01]]]), ATOMS, temperature=1e-3)
    assert spread.item() == pytest.approx(0.0, abs=1e-6)
    assert crowded.item() == pytest.approx(((3 - 1) ** 2 + 1 + 1) / 3, abs=1e-3)


def test_balance_term_counts_valid_fragments_only() -> None:
    z = torch.tensor([[[0.0], [1.0], [1.0]]])  # the third repeats atom 1, but is masked out
    mask = torch.tensor([[True, True, False]])
    # two valid fragments over three atoms: counts (1, 1, 0) against a share of 2/3 each
    expected = 2 * (1 / 3) ** 2 / 3 + (2 / 3) ** 2 / 3
    assert balance_term(z, ATOMS, temperature=1e-3, mask=mask).item() == pytest.approx(expected, abs=1e-4)


def test_balance_weight_adds_the_term_and_moves_content_apart() -> None:
    x = torch.zeros(1, 3, 2)
    z = torch.tensor([[[0.3], [0.45], [1.7]]], requires_grad=True)  # two fragments crowd atom 0
    config = LossConfig(balance_weight=2.0, balance_temperature=0.3)
    off = v3_loss(x, x, z, z, z, torch.tensor(0.0), LossConfig())
    on = v3_loss(x, x, z, z, z, torch.tensor(0.0), config, codebook=ATOMS)
    assert off.balance is None and "balance" not in off.as_floats()
    assert on.total.item() == pytest.approx(off.total.item() + 2.0 * on.balance.item(), abs=1e-5)
    assert on.balance.item() > 0
    on.balance.backward()
    assert z.grad[0, 1, 0] < 0  # descending the gradient moves the crowding fragment up, towards atom 1
    with pytest.raises(ValueError, match="needs the codebook"):
        v3_loss(x, x, z, z, z, torch.tensor(0.0), config)
