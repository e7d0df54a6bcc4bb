"""The README's Quick start command runs as written on the bundled example."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from v3_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1].strip() in ci


def test_quick_start_main_job_runs(tmp_path: Path, monkeypatch) -> None:
    first = _quick_start_commands()[0]
    v3_part = first.split("&&", 1)[1].strip()
    args = shlex.split(v3_part)
    assert args[0] == "v3"
    monkeypatch.chdir(ROOT)
    out = tmp_path / "report"
    args[args.index("--out") + 1] = str(out)
    result = CliRunner().invoke(cli, args[1:])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["named_accuracy"] >= 0.95
    assert (out / "confusion.png").stat().st_size > 0
