#!/usr/bin/env bash
# One short GPU check (fits a 10-minute run on a lent GPU machine):
#   1. trains the InsNotes model on CUDA (same recipe as the shipped checkpoint)
#      and prints steps per second;
#   2. runs the transcription benchmark on CUDA and prints its table
#      (real-time factor included).
# Usage: bash bench/gpu_check.sh [OUT_DIR]    (needs the project installed)
set -euo pipefail
out=${1:-$(mktemp -d)}
device=${DEVICE:-cuda}   # DEVICE=cpu runs the same check on the CPU
python - <<'PY'
import torch
print("torch", torch.__version__, "| CUDA available:", torch.cuda.is_available(),
      "|", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")
PY
v3 music make-data insnotes "$out/insnotes-train" --seed 0 --quiet
v3 train --adapter music --data "$out/insnotes-train" --out "$out/run" --seed 1 --device "$device" --quiet
python - "$out/run/train_log.jsonl" "$device" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
first, last = rows[0], rows[-1]
rate = (last["step"] - first["step"]) / max(last["elapsed_s"] - first["elapsed_s"], 1e-9)
print(f"training on {sys.argv[2]}: {last['step']} steps, {rate:.1f} steps/s (log lines {first['step']}-{last['step']})")
PY
v3 music make-data insnotes "$out/insnotes-test" --seed 5 --cycles 2 --quiet
v3 eval --checkpoint "$out/run/checkpoint.pt" --data "$out/insnotes-test" --out "$out/eval" --device "$device" > "$out/eval.txt"
head -n 1 "$out/eval.txt"
python bench/transcribe.py --device "$device" --out "$out/bench.json"
