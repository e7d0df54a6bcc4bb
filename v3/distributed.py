"""Data-parallel training across processes (PyTorch DDP launched by ``torchrun``).

``torchrun`` starts one process per device and tells each its place through
environment variables (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``,
``MASTER_ADDR``, ``MASTER_PORT``). :func:`session` turns those into a process
group (NCCL on CUDA, gloo on the CPU) for the length of a training run; when
``WORLD_SIZE`` is unset or 1 nothing distributed happens at all.

The helpers here are no-ops on one process, so the trainer calls them
unconditionally: :func:`gather` concatenates every rank's rows with autograd
(its backward sums the gradients of all ranks, so a loss computed identically
on every rank from gathered tensors, with DDP's gradient averaging, gives
exactly the one-process gradient of that loss).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.distributed as dist
from torch import Tensor, nn

from .errors import ConfigError, TrainingError

__all__ = [
    "all_ranks_agree",
    "barrier",
    "gather",
    "is_distributed",
    "is_main_process",
    "mean_over_ranks",
    "rank",
    "session",
    "verify_in_sync",
    "world_size",
]

log = logging.getLogger(__name__)


def is_distributed() -> bool:
    """Whether a process group with more than one rank is active."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    """Number of ranks (1 without a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    """This process's global rank (0 without a process group)."""
    return dist.get_rank() if is_distributed() else 0


def is_main_process() -> bool:
    """True on rank 0: the only rank that writes checkpoints, logs and progress."""
    return rank() == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"environment variable {name}={value!r} is not an integer") from exc


@contextmanager
def session(device: torch.device) -> Iterator[torch.device]:
    """Join the process group ``torchrun`` describes, for the length of the block.

    Parameters
    ----------
    device : torch.device
        The device asked for. Under ``torchrun`` on CUDA each process takes
        ``cuda:LOCAL_RANK`` instead (one GPU per process).

    Yields
    ------
    torch.device
        The device this process trains on.

    Notes
    -----
    With ``WORLD_SIZE`` unset or 1 this yields ``device`` and does nothing
    else. A process group that already exists (set up by the caller) is used
    as it is and left open; one created here is destroyed on exit.

    Examples
    --------
    >>> with session(torch.device("cpu")) as device:  # no WORLD_SIZE: one process
    ...     device, world_size()
    (device(type='cpu'), 1)
    """
    created = False
    if _env_int("WORLD_SIZE", 1) > 1 and not dist.is_initialized():
        if not dist.is_available():
            raise ConfigError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
        if device.type == "cuda":
            device = torch.device("cuda", _env_int("LOCAL_RANK", 0))
            torch.cuda.set_device(device)
            dist.init_process_group(backend="nccl", device_id=device)
        else:
            dist.init_process_group(backend="gloo")
        created = True
        log.info("rank %d of %d on %s", dist.get_rank(), dist.get_world_size(), device)
    elif is_distributed() and device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    try:
        yield device
    finally:
        if created and dist.is_initialized():
            dist.destroy_process_group()


def gather(tensor: Tensor) -> Tensor:
    """All ranks' ``tensor`` [N, ...] concatenated along dim 0 in rank order, with autograd.

    Every rank must pass the same shape. On one process ``tensor`` itself is
    returned. The backward pass sums the gradients that all ranks send to a
    rank's rows.
    """
    if not is_distributed():
        return tensor
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(tensor.contiguous()), dim=0)


def _collective_device() -> torch.device:
    """Where small bookkeeping tensors live for collectives (the GPU under NCCL)."""
    if dist.get_backend() == dist.Backend.NCCL:
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def mean_over_ranks(values: list[float]) -> list[float]:
    """Each of ``values`` averaged over the ranks (unchanged on one process)."""
    if not is_distributed():
        return list(values)
    summed = torch.tensor(values, dtype=torch.float64, device=_collective_device())
    dist.all_reduce(summed)
    return [float(v) / dist.get_world_size() for v in summed]


def barrier() -> None:
    """Wait for every rank (no-op on one process)."""
    if is_distributed():
        dist.barrier()


def all_ranks_agree(flag: bool) -> bool:
    """Whether ``flag`` is the same on every rank (always True on one process)."""
    if not is_distributed():
        return True
    value = torch.tensor([int(flag), -int(flag)], dtype=torch.int64, device=_collective_device())
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return int(value[0]) == -int(value[1])


def verify_in_sync(model: nn.Module) -> None:
    """Raise :class:`TrainingError` unless every rank holds rank 0's parameters and buffers.

    A cheap end-of-run guard (one broadcast of the state); does nothing on one process.
    """
    if not is_distributed():
        return
    state = model.state_dict()
    mine = torch.cat([v.detach().reshape(-1).to(torch.float64) for v in state.values()])
    reference = mine.clone()
    dist.broadcast(reference, src=0)
    same = torch.equal(reference, mine)
    if not all_ranks_agree(same) or not same:
        offset = 0
        for name, value in state.items():
            n = value.numel()
            if not torch.equal(reference[offset:offset + n], mine[offset:offset + n]):
                raise TrainingError(f"rank {rank()}: {name!r} differs from rank 0 after training "
                                    "(the ranks went out of sync)")
            offset += n
        raise TrainingError(f"rank {rank()}: another rank went out of sync with rank 0 during training")
