"""The CLI through CliRunner (and once through the installed command)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from v3_cli.main import cli


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def _one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_help_lists_commands() -> None:
    result = _run("--help")
    assert result.exit_code == 0
    for name in ("train", "eval", "adapters", "music"):
        assert name in result.output


def test_adapters_lists_music_and_registered_toy() -> None:
    result = _run("adapters")
    assert result.exit_code == 0
    names = [ln.split("\t")[0] for ln in result.output.splitlines()]
    assert "music" in names and "toy" in names


def test_train_and_eval_toy(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    result = _run("train", "--adapter", "toy", "--data", str(data), "--out", str(tmp_path / "run"),
                  "--steps", "5", "--quiet")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "checkpoint.pt").exists()
    result = _run("eval", "--checkpoint", str(tmp_path / "run" / "checkpoint.pt"), "--data", str(data),
                  "--out", str(tmp_path / "rep"))
    assert result.exit_code == 0, result.output
    for name in ("report.json", "confusion.png", "tsne_content.png", "tsne_style.png"):
        assert (tmp_path / "rep" / name).stat().st_size > 0


def test_resume_continues(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    out = str(tmp_path / "run")
    assert _run("train", "--adapter", "toy", "--data", str(data), "--out", out, "--steps", "4", "--quiet").exit_code == 0
    result = _run("train", "--adapter", "toy", "--data", str(data), "--out", out, "--steps", "8", "--quiet", "--resume")
    assert result.exit_code == 0, result.output
    steps = (tmp_path / "run" / "train_log.jsonl").read_text().count("\n")
    assert steps == 8


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("train", "--adapter", "nope", "--data", "{tmp}", "--out", "{tmp}/r"), "unknown adapter 'nope'"),
        (("train", "--adapter", "toy", "--data", "{tmp}/missing", "--out", "{tmp}/r"), "data folder not found"),
        (("train", "--adapter", "toy", "--data", "{tmp}", "--out", "{tmp}/r", "--set", "train.bogus=1"), "unknown key"),
        (("train", "--adapter", "toy", "--data", "{tmp}", "--out", "{tmp}/r", "--set", "train.lr=fast"), "not a valid float"),
        (("train", "--adapter", "toy", "--data", "{tmp}", "--out", "{tmp}/file.txt/r", "--steps", "2"), "cannot create"),
        (("eval", "--checkpoint", "{tmp}/file.txt", "--data", "{tmp}", "--out", "{tmp}/r"), "not a readable checkpoint"),
        (("eval", "--checkpoint", "no-such-model", "--data", "{tmp}", "--out", "{tmp}/r"), "no such checkpoint"),
        (("music", "make-data", "insnotes", "{tmp}/d", "--soundfont", "{tmp}/file.txt"), "file.txt"),
        (("music", "make-data", "insnotes", "{tmp}/d", "--programs", "1,200"), "0-127"),
        (("music", "make-data", "insnotes", "{tmp}/d", "--noise-snr", "loud"), "LOW,HIGH"),
        (("music", "make-data", "insnotes", "{tmp}/d", "--noise-snr", "40,10"), "low <= high"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    (tmp_path / "file.txt").write_text("not a checkpoint, not a soundfont\n")
    before = set(tmp_path.rglob("*"))
    result = _run(*[a.format(tmp=tmp_path) for a in args])
    line = _one_line_error(result)
    assert needle in line
    assert line.startswith("Error: ")
    created = {p for p in set(tmp_path.rglob("*")) - before if p.is_file()}
    assert not created, created  # no partial output


def test_installed_command_runs() -> None:
    exe = shutil.which("v3")
    if exe is None:
        pytest.skip("the v3 console script is not installed (pip install -e .)")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0 and "v3" in out.stdout
    bad = subprocess.run([exe, "eval", "--checkpoint", "/nonexistent.pt", "--data", "/tmp", "--out", "/tmp/x"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_overrides_are_stored_typed_and_mid_run_checkpoints_evaluate(tmp_path: Path) -> None:
    import json

    data = tmp_path / "data"
    data.mkdir()
    out = tmp_path / "run"
    result = _run("train", "--adapter", "toy", "--data", str(data), "--out", str(out), "--steps", "12",
                  "--set", "adapter.hidden=16", "--set", "train.checkpoint_every=5", "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["adapter_config"]["hidden"] == 16
    # a checkpoint from before the atoms were named still evaluates (named accuracy n/a)
    from v3.checkpoint import Checkpoint, read_checkpoint, save_checkpoint

    ckpt = read_checkpoint(out / "checkpoint.pt")
    ckpt.metadata.pop("atom_labels")
    save_checkpoint(out / "mid.pt", Checkpoint(ckpt.config, ckpt.state_dict, ckpt.metadata))
    result = _run("eval", "--checkpoint", str(out / "mid.pt"), "--data", str(data), "--out", str(tmp_path / "rep"))
    assert result.exit_code == 0, result.output
    assert "named (stored map): n/a" in result.output
