"""Every script in examples/ runs (on small settings) and does what it says."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_examples_are_short() -> None:
    for script in (ROOT / "examples").glob("*.py"):
        lines = [ln for ln in script.read_text().splitlines() if ln.strip()]
        assert len(lines) <= 60, (script.name, len(lines))


def test_transcribe_folder(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "melody.flac", tmp_path / "tune.flac")
    written = _load("transcribe_folder").main(tmp_path, tmp_path / "midi")
    assert [p.name for p in written] == ["tune.mid"]
    assert written[0].read_bytes()[:4] == b"MThd"


def test_train_on_soundfont(tmp_path: Path) -> None:
    report = _load("train_on_soundfont").main(tmp_path, None, steps=300)
    assert report["codebook"]["one_to_one_accuracy"] >= 0.9


def test_custom_adapter(tmp_path: Path) -> None:
    assert _load("custom_adapter").main(tmp_path) >= 0.95
