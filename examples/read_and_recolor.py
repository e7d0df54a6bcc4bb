"""Read the digits of a handwritten strip and redraw them in another strip's colour (Python API).

Usage: python examples/read_and_recolor.py A.png B.png OUT.png

With the bundled strips (unseen handwriting; gold is a colour the model never saw):
``python examples/read_and_recolor.py examples/digits/blue.png examples/digits/gold.png blue_in_gold.png``
"""

from __future__ import annotations

import sys
from pathlib import Path

import v3vision


def main(a: Path, b: Path, out: Path) -> dict[str, str]:
    reader = v3vision.DigitReader()  # loads the shipped `digits` model once
    read = {"a": reader.read(a), "b": reader.read(b)}
    v3vision.recolor_file(a, b, out, model=reader)  # A's strokes, B's ink
    read["out"] = reader.read(out)
    for name, digits in read.items():
        print(f"{name}: {digits}")
    return read


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
