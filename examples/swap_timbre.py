"""Play the notes of one recording with the instrument of another (Python API).

Usage: python examples/swap_timbre.py A.wav B.wav OUT.wav

With the bundled files, the violin melody played by the flute:
``python examples/swap_timbre.py examples/melody.flac examples/flute.flac melody_as_flute.wav``
"""

from __future__ import annotations

import sys
from pathlib import Path

from v3music import TimbreModel, cosine_similarity, timbre_swap_file_to_file


def main(a: Path, b: Path, out: Path) -> Path:
    model = TimbreModel("timbre")  # load once, reuse for many swaps
    timbre_swap_file_to_file(a, b, out, model=model)
    result = model.embed_file(out)
    to_a, to_b = (float(cosine_similarity(model.embed_file(p), result)) for p in (a, b))
    print(f"{out}: timbre similarity to a {to_a:+.3f}, to b {to_b:+.3f}")
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
