"""Checkpoint files: a state_dict plus plain JSON-able config and metadata.

Layout of the dict saved with ``torch.save`` (never pickled classes)::

    {"format": "v3-checkpoint", "format_version": 1,
     "config": ExperimentConfig as a dict,
     "metadata": {"v3_version", "adapter", "frontend", "atom_labels",
                  "content_names", "style_names", "metrics", ...},
     "state_dict": {name: Tensor},
     "training": {...} (optional: optimiser and RNG state for --resume)}

Files load with ``torch.load(..., weights_only=True)`` and strict keys; a
corrupt, foreign or tampered file raises :class:`~v3.errors.CheckpointError`.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import __version__
from .adapters import Adapter, get_adapter
from .config import ExperimentConfig, from_dict, to_dict
from .errors import CheckpointError, ConfigError, V3Error
from .fileio import atomic_write
from .model import ContentStyleAutoencoder

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Checkpoint",
    "LoadedModel",
    "build_model",
    "export_checkpoint",
    "load_model",
    "load_state",
    "read_checkpoint",
    "save_checkpoint",
]

FORMAT = "v3-checkpoint"
FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    """The parsed content of a checkpoint file."""

    config: ExperimentConfig
    state_dict: dict[str, torch.Tensor]
    metadata: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] | None = None


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``path`` atomically.

    Examples
    --------
    >>> import tempfile, torch
    >>> from v3.config import ExperimentConfig
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_checkpoint(Path(d) / "c.pt", Checkpoint(ExperimentConfig(adapter="x"), {"w": torch.ones(1)}))
    ...     read_checkpoint(p).state_dict["w"]
    tensor([1.])
    """
    metadata = {"v3_version": __version__, **checkpoint.metadata}
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": to_dict(checkpoint.config),
        "metadata": metadata,
        "state_dict": {k: v.detach().cpu() for k, v in checkpoint.state_dict.items()},
    }
    if checkpoint.training is not None:
        payload["training"] = checkpoint.training
    return atomic_write(Path(path), lambda tmp: torch.save(payload, tmp))


def read_checkpoint(path: Path | str, *, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Read and validate a checkpoint file (``weights_only=True``).

    Raises
    ------
    CheckpointError
        Missing file, not a torch file, truncated, carrying a pickle payload,
        or not a v3 checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL (\S+) (?:was not an allowed global|whose module)", str(exc))
        if found:
            raise CheckpointError(
                f"{path}: refused to load, the file carries a pickled object ({found.group(1)}), "
                "not just tensors and plain data"
            ) from exc
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupt or not a torch file)") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError, IndexError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupt or truncated file)") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a v3 checkpoint (no '{FORMAT}' format tag)")
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {payload.get('format_version')!r} is not supported (expected {FORMAT_VERSION})")
    for key, kind in (("config", dict), ("metadata", dict), ("state_dict", dict)):
        if not isinstance(payload.get(key), kind):
            raise CheckpointError(f"{path}: checkpoint field {key!r} is missing or malformed")
    try:
        config = from_dict(ExperimentConfig, payload["config"])
    except ConfigError as exc:
        raise CheckpointError(f"{path}: checkpoint config is invalid ({exc})") from exc
    state = payload["state_dict"]
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise CheckpointError(f"{path}: checkpoint state_dict holds non-tensor entries")
    return Checkpoint(config=config, state_dict=state, metadata=payload["metadata"], training=payload.get("training"))


def build_model(adapter: Adapter, config: ExperimentConfig) -> ContentStyleAutoencoder:
    """Build an untrained model of ``config`` with the adapter's backbones."""
    adapter_config = adapter.parse_config(config.adapter_config)
    encoder, decoder = adapter.build_backbones(adapter_config, config.model)
    return ContentStyleAutoencoder(encoder, decoder, adapter.fragment_shape(adapter_config), config.model)


@dataclass
class LoadedModel:
    """A model ready for inference, with what its checkpoint says about it.

    Attributes
    ----------
    model : ContentStyleAutoencoder
        In eval mode, on the device it was loaded to.
    adapter : Adapter
        The adapter named in the checkpoint's config.
    config : ExperimentConfig
        The configuration the model was trained with.
    metadata : dict
        JSON-able checkpoint metadata (``v3_version``, ``frontend``,
        ``atom_labels``, ``content_names``, ...).
    path : Path or None
        The file it was loaded from.

    Examples
    --------
    >>> from v3 import find_checkpoint, load_model
    >>> loaded = load_model(find_checkpoint("insnotes"))
    >>> loaded.adapter.name, loaded.config.model.quantizer.codebook_size, loaded.path.name
    ('music', 12, 'insnotes.pt')
    """

    model: ContentStyleAutoencoder
    adapter: Adapter
    config: ExperimentConfig
    metadata: dict[str, Any]
    path: Path | None = None

    @property
    def atom_labels(self) -> list[int]:
        """Label id named by each atom (-1 = unnamed), from the calibration set.

        Examples
        --------
        >>> from v3 import find_checkpoint, load_model
        >>> loaded = load_model(find_checkpoint("insnotes"))
        >>> sorted(loaded.atom_labels) == list(range(60, 72))  # MIDI C4..B4, one per atom
        True
        """
        return [int(v) for v in self.metadata.get("atom_labels", [])]


def load_model(path: Path | str, *, device: str | torch.device = "cpu") -> LoadedModel:
    """Load a checkpoint into a model in eval mode on ``device``.

    Parameters
    ----------
    path : str or Path
        A checkpoint file (see :func:`v3.adapters.find_checkpoint` for shipped names).
    device : str or torch.device
        Where the weights go (``"cpu"``, ``"cuda"``, ...).

    Returns
    -------
    LoadedModel

    Raises
    ------
    CheckpointError
        The file is unusable or its weights do not fit the model its config describes.

    Examples
    --------
    >>> from v3.adapters import find_checkpoint
    >>> loaded = load_model(find_checkpoint("insnotes"))
    >>> x = torch.zeros(1, 12, 144, 2)  # [B, F, n_bins, frames]: 12 note fragments
    >>> loaded.model.encode(x).codes.shape
    torch.Size([1, 12])
    """
    path = Path(path)
    ckpt = read_checkpoint(path)
    adapter = get_adapter(ckpt.config.adapter)
    try:
        model = build_model(adapter, ckpt.config)
    except V3Error as exc:
        raise CheckpointError(f"{path}: cannot build the model it describes ({exc})") from exc
    load_state(model, ckpt.state_dict, path)
    model.to(device).eval()
    return LoadedModel(model=model, adapter=adapter, config=ckpt.config, metadata=ckpt.metadata, path=path)


def load_state(model: nn.Module, state_dict: dict[str, torch.Tensor], path: Path) -> None:
    """``model.load_state_dict(state_dict, strict=True)`` with a clear error."""
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:300]
        raise CheckpointError(f"{path}: weights do not fit the model ({detail})") from exc


def export_checkpoint(source: Path | str, destination: Path | str, *, metadata: dict[str, Any] | None = None) -> Path:
    """Write an inference-only copy of a training checkpoint (no optimiser/RNG state).

    Parameters
    ----------
    source : path
        A checkpoint written by the trainer.
    destination : path
        The slim copy, e.g. ``v3music/checkpoints/insnotes.pt``.
    metadata : dict, optional
        Extra JSON-able metadata to record (e.g. measured metrics).
    """
    ckpt = read_checkpoint(source)
    meta = {**ckpt.metadata, **(metadata or {})}
    return save_checkpoint(Path(destination), Checkpoint(ckpt.config, ckpt.state_dict, meta, None))
