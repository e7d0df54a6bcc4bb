"""Domain adapters and their registry (entry-point group ``v3.adapters``).

An adapter knows one domain: how to turn files into fragments, which encoder
and decoder backbones to use, and sensible default settings. The core trainer,
checkpoints and metrics call it only through :class:`Adapter`.

A third-party package registers one in its ``pyproject.toml``::

    [project.entry-points."v3.adapters"]
    mydomain = "mypackage.adapter:MyAdapter"

and ``v3 adapters`` lists it. In-process (tests, notebooks),
:func:`register_adapter` does the same without installing anything.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from .config import ExperimentConfig, ModelConfig
from .data import FragmentDataset
from .errors import AdapterError

__all__ = [
    "ENTRY_POINT_GROUP",
    "Adapter",
    "available_adapters",
    "find_checkpoint",
    "get_adapter",
    "register_adapter",
]

ENTRY_POINT_GROUP = "v3.adapters"

_registered: dict[str, type[Adapter]] = {}


class Adapter(ABC):
    """What the core needs from a domain.

    Subclasses set ``name`` and ``description`` and implement the abstract
    methods. ``adapter_config`` arguments are the adapter's own typed settings,
    as returned by :meth:`parse_config`.

    Examples
    --------
    A domain of 4-dim vectors (like ``tests/toy_adapter.py``), registered in
    this process; a package would name it in its ``v3.adapters`` entry points.

    >>> import torch
    >>> from torch import nn
    >>> from v3 import Adapter, FragmentDataset, get_adapter, register_adapter
    >>> from v3.config import ExperimentConfig, ModelConfig
    >>> @register_adapter
    ... class Vectors(Adapter):
    ...     name = "vectors"
    ...     description = "4-dim vectors: content prototype + style offset"
    ...     def default_config(self):
    ...         return ExperimentConfig(adapter=self.name, model=ModelConfig(content_dim=2, style_dim=2),
    ...                                 adapter_config={"dim": 4})
    ...     def parse_config(self, data):
    ...         return {"dim": 4, **data}
    ...     def fragment_shape(self, adapter_config):
    ...         return (adapter_config["dim"],)
    ...     def build_backbones(self, adapter_config, model_config):
    ...         dim = adapter_config["dim"]
    ...         encoder = nn.Linear(dim, 8)  # has out_features = 8, as the core requires
    ...         return encoder, nn.Linear(model_config.content_dim + model_config.style_dim, dim)
    ...     def load_dataset(self, data_dir, adapter_config):
    ...         x = torch.randn(8, adapter_config["dim"])  # 4 samples of F = 2 fragments
    ...         labels = torch.tensor([0, 1] * 4)
    ...         return FragmentDataset(x, torch.arange(8).reshape(4, 2), labels, labels)
    >>> adapter = get_adapter("vectors")
    >>> cfg = adapter.parse_config(adapter.default_config().adapter_config)
    >>> adapter.fragment_shape(cfg), adapter.load_dataset("unused", cfg).batch(torch.tensor([0]))[0].shape
    ((4,), torch.Size([1, 2, 4]))
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    @abstractmethod
    def default_config(self) -> ExperimentConfig:
        """Defaults for a training run of this domain (model, loss, train, adapter settings)."""

    @abstractmethod
    def parse_config(self, data: dict[str, Any]) -> Any:
        """Turn the plain ``adapter_config`` dict into the adapter's typed settings."""

    @abstractmethod
    def fragment_shape(self, adapter_config: Any) -> tuple[int, ...]:
        """Shape of one fragment produced by the front end."""

    @abstractmethod
    def build_backbones(self, adapter_config: Any, model_config: ModelConfig) -> tuple[nn.Module, nn.Module]:
        """Encoder ([N, *fragment_shape] -> [N, H], with ``out_features`` = H) and
        decoder ([N, Dc + Ds] -> [N, *fragment_shape])."""

    @abstractmethod
    def load_dataset(self, data_dir: Path, adapter_config: Any) -> FragmentDataset:
        """Load (and run the front end on) a data folder made by this adapter."""

    def frontend_settings(self, adapter_config: Any) -> dict[str, Any]:
        """Front-end settings recorded in checkpoints (default: none)."""
        return {}

    def shipped_checkpoints(self) -> dict[str, Path]:
        """Pretrained checkpoints that ship with the adapter, by name (default: none)."""
        return {}

    def extra_pictures(self, model: nn.Module, dataset: FragmentDataset, adapter_config: Any,
                       out_dir: Path) -> dict[str, str]:
        """Domain pictures for ``v3 eval`` (e.g. reconstructions), written into ``out_dir``.

        Returns a mapping of picture kind to file name (default: none).
        """
        return {}

    def name_fragments(self, loaded: Any, fragments: Tensor) -> np.ndarray | None:
        """Content names [N] the domain's tools give fragments [N, *fragment_shape] of the
        loaded model (a :class:`v3.checkpoint.LoadedModel`), where they differ from the
        stored atom names; -1 for none. ``v3 eval`` reports their accuracy beside the
        stored names' (default: None, the tools use the stored names).
        """
        return None

    def augment(self, fragments: Tensor, adapter_config: Any, generator: torch.Generator) -> Tensor:
        """Training-time augmentation of a batch [B, F, *fragment_shape] (default: none).

        Draw all randomness from ``generator`` so runs stay reproducible. An
        augmentation that changes style should act on a whole sample alike.
        """
        return fragments


def register_adapter(adapter_class: type[Adapter]) -> type[Adapter]:
    """Register an adapter class in this process (usable as a class decorator).

    Parameters
    ----------
    adapter_class : type of Adapter
        A subclass with a non-empty ``name``; it replaces any adapter
        registered or installed under that name.

    Returns
    -------
    type of Adapter
        ``adapter_class`` itself.

    Raises
    ------
    AdapterError
        The class has no name.

    Examples
    --------
    See :class:`Adapter` for a complete adapter. A class without a name is refused:

    >>> class Unnamed(Adapter):
    ...     pass
    >>> register_adapter(Unnamed)
    Traceback (most recent call last):
    ...
    v3.errors.AdapterError: Unnamed has no name
    """
    if not adapter_class.name:
        raise AdapterError(f"{adapter_class.__qualname__} has no name")
    _registered[adapter_class.name] = adapter_class
    return adapter_class


def available_adapters() -> dict[str, str]:
    """Names of the installed and registered adapters, mapped to where they come from.

    Returns
    -------
    dict of str to str
        Adapter name -> ``"module:Class"``, sorted by name.

    Examples
    --------
    >>> available_adapters()["music"]
    'v3music.adapter:MusicAdapter'
    """
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found.update({name: f"{cls.__module__}:{cls.__qualname__}" for name, cls in _registered.items()})
    return dict(sorted(found.items()))


def get_adapter(name: str) -> Adapter:
    """Instantiate the adapter called ``name``.

    Parameters
    ----------
    name : str
        A name listed by :func:`available_adapters`.

    Returns
    -------
    Adapter

    Raises
    ------
    AdapterError
        If no adapter has that name or its plugin fails to import.

    Examples
    --------
    >>> adapter = get_adapter("music")
    >>> adapter.fragment_shape(adapter.parse_config({}))  # (n_bins, frames)
    (144, 2)
    """
    if name in _registered:
        return _registered[name]()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            try:
                cls = ep.load()
            except Exception as exc:  # a broken plugin must not crash the CLI with a traceback
                raise AdapterError(f"adapter {name!r} ({ep.value}) failed to load: {exc}") from exc
            if not (isinstance(cls, type) and issubclass(cls, Adapter)):
                raise AdapterError(f"adapter {name!r} ({ep.value}) is not a v3.adapters.Adapter subclass")
            return cls()
    known = ", ".join(available_adapters()) or "none installed"
    raise AdapterError(f"unknown adapter {name!r}; available: {known}")


def find_checkpoint(spec: str | Path) -> Path:
    """Resolve a checkpoint given as a file path or as a shipped checkpoint's name.

    Parameters
    ----------
    spec : str or Path
        An existing file, or a name some installed adapter ships (e.g. ``"insnotes"``).

    Returns
    -------
    Path
        The checkpoint file.

    Raises
    ------
    CheckpointError
        Neither a file nor a name any installed adapter ships.

    Examples
    --------
    >>> find_checkpoint("insnotes").name
    'insnotes.pt'
    """
    from .errors import CheckpointError

    path = Path(spec)
    if path.is_file():
        return path
    shipped: dict[str, Path] = {}
    for name in available_adapters():
        try:
            shipped.update(get_adapter(name).shipped_checkpoints())
        except AdapterError:
            continue
    if str(spec) in shipped:
        return shipped[str(spec)]
    known = ", ".join(sorted(shipped)) or "none"
    raise CheckpointError(f"{spec}: no such checkpoint file or shipped checkpoint (shipped: {known})")
