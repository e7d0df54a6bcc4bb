"""Training loop: seeded, resumable, logged, with atomic checkpoints.

Nothing here runs on import; :class:`Trainer` is driven by ``v3 train`` or by
a script. Under ``torchrun`` (``WORLD_SIZE`` > 1) the same loop runs data
parallel: see :meth:`Trainer.fit` and :mod:`v3.distributed`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from . import distributed
from .adapters import Adapter
from .checkpoint import Checkpoint, build_model, load_state, read_checkpoint, save_checkpoint
from .config import ExperimentConfig, to_dict
from .data import FragmentDataset
from .errors import CheckpointError, ConfigError
from .fileio import atomic_write
from .inference import encode_fragments, name_atoms
from .loss import V3LossBreakdown, v3_loss
from .model import AutoencoderOutput, ContentStyleAutoencoder

__all__ = ["CHECKPOINT_NAME", "CONFIG_NAME", "LOG_NAME", "TrainResult", "Trainer", "resolve_device"]

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
LOG_NAME = "train_log.jsonl"
CONFIG_NAME = "config.json"


def resolve_device(spec: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else as torch reads it.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError as exc:
        raise ConfigError(f"device {spec!r} is not valid (use auto, cpu, cuda or cuda:N)") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {spec!r} requested but CUDA is not available here")
    return device


@dataclass
class TrainResult:
    """What a finished run produced."""

    checkpoint: Path
    steps: int
    wall_seconds: float
    last_losses: dict[str, float]


def _configs_compatible(saved: ExperimentConfig, current: ExperimentConfig) -> bool:
    """Everything but the step budget and bookkeeping must match to resume."""
    a, b = to_dict(saved), to_dict(current)
    for cfg in (a, b):
        for key in ("steps", "log_every", "checkpoint_every", "device", "threads"):
            cfg["train"].pop(key, None)
    return a == b


class Trainer:
    """Train a content-style autoencoder on a :class:`FragmentDataset`.

    Parameters
    ----------
    adapter : Adapter
        Supplies the backbones for ``config.adapter_config``.
    config : ExperimentConfig
        Model, loss and training settings (``config.adapter`` names the adapter).
    dataset : FragmentDataset
        Training samples; its labels only name the atoms at the end.
    out_dir : Path
        Receives ``checkpoint.pt``, ``config.json`` and ``train_log.jsonl``.
    progress : bool
        Show a tqdm progress bar.

    Examples
    --------
    A toy domain (see :class:`v3.Adapter`) trained for 3 steps (``v3 train``
    does the same from the command line; ``examples/custom_adapter.py`` trains
    one to full accuracy):

    >>> import tempfile, torch
    >>> from torch import nn
    >>> from v3 import Adapter, FragmentDataset
    >>> from v3.config import ExperimentConfig, ModelConfig, QuantizerConfig, TrainConfig
    >>> class Points(Adapter):  # 2-D points: content = corner of a square, style = shift of a sample
    ...     name = "points"
    ...     def default_config(self):
    ...         train = TrainConfig(steps=3, batch_size=4, log_every=1, device="cpu")
    ...         model = ModelConfig(2, 2, QuantizerConfig(codebook_size=4))
    ...         return ExperimentConfig(self.name, model, train=train)
    ...     def parse_config(self, data):
    ...         return data
    ...     def fragment_shape(self, adapter_config):
    ...         return (2,)
    ...     def build_backbones(self, adapter_config, model_config):  # encoder -> [N, 16], decoder
    ...         latent = model_config.content_dim + model_config.style_dim
    ...         return nn.Linear(2, 16), nn.Linear(latent, 2)
    ...     def load_dataset(self, data_dir, adapter_config):  # 8 samples of F = 4 shifted corners
    ...         corners = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 4.0]]).repeat(8, 1)
    ...         shift = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    ...         content, style = torch.arange(4).repeat(8), torch.arange(8).repeat_interleave(4)
    ...         points = corners + shift.repeat_interleave(4, 0)  # [32, 2]
    ...         return FragmentDataset(points, torch.arange(32).reshape(8, 4), content, style)
    >>> adapter = Points()
    >>> data = adapter.load_dataset("unused", {})
    >>> with tempfile.TemporaryDirectory() as out:
    ...     result = Trainer(adapter, adapter.default_config(), data, out).fit()
    ...     files = sorted(p.name for p in result.checkpoint.parent.iterdir())
    >>> result.steps, files
    (3, ['checkpoint.pt', 'config.json', 'train_log.jsonl'])
    >>> losses = result.last_losses  # of the last step: total = reconstruction + V3 terms + commitment
    >>> losses["total"] > losses["reconstruction"] > 0
    True
    """

    def __init__(
        self,
        adapter: Adapter,
        config: ExperimentConfig,
        dataset: FragmentDataset,
        out_dir: Path,
        *,
        progress: bool = False,
    ) -> None:
        self.adapter = adapter
        self.config = config
        self.dataset = dataset
        self.out_dir = Path(out_dir)
        self.progress = progress
        self.device = resolve_device(config.train.device)
        parsed = adapter.parse_config(config.adapter_config)
        if dataclasses.is_dataclass(parsed) and not isinstance(parsed, type):
            # store typed values (overrides arrive as strings) in config.json and checkpoints
            config = dataclasses.replace(config, adapter_config=to_dict(parsed))
            self.config = config
        expected = adapter.fragment_shape(parsed)
        if tuple(dataset.fragment_shape) != tuple(expected):
            raise ConfigError(f"data fragments have shape {dataset.fragment_shape}, the model expects {expected}")
        if config.train.batch_size < 2 or config.train.steps < 1:
            raise ConfigError("train.batch_size must be >= 2 and train.steps >= 1 (V3 compares samples)")
        if dataset.fragments_per_sample < 2:
            raise ConfigError("samples need at least 2 fragments (V3 compares fragments within a sample)")

    @property
    def checkpoint_path(self) -> Path:
        """Where :meth:`fit` writes the checkpoint: ``out_dir / "checkpoint.pt"`` (see the class example).

        Constructing a :class:`Trainer` writes nothing; :meth:`fit` creates
        ``out_dir`` and writes the checkpoint, ``config.json`` and
        ``train_log.jsonl`` there.
        """
        return self.out_dir / CHECKPOINT_NAME

    def _make_model(self) -> ContentStyleAutoencoder:
        torch.manual_seed(self.config.train.seed)
        return build_model(self.adapter, self.config).to(self.device)

    def _save(self, model: ContentStyleAutoencoder, optimizer: torch.optim.Optimizer, step: int,
              batches: torch.Generator, metadata: dict[str, Any] | None = None) -> None:
        quantizer_rng = model.quantizer.generator
        training = {
            "step": step,
            "optimizer": optimizer.state_dict(),
            "rng_batches": batches.get_state(),
            "rng_quantizer": quantizer_rng.get_state() if quantizer_rng is not None else torch.empty(0, dtype=torch.uint8),
            "rng_torch": torch.get_rng_state(),
        }
        meta = {
            "adapter": self.adapter.name,
            "frontend": self.adapter.frontend_settings(self.adapter.parse_config(self.config.adapter_config)),
            "content_names": {str(k): v for k, v in self.dataset.content_names.items()},
            "style_names": {str(k): v for k, v in self.dataset.style_names.items()},
            **(metadata or {}),
        }
        save_checkpoint(self.checkpoint_path, Checkpoint(self.config, model.state_dict(), meta, training))

    def fit(self, *, resume: bool = False) -> TrainResult:
        """Train for ``config.train.steps`` steps (continuing a saved run if ``resume``).

        Under ``torchrun`` (``WORLD_SIZE`` > 1) every process draws the same
        global batch of ``train.batch_size`` samples from the seeded generator
        and trains on its own contiguous slice of it (so the batch size must
        be divisible by the number of processes). The content, quantised and
        style vectors of all ranks are gathered before the loss, so the V3
        statistics are those of the global batch; reconstruction and
        commitment are averaged over the ranks, and DDP averages the
        gradients: N processes with B/N samples each take the step one
        process takes with B. Only rank 0 writes the checkpoint, config.json
        and the log, and shows the progress bar.

        Returns
        -------
        TrainResult
            Path of the final checkpoint, steps done, wall time of this call and
            the last logged loss components.

        Examples
        --------
        Train 3 steps, then continue the same run to 5 (only ``train.steps``
        and bookkeeping settings may change on resume):

        >>> import tempfile, torch
        >>> from torch import nn
        >>> from v3 import Adapter, FragmentDataset
        >>> from v3.config import ExperimentConfig, ModelConfig, QuantizerConfig, TrainConfig
        >>> class Points(Adapter):  # 2-D points: content = corner of a square, style = shift of a sample
        ...     name = "points"
        ...     def default_config(self):
        ...         train = TrainConfig(steps=3, batch_size=4, log_every=1, device="cpu")
        ...         model = ModelConfig(2, 2, QuantizerConfig(codebook_size=4))
        ...         return ExperimentConfig(self.name, model, train=train)
        ...     def parse_config(self, data):
        ...         return data
        ...     def fragment_shape(self, adapter_config):
        ...         return (2,)
        ...     def build_backbones(self, adapter_config, model_config):  # encoder -> [N, 16], decoder
        ...         latent = model_config.content_dim + model_config.style_dim
        ...         return nn.Linear(2, 16), nn.Linear(latent, 2)
        ...     def load_dataset(self, data_dir, adapter_config):  # 8 samples of F = 4 shifted corners
        ...         corners = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 4.0]]).repeat(8, 1)
        ...         shift = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
        ...         content, style = torch.arange(4).repeat(8), torch.arange(8).repeat_interleave(4)
        ...         points = corners + shift.repeat_interleave(4, 0)  # [32, 2]
        ...         return FragmentDataset(points, torch.arange(32).reshape(8, 4), content, style)
        >>> adapter = Points()
        >>> data = adapter.load_dataset("unused", {})
        >>> import json
        >>> from v3.config import apply_overrides
        >>> config = adapter.default_config()
        >>> with tempfile.TemporaryDirectory() as out:
        ...     _ = Trainer(adapter, config, data, out).fit()  # steps 1-3
        ...     longer = apply_overrides(config, ["train.steps=5"])
        ...     result = Trainer(adapter, longer, data, out).fit(resume=True)  # steps 4-5
        ...     log = (result.checkpoint.parent / "train_log.jsonl").read_text().splitlines()
        >>> result.steps, [json.loads(line)["step"] for line in log]
        (5, [1, 2, 3, 4, 5])
        """
        with distributed.session(self.device) as device:
            self.device = device
            return self._fit(resume=resume)

    def _fit(self, *, resume: bool) -> TrainResult:
        cfg = self.config.train
        world = distributed.world_size()
        main = distributed.is_main_process()
        if cfg.batch_size % world:
            raise ConfigError(f"train.batch_size={cfg.batch_size} must be divisible by the number of "
                              f"processes ({world}): each takes an equal share of every batch")
        share = cfg.batch_size // world
        mine = slice(distributed.rank() * share, (distributed.rank() + 1) * share)
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        if main:
            try:
                self.out_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"{self.out_dir}: cannot create the output folder ({exc.strerror})") from exc
        model = self._make_model()
        self._quantizer = model.quantizer  # its codebook feeds the balance term
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        batches = torch.Generator().manual_seed(cfg.seed)
        model.quantizer.generator = torch.Generator().manual_seed(cfg.seed + 1)
        start_step = 0
        log_path = self.out_dir / LOG_NAME
        found = resume and self.checkpoint_path.exists()
        if not distributed.all_ranks_agree(found):
            raise ConfigError(f"{self.checkpoint_path}: not visible to every process; to --resume on "
                              "several nodes, --out must be on a filesystem they all share")
        if found:
            start_step = self._restore(model, optimizer, batches)
            if main:
                self._truncate_log(log_path, start_step)
        elif not resume and main:
            log_path.unlink(missing_ok=True)
        if main:
            self._remove_stale_temporaries()
            atomic_write(self.out_dir / CONFIG_NAME,
                         lambda tmp: tmp.write_text(json.dumps(to_dict(self.config), indent=2)))
        net: torch.nn.Module = model
        if world > 1:
            from torch.nn.parallel import DistributedDataParallel

            # the quantiser keeps its own buffers in sync (EMA statistics of the gathered batch)
            net = DistributedDataParallel(model, device_ids=[self.device] if self.device.type == "cuda" else None,
                                          broadcast_buffers=False)

        use_amp = cfg.amp and self.device.type == "cuda"
        adapter_config = self.adapter.parse_config(self.config.adapter_config)
        n_samples = len(self.dataset)
        last: dict[str, float] = {}
        t0 = time.perf_counter()
        bar = None
        if self.progress and main:
            from tqdm.auto import tqdm

            bar = tqdm(total=cfg.steps, initial=start_step, desc="train", unit="step")
        model.train()
        with contextlib.ExitStack() as stack:
            log_file = stack.enter_context(log_path.open("a", encoding="utf-8")) if main else None
            for step in range(start_step + 1, cfg.steps + 1):
                # every rank draws the whole batch (same generator state), then takes its slice
                index = torch.randint(n_samples, (cfg.batch_size,), generator=batches)
                x, mask = self.dataset.batch(index)
                x = self.adapter.augment(x, adapter_config, batches)
                x = x.to(self.device, non_blocking=True)
                mask = mask.to(self.device) if mask is not None else None
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_amp):
                    out = net(x if world == 1 else x[mine])
                losses = self._loss(x, mask, out, mine)
                optimizer.zero_grad(set_to_none=True)
                losses.total.backward()
                optimizer.step()

                vectors = self._codebook_vectors(out.content, mask)
                reseeded = 0
                if step in cfg.kmeans_refit_steps:
                    model.quantizer.refit(vectors)
                elif model.quantizer.config.reseed_every and step % model.quantizer.config.reseed_every == 0:
                    reseeded = model.quantizer.reseed_dead(vectors)

                if step % cfg.log_every == 0 or step == cfg.steps:
                    last = self._global_floats(losses, local_reconstruction=world > 1 and mask is None)
                    record = {"step": step, "elapsed_s": round(time.perf_counter() - t0, 3), **last,
                              "perplexity": model.quantizer.usage_perplexity(), "reseeded": reseeded}
                    if log_file is not None:
                        log_file.write(json.dumps(record) + "\n")
                        log_file.flush()
                    if bar is not None:
                        bar.set_postfix(loss=f"{last['total']:.4f}", rec=f"{last['reconstruction']:.4f}")
                if bar is not None:
                    bar.update(1)
                if main and cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step != cfg.steps:
                    self._save(model, optimizer, step, batches)
        if bar is not None:
            bar.close()

        distributed.verify_in_sync(model)
        if main:
            atoms = self._name_atoms(model)
            self._save(model, optimizer, max(cfg.steps, start_step), batches, {"atom_labels": atoms})
        distributed.barrier()
        wall = time.perf_counter() - t0
        log.info("trained %d steps in %.1f s", cfg.steps - start_step, wall)
        return TrainResult(self.checkpoint_path, cfg.steps, wall, last)

    def _loss(self, x: Tensor, mask: Tensor | None, out: AutoencoderOutput, mine: slice) -> V3LossBreakdown:
        """The V3 loss of the global batch ``x`` [B, F, ...] from this rank's output on ``x[mine]``.

        One process: exactly ``v3_loss`` of the batch. Several: the vectors of
        all ranks are gathered (with autograd) so the four V3 statistics are
        those of the global batch; the commitment is the mean over ranks. The
        reconstruction is this rank's mean (equal shares, so the mean over
        ranks is the global one and DDP's gradient averaging makes it exact);
        with a fragment mask the shares may hold unequal numbers of valid
        fragments, so the reconstructions are gathered and the loss is the
        global one on every rank.
        """
        loss_config = self.config.loss
        codebook = self._quantizer.codebook
        if not distributed.is_distributed():
            return v3_loss(x, out.reconstruction, out.content, out.quantized, out.style,
                           out.commitment, loss_config, mask=mask, codebook=codebook)
        content = distributed.gather(out.content)
        quantized = distributed.gather(out.quantized)
        style = distributed.gather(out.style)
        commitment = distributed.gather(out.commitment.reshape(1)).mean()
        if mask is None:
            return v3_loss(x[mine], out.reconstruction, content, quantized, style, commitment, loss_config,
                           codebook=codebook)
        return v3_loss(x, distributed.gather(out.reconstruction), content, quantized, style, commitment,
                       loss_config, mask=mask, codebook=codebook)

    @staticmethod
    def _global_floats(losses: V3LossBreakdown, *, local_reconstruction: bool) -> dict[str, float]:
        """Loss components as floats; rank-local totals are averaged over the ranks."""
        values = losses.as_floats()
        if local_reconstruction:
            mean = distributed.mean_over_ranks([values["total"], values["reconstruction"]])
            values["total"], values["reconstruction"] = mean
        return values

    def _codebook_vectors(self, content: Tensor, mask: Tensor | None) -> Tensor:
        """This rank's share of the batch's valid content vectors [N, Dc], for refits and re-seeding.

        The quantiser gathers the shares of all ranks, which must be equal in
        size: with a mask, the valid vectors of the global batch are split
        into equal shares (the few left over by an uneven split are not used).
        """
        content = content.detach().float()
        if mask is None:
            return content.reshape(-1, content.shape[-1])
        if not distributed.is_distributed():
            return content[mask]
        pool = distributed.gather(content)[mask]
        share = pool.shape[0] // distributed.world_size()
        return pool[distributed.rank() * share:(distributed.rank() + 1) * share]

    def _name_atoms(self, model: ContentStyleAutoencoder) -> list[int]:
        encoded = encode_fragments(model, self.dataset.fragments)
        labels = self.dataset.content_labels.numpy()
        if self.dataset.valid is not None:
            labels = labels.copy()
            labels[~self.dataset.valid.numpy()] = -1
        model.train()
        return name_atoms(encoded.codes, labels, model.quantizer.codebook_size)

    def _restore(self, model: ContentStyleAutoencoder, optimizer: torch.optim.Optimizer,
                 batches: torch.Generator) -> int:
        ckpt = read_checkpoint(self.checkpoint_path)
        if ckpt.training is None:
            raise CheckpointError(f"{self.checkpoint_path}: holds no training state, cannot resume")
        if not _configs_compatible(ckpt.config, self.config):
            raise ConfigError(
                f"{self.checkpoint_path}: was trained with another configuration; "
                "resume needs the same settings (only train.steps may change)"
            )
        load_state(model, ckpt.state_dict, self.checkpoint_path)
        model.to(self.device)
        optimizer.load_state_dict(ckpt.training["optimizer"])
        batches.set_state(ckpt.training["rng_batches"])
        if ckpt.training["rng_quantizer"].numel() and model.quantizer.generator is not None:
            model.quantizer.generator.set_state(ckpt.training["rng_quantizer"])
        torch.set_rng_state(ckpt.training["rng_torch"])
        step = int(ckpt.training["step"])
        log.info("resuming %s at step %d", self.checkpoint_path, step)
        return step

    @staticmethod
    def _truncate_log(log_path: Path, step: int) -> None:
        """Drop log lines written after ``step`` (by a run that was killed later)."""
        if not log_path.exists():
            return
        kept = []
        for line in log_path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # the half-written last line of a killed run
            if isinstance(record, dict) and record.get("step", 0) <= step:
                kept.append(line)
        atomic_write(log_path, lambda tmp: tmp.write_text("".join(k + "\n" for k in kept), encoding="utf-8"))

    def _remove_stale_temporaries(self) -> None:
        """Delete the temporary files of an atomic write that a killed run left behind."""
        for name in (CHECKPOINT_NAME, CONFIG_NAME, LOG_NAME):
            for tmp in self.out_dir.glob(f".{name}.*.tmp"):
                log.info("removing %s, left by an interrupted run", tmp)
                tmp.unlink(missing_ok=True)
