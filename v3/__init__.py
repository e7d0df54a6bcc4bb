"""v3: unsupervised content/style disentanglement with variance-versus-invariance.

The core package is domain-agnostic: the content-style autoencoder, the vector
quantiser, the V3 loss, the trainer, checkpoints and metrics. Domains (music,
images) plug in as adapters registered under the ``v3.adapters`` entry point.
"""

from __future__ import annotations

__version__ = "0.1.0"
