"""Rank the recordings of a folder by timbre similarity to a query recording (Python API).

Usage: python examples/rank_by_timbre.py QUERY.wav FOLDER

For example ``python examples/rank_by_timbre.py examples/melody.flac examples/insnotes-mini``
ranks four instruments playing C4-B4 by how close they sound to the violin.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from v3music import TimbreModel

AUDIO = {".wav", ".flac", ".ogg", ".mp3"}


def main(query: Path, folder: Path) -> list[tuple[Path, float]]:
    model = TimbreModel("timbre")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO)
    embeddings = np.stack([model.embed_file(p) for p in files])  # [files, 16]
    order, similarities = model.rank(model.embed_file(query), embeddings)
    ranking = [(files[i], float(s)) for i, s in zip(order, similarities)]
    for rank, (path, s) in enumerate(ranking, start=1):
        print(f"{rank}. {path.name}  cosine similarity {s:+.3f}")
    return ranking


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
