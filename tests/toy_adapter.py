"""A tiny toy adapter whose answers are known in advance (registered as ``toy`` on import).

Kept out of ``conftest.py`` so that processes the tests spawn (``torchrun``
workers, CLI subprocesses) can register it too: ``import toy_adapter``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from v3.adapters import Adapter, register_adapter
from v3.config import ExperimentConfig, ModelConfig, QuantizerConfig, TrainConfig, from_dict
from v3.data import FragmentDataset


@dataclass
class ToyConfig:
    """A synthetic domain: fragment = content prototype + style offset + noise."""

    dim: int = 8
    n_contents: int = 4
    n_styles: int = 3
    fragments_per_sample: int = 4
    n_samples: int = 64
    noise: float = 0.05
    hidden: int = 32
    seed: int = 0


def make_toy_dataset(cfg: ToyConfig) -> FragmentDataset:
    rng = np.random.default_rng(cfg.seed)
    protos = rng.normal(size=(cfg.n_contents, cfg.dim)) * 2.0
    offsets = rng.normal(size=(cfg.n_styles, cfg.dim))
    frags, content, style, samples = [], [], [], []
    for s in range(cfg.n_samples):
        st = s % cfg.n_styles
        cs = rng.permutation(cfg.n_contents)[: cfg.fragments_per_sample] if cfg.fragments_per_sample <= cfg.n_contents \
            else rng.integers(cfg.n_contents, size=cfg.fragments_per_sample)
        base = len(frags)
        for c in cs:
            frags.append(protos[c] + offsets[st] + cfg.noise * rng.normal(size=cfg.dim))
            content.append(int(c))
            style.append(st)
        samples.append(list(range(base, base + cfg.fragments_per_sample)))
    return FragmentDataset(
        fragments=torch.tensor(np.array(frags), dtype=torch.float32),
        samples=torch.tensor(samples),
        content_labels=torch.tensor(content),
        style_labels=torch.tensor(style),
        content_names={i: f"c{i}" for i in range(cfg.n_contents)},
        style_names={i: f"s{i}" for i in range(cfg.n_styles)},
    )


class ToyEncoder(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.out_features = hidden
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@register_adapter
class ToyAdapter(Adapter):
    """Vectors in R^dim; the data folder only needs to exist (data are generated)."""

    name = "toy"
    description = "synthetic vectors: content prototype + style offset"

    def default_config(self) -> ExperimentConfig:
        return ExperimentConfig(
            adapter=self.name,
            model=ModelConfig(content_dim=4, style_dim=4, quantizer=QuantizerConfig(codebook_size=4, dead_code_threshold=1, reseed_every=20)),
            train=TrainConfig(steps=20, batch_size=16, log_every=1, checkpoint_every=10, device="cpu"),
            adapter_config=asdict(ToyConfig()),
        )

    def parse_config(self, data: dict[str, Any]) -> ToyConfig:
        return from_dict(ToyConfig, data, where="adapter_config")

    def fragment_shape(self, adapter_config: ToyConfig) -> tuple[int, ...]:
        return (adapter_config.dim,)

    def build_backbones(self, adapter_config: ToyConfig, model_config: ModelConfig) -> tuple[nn.Module, nn.Module]:
        h = adapter_config.hidden
        decoder = nn.Sequential(nn.Linear(model_config.content_dim + model_config.style_dim, h), nn.GELU(),
                                nn.Linear(h, adapter_config.dim))
        return ToyEncoder(adapter_config.dim, h), decoder

    def load_dataset(self, data_dir: Path, adapter_config: ToyConfig) -> FragmentDataset:
        from v3.errors import DataError

        if not Path(data_dir).is_dir():
            raise DataError(f"{data_dir}: data folder not found")
        return make_toy_dataset(adapter_config)
