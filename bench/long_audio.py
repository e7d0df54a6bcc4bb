"""Peak memory and speed of `v3 transcribe` and `v3 timbre-embed` on a long recording.

Writes a long WAV (a rendered melody tiled to --minutes, 44.1 kHz stereo, so
the loader must resample and mix down) block by block, then runs each real
command under `/usr/bin/time -v` and prints its peak resident memory and wall
time. Usage::

    python bench/long_audio.py --minutes 60 [--commands transcribe,timbre-embed]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from v3music.melodies import melody_midi, random_melody
from v3music.synth import render_midi


def write_long_wav(path: Path, minutes: float, *, sr: int = 44100, seed: int = 0) -> float:
    """Tile a 60 s rendered melody into a stereo WAV of ``minutes``; return its length in s."""
    rng = np.random.default_rng(seed)
    clip = render_midi(melody_midi(random_melody(rng, low=60, high=71, seconds=60.0), 40), sr=sr)
    stereo = np.stack([clip, 0.8 * clip], axis=1)
    total = int(minutes * 60 * sr)
    with sf.SoundFile(path, "w", samplerate=sr, channels=2, subtype="PCM_16") as out:
        written = 0
        while written < total:
            block = stereo[: total - written]
            out.write(block)
            written += len(block)
    return total / sr


def run_measured(argv: list[str]) -> tuple[str, float, float]:
    """Run ``v3 ARGV...`` under /usr/bin/time -v; return (stdout, peak RSS in MiB, wall seconds)."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "v3_cli.main", *argv]
    t0 = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if run.returncode != 0:
        sys.exit(f"v3 {argv[0]} failed: {run.stderr.strip()[-500:]}")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    assert match is not None, run.stderr[-500:]
    return run.stdout.strip(), int(match.group(1)) / 1024, wall


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--commands", default="transcribe,timbre-embed",
                        help="comma-separated v3 commands to measure (default: transcribe,timbre-embed; "
                             "transcribe-plot is v3 transcribe with --plot)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "long.wav"
        seconds = write_long_wav(wav, args.minutes)
        print(f"audio: {seconds / 60:.1f} min, 44.1 kHz stereo 16-bit WAV ({wav.stat().st_size / 1e6:.0f} MB)")
        outputs = {"transcribe": "long.mid", "timbre-embed": "long.npy", "transcribe-plot": "long.mid"}
        for command in args.commands.split(","):
            extra = ["--plot", str(Path(folder) / "long.png")] if command == "transcribe-plot" else []
            name = command.removesuffix("-plot")
            stdout, peak, wall = run_measured([name, str(wav), "-o", str(Path(folder) / outputs[command]), *extra])
            print(f"v3 {command}: {stdout}")
            print(f"  peak RSS: {peak:.0f} MiB; wall time {wall:.1f} s "
                  f"({seconds / wall:.0f}x real time, including start-up and model load)")


if __name__ == "__main__":
    main()
