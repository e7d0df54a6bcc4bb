"""Crash safety: a run killed with SIGKILL and resumed ends where an uninterrupted run ends."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from v3.checkpoint import read_checkpoint

RUNNER = Path(__file__).with_name("_train_runner.py")
STEPS, EVERY = 300, 20


def _train(data: Path, out: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, str(RUNNER), "train", "--adapter", "toy", "--data", str(data), "--out", str(out),
               "--steps", str(STEPS), "--quiet", "--set", f"train.checkpoint_every={EVERY}",
               "--set", "train.log_every=1", "--set", "train.threads=1", *extra]
    return subprocess.Popen(command, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _last_logged_step(log: Path) -> int:
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return 0
    for line in reversed(lines):
        try:
            return int(json.loads(line)["step"])
        except (json.JSONDecodeError, KeyError):
            continue  # a line being written
    return 0


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    target = random.Random(seed).randrange(EVERY + 1, STEPS - EVERY)
    why = f"(kill target step {target}, random seed {seed})"
    full = _train(tmp_path, tmp_path / "full")
    victim = _train(tmp_path, tmp_path / "killed")
    log = tmp_path / "killed" / "train_log.jsonl"
    deadline = time.monotonic() + 120
    while _last_logged_step(log) < target and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL, f"the run ended before it was killed {why}"
    killed_at = _last_logged_step(log)
    assert EVERY < killed_at < STEPS, why

    # what the kill left loads: a whole checkpoint of an earlier step
    saved = read_checkpoint(tmp_path / "killed" / "checkpoint.pt")
    assert saved.training is not None and saved.training["step"] % EVERY == 0
    assert EVERY <= saved.training["step"] <= killed_at, why

    resumed = _train(tmp_path, tmp_path / "killed", "--resume")
    _, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err[-3000:]
    _, err = full.communicate(timeout=180)
    assert full.returncode == 0, err[-3000:]

    a = read_checkpoint(tmp_path / "full" / "checkpoint.pt").state_dict
    b = read_checkpoint(tmp_path / "killed" / "checkpoint.pt").state_dict
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=1e-6), f"{key} {why}"
    assert sorted(p.name for p in (tmp_path / "killed").iterdir()) == [
        "checkpoint.pt", "config.json", "train_log.jsonl"], why  # no .tmp file left
    steps = [json.loads(s)["step"] for s in log.read_text().splitlines()]
    assert steps == list(range(1, STEPS + 1)), why


def test_resume_cleans_what_a_kill_leaves(toy_adapter, toy_config, toy_dataset, tmp_path: Path) -> None:
    from v3.config import apply_overrides
    from v3.trainer import Trainer

    short = apply_overrides(toy_config, ["train.steps=4", "train.checkpoint_every=2"])
    Trainer(toy_adapter, short, toy_dataset, tmp_path).fit()
    (tmp_path / ".checkpoint.pt.x1y2.tmp").write_bytes(b"half a checkpoint")
    with (tmp_path / "train_log.jsonl").open("a") as log:
        log.write('{"step": 5, "tot')  # the last line, cut by the kill
    longer = apply_overrides(toy_config, ["train.steps=6", "train.checkpoint_every=2"])
    Trainer(toy_adapter, longer, toy_dataset, tmp_path).fit(resume=True)
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    steps = [json.loads(s)["step"] for s in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]
