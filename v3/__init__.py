"""v3: unsupervised content/style disentanglement with variance-versus-invariance.

The core package is domain-agnostic: the content-style autoencoder, the vector
quantiser, the V3 loss, the trainer, checkpoints and metrics. Domains (music,
images) plug in as adapters registered under the ``v3.adapters`` entry point.

Examples
--------
>>> import v3
>>> "music" in v3.available_adapters()
True
"""

from __future__ import annotations

__version__ = "0.1.0"

from .adapters import Adapter, available_adapters, find_checkpoint, get_adapter, register_adapter
from .checkpoint import LoadedModel, load_model
from .config import ExperimentConfig, LossConfig, ModelConfig, QuantizerConfig, TrainConfig
from .data import FragmentDataset
from .errors import V3Error
from .evaluation import evaluate
from .loss import v3_loss
from .model import ContentStyleAutoencoder
from .quantizer import VectorQuantizer
from .trainer import Trainer

__all__ = [
    "Adapter",
    "ContentStyleAutoencoder",
    "ExperimentConfig",
    "FragmentDataset",
    "LoadedModel",
    "LossConfig",
    "ModelConfig",
    "QuantizerConfig",
    "TrainConfig",
    "Trainer",
    "V3Error",
    "VectorQuantizer",
    "__version__",
    "available_adapters",
    "evaluate",
    "find_checkpoint",
    "get_adapter",
    "load_model",
    "register_adapter",
    "v3_loss",
]
