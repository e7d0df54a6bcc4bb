#!/usr/bin/env bash
# One short GPU check (fits a 10-minute run on a lent GPU machine):
#   1. trains the InsNotes model on CUDA (same recipe as the shipped checkpoint)
#      and prints steps per second, then 300 steps on this machine's CPU for
#      the ratio;
#   2. evaluates the trained model (codebook accuracy) on a test set;
#   3. runs the transcription benchmark on CUDA and prints its table
#      (real-time factor included);
#   4. runs the same benchmark on this machine's CPU, so that the two speeds
#      come from one machine (skip with CPU_BASELINE=0).
# Usage: bash bench/gpu_check.sh [OUT_DIR]    (needs the project installed)
# Where SoundFont rendering does not work, render here and pass the results:
#   TRAIN_DATA=DIR TEST_DATA=DIR (from `v3 music make-data insnotes`) and
#   DEV_SET=FILE.npz (from `python bench/transcribe.py --save-dev FILE.npz`).
set -euo pipefail
out=${1:-$(mktemp -d)}
device=${DEVICE:-cuda}   # DEVICE=cpu runs the same check on the CPU
python - <<'PY'
import torch
print("torch", torch.__version__, "| CUDA available:", torch.cuda.is_available(),
      "|", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")
PY
train=${TRAIN_DATA:-$out/insnotes-train}
test=${TEST_DATA:-$out/insnotes-test}
[ -n "${TRAIN_DATA:-}" ] || v3 music make-data insnotes "$train" --seed 0 --quiet
[ -n "${TEST_DATA:-}" ] || v3 music make-data insnotes "$test" --seed 5 --cycles 2 --quiet
steps_per_second() {
    python - "$1/train_log.jsonl" "$2" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
first, last = rows[0], rows[-1]
rate = (last["step"] - first["step"]) / max(last["elapsed_s"] - first["elapsed_s"], 1e-9)
print(f"training on {sys.argv[2]}: {last['step']} steps, {rate:.1f} steps/s (log lines {first['step']}-{last['step']})")
PY
}
v3 train --adapter music --data "$train" --out "$out/run" --seed 1 --device "$device" --quiet
steps_per_second "$out/run" "$device"
if [ "$device" != cpu ]; then
    v3 train --adapter music --data "$train" --out "$out/run-cpu" --seed 1 --device cpu --quiet \
        --set train.steps=300
    steps_per_second "$out/run-cpu" cpu
fi
v3 eval --checkpoint "$out/run/checkpoint.pt" --data "$test" --out "$out/eval" --device "$device" > "$out/eval.txt"
head -n 1 "$out/eval.txt"
dev_args=()
[ -z "${DEV_SET:-}" ] || dev_args=(--load-dev "$DEV_SET")
python bench/transcribe.py --device "$device" --out "$out/bench.json" ${dev_args[@]+"${dev_args[@]}"}
if [ "${CPU_BASELINE:-1}" = 1 ] && [ "$device" != cpu ]; then
    python bench/transcribe.py --device cpu --out "$out/bench-cpu.json" ${dev_args[@]+"${dev_args[@]}"}
fi
