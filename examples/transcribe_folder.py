"""Transcribe every audio file of a folder to MIDI with the Python API.

Usage: python examples/transcribe_folder.py IN_DIR OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from v3music import Transcriber

AUDIO = {".wav", ".flac", ".ogg", ".mp3"}


def main(in_dir: Path, out_dir: Path) -> list[Path]:
    transcriber = Transcriber("insnotes")  # the model is loaded once for all files
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(p for p in in_dir.iterdir() if p.suffix.lower() in AUDIO):
        target = out_dir / f"{path.stem}.mid"
        result = transcriber.transcribe_file_to_file(path, target)
        print(f"{path.name}: {len(result.notes)} notes -> {target}")
        written.append(target)
    return written


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
