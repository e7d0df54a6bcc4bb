"""Shared fixtures: a tiny toy adapter whose answers are known in advance."""

from __future__ import annotations

import pytest
from toy_adapter import ToyAdapter, ToyConfig, make_toy_dataset

from v3.config import ExperimentConfig
from v3.data import FragmentDataset

__all__ = ["ToyAdapter", "ToyConfig", "make_toy_dataset"]


@pytest.fixture
def toy_adapter() -> ToyAdapter:
    return ToyAdapter()


@pytest.fixture
def toy_config(toy_adapter: ToyAdapter) -> ExperimentConfig:
    return toy_adapter.default_config()


@pytest.fixture
def toy_dataset() -> FragmentDataset:
    return make_toy_dataset(ToyConfig())
