"""Typed configuration: dataclasses with defaults, JSON round trip, overrides.

A whole experiment is one :class:`ExperimentConfig`. It is saved as JSON
beside every checkpoint and can be overridden from the command line with
dotted ``key=value`` pairs (``train.steps=500``,
``model.quantizer.codebook_size=24``, ``adapter.hidden=512``).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import ConfigError

__all__ = [
    "ExperimentConfig",
    "LossConfig",
    "ModelConfig",
    "QuantizerConfig",
    "TrainConfig",
    "apply_overrides",
    "from_dict",
    "to_dict",
]

T = TypeVar("T")


@dataclass
class QuantizerConfig:
    """Settings of the content codebook (see :class:`v3.quantizer.VectorQuantizer`).

    Attributes
    ----------
    codebook_size : int
        Number of atoms K.
    decay : float
        EMA decay of the codebook statistics (paper: 0.98).
    dead_code_threshold : float
        An atom assigned fewer times than this during one re-seeding window
        is dead and gets re-seeded from batch vectors.
    underuse_fraction : float
        An atom assigned less than this fraction of the mean usage per atom
        during one window is re-seeded too (0 disables; useful when the
        content symbols are about equally frequent, as in InsNotes).
    reseed_every : int
        Length of the re-seeding window, in training steps (0 disables).
    kmeans_iters : int
        Lloyd iterations of the k-means initialisation and refits.
    kmeans_restarts : int
        k-means++ starts per (re)fit; the lowest distortion wins.

    Examples
    --------
    >>> from v3 import VectorQuantizer
    >>> config = QuantizerConfig(codebook_size=24, reseed_every=0)  # 24 atoms, no re-seeding
    >>> VectorQuantizer(8, config).codebook.shape  # [K, D]
    torch.Size([24, 8])
    """

    codebook_size: int = 12
    decay: float = 0.98
    dead_code_threshold: float = 16.0
    underuse_fraction: float = 0.0
    reseed_every: int = 50
    kmeans_iters: int = 20
    kmeans_restarts: int = 4


@dataclass
class ModelConfig:
    """Sizes of the content-style autoencoder shell (backbones come from the adapter).

    Attributes
    ----------
    content_dim : int
        Dimension Dc of the content vectors (and of the codebook atoms).
    style_dim : int
        Dimension Ds of the style vectors.
    quantizer : QuantizerConfig
        The content codebook.

    Examples
    --------
    >>> config = ModelConfig(content_dim=8, style_dim=4, quantizer=QuantizerConfig(codebook_size=10))
    >>> to_dict(config)["quantizer"]["codebook_size"], config.quantizer.decay
    (10, 0.98)
    """

    content_dim: int = 16
    style_dim: int = 16
    quantizer: QuantizerConfig = field(default_factory=QuantizerConfig)


@dataclass
class LossConfig:
    """Weights and relativities of the training loss (V3_METHOD.md).

    ``relativity_*`` is r in h(a) = relu(r - a) / r for each of the four V3
    terms; the paper uses 15 for all of them. A term is 0 once its ratio of
    variations reaches r.

    Attributes
    ----------
    relativity_content : float
        r of the content term, on Vc_frag / Vc_samp (content varies within a
        sample more than across samples).
    relativity_style : float
        r of the style term, on Vs_samp / Vs_frag (style varies across samples
        more than within one).
    relativity_sample : float
        r of the sample term, on Vs_samp / Vc_samp (across samples, style
        varies more than content).
    relativity_fragment : float
        r of the fragment term, on Vc_frag / Vs_frag (within a sample, content
        varies more than style).
    v3_weight, reconstruction_weight, commitment_weight : float
        Weights of the sum of the four V3 terms, of the reconstruction MSE
        and of the quantiser's commitment term in the total loss.
    epsilon : float
        Added to the denominators of the four ratios.
    balance_weight : float
        Weight of the balance term (:func:`v3.loss.balance_term`), 0 = off:
        within each sample, the fragments' soft assignments to the K atoms
        should add up to F / K per atom. It states the premise that every
        sample draws on the whole vocabulary (a strip holds each digit once)
        more strongly than the content term does. Not part of the paper's
        method; see the digits model card for what it measured.
    balance_temperature : float
        Softness of the assignments, relative to the batch's mean squared
        distance from a content vector to its nearest atom.

    Examples
    --------
    >>> import torch
    >>> from v3.loss import hinge
    >>> config = LossConfig(relativity_content=5.0, reconstruction_weight=5.0)
    >>> [float(hinge(torch.tensor(a), config.relativity_content)) for a in (0.0, 2.5, 5.0, 9.0)]
    [1.0, 0.5, 0.0, 0.0]
    """

    relativity_content: float = 15.0
    relativity_style: float = 15.0
    relativity_sample: float = 15.0
    relativity_fragment: float = 15.0
    v3_weight: float = 1.0
    reconstruction_weight: float = 1.0
    commitment_weight: float = 0.1
    epsilon: float = 1e-8
    balance_weight: float = 0.0
    balance_temperature: float = 0.3


@dataclass
class TrainConfig:
    """Optimisation and bookkeeping of one training run.

    Attributes
    ----------
    steps : int
        Total optimiser steps.
    batch_size : int
        Samples per batch (each sample holds F fragments).
    lr, weight_decay : float
        AdamW settings (paper: 1e-3 and 0.1).
    seed : int
        Seeds model initialisation, batch sampling and codebook re-seeding.
    device : str
        ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    amp : bool
        bfloat16 autocast on CUDA (ignored on the CPU).
    log_every, checkpoint_every : int
        Steps between JSONL log lines and between checkpoint saves.
    kmeans_refit_steps : tuple of int
        Steps at which the codebook is refitted by k-means on the batch's
        content vectors.
    threads : int
        torch intra-op threads on the CPU (0 keeps torch's default).

    Examples
    --------
    >>> config = TrainConfig(steps=500, device="cpu", kmeans_refit_steps=(100, 300))
    >>> from_dict(TrainConfig, to_dict(config)) == config  # JSON lists come back as tuples
    True
    >>> from_dict(TrainConfig, {"steps": "500", "amp": "yes"}).amp  # strings from the command line
    True
    """

    steps: int = 2000
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.1
    seed: int = 0
    device: str = "auto"
    amp: bool = False
    log_every: int = 10
    checkpoint_every: int = 500
    kmeans_refit_steps: tuple[int, ...] = ()
    threads: int = 0


@dataclass
class ExperimentConfig:
    """Everything needed to rebuild a model and repeat its training.

    ``adapter_config`` is the adapter's own settings (front end, backbone
    sizes) as a plain dict; the adapter turns it into its typed dataclass.

    Attributes
    ----------
    adapter : str
        Name of the adapter (see :func:`v3.available_adapters`).
    model : ModelConfig
    loss : LossConfig
    train : TrainConfig
    adapter_config : dict
        The adapter's settings, as JSON-able values.

    Examples
    --------
    >>> import json
    >>> config = ExperimentConfig(adapter="music", train=TrainConfig(steps=500))
    >>> config = apply_overrides(config, ["train.lr=3e-4", "model.quantizer.codebook_size=24"])
    >>> config.train.lr, config.model.quantizer.codebook_size
    (0.0003, 24)
    >>> text = json.dumps(to_dict(config))  # as saved in config.json beside a checkpoint
    >>> from_dict(ExperimentConfig, json.loads(text)) == config
    True
    """

    adapter: str = ""
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    adapter_config: dict[str, Any] = field(default_factory=dict)


def to_dict(config: Any) -> dict[str, Any]:
    """Return a JSON-able dict of a (nested) config dataclass.

    Examples
    --------
    >>> to_dict(QuantizerConfig(codebook_size=24))["codebook_size"]
    24
    """
    return json.loads(json.dumps(dataclasses.asdict(config)))


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Convert a JSON or string value to the type ``hint`` of a dataclass field."""
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(hint, value, where=where)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or value == "None":
            return None
        return _coerce(value, args[0], where)
    if origin is tuple:
        (item,) = typing.get_args(hint)[:1]
        if isinstance(value, str):
            value = [v for v in value.replace("(", "").replace(")", "").split(",") if v.strip()]
        return tuple(_coerce(v, item, where) for v in value)
    if origin is dict or hint is dict:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{where}: {value!r} is not a JSON object") from exc
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where}: {value!r} is not a boolean")
    if hint in (int, float, str):
        try:
            if hint is int and isinstance(value, float) and not value.is_integer():
                raise ValueError
            return hint(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {value!r} is not a valid {hint.__name__}") from exc
    return value


def from_dict(cls: type[T], data: dict[str, Any], *, where: str = "config") -> T:
    """Build the dataclass ``cls`` from a dict, checking names and types.

    Unknown keys raise :class:`~v3.errors.ConfigError`; missing keys take
    their defaults.

    Examples
    --------
    >>> from_dict(TrainConfig, {"steps": "100"}).steps
    100
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    kwargs = {k: _coerce(v, hints[k], f"{where}.{k}") for k, v in data.items()}
    return cls(**kwargs)


def apply_overrides(config: T, overrides: list[str] | tuple[str, ...]) -> T:
    """Return a copy of ``config`` with dotted ``key=value`` overrides applied.

    Parameters
    ----------
    config : dataclass instance
        For example an :class:`ExperimentConfig`.
    overrides : list of str
        Items such as ``"train.steps=500"`` or ``"adapter_config.hidden=512"``.
        ``adapter.`` is accepted as a short form of ``adapter_config.``.

    Examples
    --------
    >>> cfg = apply_overrides(ExperimentConfig(), ["train.steps=5", "model.quantizer.codebook_size=24"])
    >>> cfg.train.steps, cfg.model.quantizer.codebook_size
    (5, 24)
    """
    data = to_dict(config)
    for item in overrides:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        parts = key.split(".")
        if parts[0] == "adapter" and len(parts) > 1:
            parts[0] = "adapter_config"
        node: Any = data
        for part in parts[:-1]:
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(f"override {item!r}: unknown key {key!r}")
            node = node[part]
        leaf = parts[-1]
        if not isinstance(node, dict) or (leaf not in node and parts[0] != "adapter_config"):
            raise ConfigError(f"override {item!r}: unknown key {key!r}")
        node[leaf] = value
    return from_dict(type(config), data)
