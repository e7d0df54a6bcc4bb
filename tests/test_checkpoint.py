"""Checkpoint round trip, and garbage or tampered files rejected with a clear error."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
import torch

from v3.checkpoint import Checkpoint, build_model, load_model, read_checkpoint, save_checkpoint
from v3.errors import CheckpointError


def _save_toy(toy_adapter, toy_config, path: Path) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = build_model(toy_adapter, toy_config)
    meta = {"adapter": "toy", "atom_labels": [0, 1, 2, 3], "frontend": {"dim": 8}}
    save_checkpoint(path, Checkpoint(toy_config, model.state_dict(), meta))
    return model.state_dict()


def test_round_trip(toy_adapter, toy_config, tmp_path: Path) -> None:
    state = _save_toy(toy_adapter, toy_config, tmp_path / "m.pt")
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.config == toy_config
    assert loaded.atom_labels == [0, 1, 2, 3]
    assert loaded.metadata["v3_version"]
    for key, value in loaded.model.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert not loaded.model.training
    assert list(tmp_path.iterdir()) == [tmp_path / "m.pt"]  # no temp file left


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint(tmp_path / "nope.pt")


def test_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"\x00\x01this is not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="garbage.pt: not a readable checkpoint"):
        read_checkpoint(path)


def test_truncated_file(toy_adapter, toy_config, tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    _save_toy(toy_adapter, toy_config, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        read_checkpoint(path)


class Payload:
    """Stands in for a pickled object a malicious file could carry."""

    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_payload_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format": "v3-checkpoint", "state_dict": {}, "x": Payload()}, path)
    with pytest.raises(CheckpointError, match="evil.pt: refused to load"):
        read_checkpoint(path)
    assert "pwned" not in capsys.readouterr().out


def test_foreign_torch_file(tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.ones(2), "meta": collections.OrderedDict()}, path)
    with pytest.raises(CheckpointError, match="not a v3 checkpoint"):
        read_checkpoint(path)


def test_missing_key_is_refused_strictly(toy_adapter, toy_config, tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    state = _save_toy(toy_adapter, toy_config, path)
    state.pop("content_head.weight")
    save_checkpoint(path, Checkpoint(toy_config, state, {"adapter": "toy"}))
    with pytest.raises(CheckpointError, match="weights do not fit"):
        load_model(path)


def test_unknown_adapter(toy_adapter, toy_config, tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    state = _save_toy(toy_adapter, toy_config, path)
    cfg = toy_config
    cfg.adapter = "no-such-domain"
    save_checkpoint(path, Checkpoint(cfg, state, {}))
    with pytest.raises(Exception, match="unknown adapter 'no-such-domain'"):
        load_model(path)
