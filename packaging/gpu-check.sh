#!/usr/bin/env bash
# GAN Studio's GPU check: everything that needs a CUDA GPU, in one call of about 5 minutes
# (every step is time-boxed; together at most about 9.5 minutes).
#
#   bash packaging/gpu-check.sh     # results under $OUT (the device tool's), else ./gpu-check-out
#
# It installs nothing. On the lent H200 (see /work/.library/device/KINDS.md) python3 already has
# PyTorch, numpy, Pillow, safetensors, tqdm, imageio and pytest; only tomli-w is missing, so the
# call carries this checkout's copy of it:
#
#   run(command="bash packaging/gpu-check.sh", timeout_s=590,
#       carry=[".venv/lib/python3.11/site-packages/tomli_w"])
#
# What it does, each step time-boxed so one hang cannot eat the lease:
#   1. the machine: GPU, driver, torch, bf16 support
#   2. a smoke run: 40 trainer steps on CUDA, printing the fast-path decisions
#   3. ganstudio-bench at DCGAN-64 batch 128 (canonical vs GAN Studio vs the image-folder
#      pipeline, plus GAN Studio without the CUDA graph / channels_last / bf16 for attribution)
#   4. ganstudio-bench at DCGAN-64 batch 1024 (target: >= 120k images/s)
#   5. bf16 against fp32: two 3000-step trainings, sample grids and a Frechet distance
#   6. the CUDA-only tests (pytest -m cuda)
# Files written (flat, at most 8, as the device tool returns them): gpu-check.log,
# bench-b128.json, bench-b1024.json, quality.json, quality-fp32.png, quality-bf16.png,
# pytest-cuda.log. The last lines printed are the summary.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/gpu-check-out}"
mkdir -p "$OUT"
LOG="$OUT/gpu-check.log"
: > "$LOG"
PY="${PYTHON:-python3}"
# GPU_CHECK_QUICK=1 GPU_CHECK_DEVICE=cpu PYTHON=.venv/bin/python: a tiny dry run of the plumbing.
DEVICE="${GPU_CHECK_DEVICE:-cuda}"
if [ "${GPU_CHECK_QUICK:-0}" = 1 ]; then
    SIZE=32 B1=8 B2=16 WIDTH=8 QSTEPS=20 QBATCH=8 WIN=2 WSEC=0.2 SMOKE=6 WARM=2
else
    SIZE=64 B1=128 B2=1024 WIDTH=64 QSTEPS=3000 QBATCH=128 WIN=7 WSEC=1 SMOKE=40 WARM=25
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
STATUS=0

say() { printf '\n=== %s (%s)\n' "$*" "$(date +%T)" | tee -a "$LOG"; }
run() {  # run TIMEOUT_S COMMAND...: log everything, remember failures, never stop the script
    local limit=$1; shift
    timeout --kill-after=10 "$limit" "$@" >> "$LOG" 2>&1
    local rc=$?
    if [ $rc -ne 0 ]; then
        STATUS=1
        local why="exit $rc"
        [ $rc -eq 124 ] && why="timed out after ${limit}s"
        echo "!!! $why: $*" | tee -a "$LOG"
    fi
    return $rc
}

# tomli-w: carried from this checkout's .venv when the machine's python lacks it.
if ! "$PY" -c "import tomli_w" 2>/dev/null; then
    for site in "$ROOT"/.venv/lib/python3*/site-packages; do
        if [ -d "$site/tomli_w" ]; then
            mkdir -p /tmp/ganstudio-extra && cp -r "$site/tomli_w" /tmp/ganstudio-extra/
        fi
    done
    export PYTHONPATH="/tmp/ganstudio-extra:$PYTHONPATH"
fi
if ! "$PY" -c "import tomli_w, PIL, safetensors, numpy, torch" 2>>"$LOG"; then
    echo "missing Python packages (see $LOG); carry .venv/lib/python3.11/site-packages/tomli_w"
    exit 2
fi

say "1. machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem,temperature.gpu \
    --format=csv 2>&1 | tee -a "$LOG"
"$PY" - <<'PY' 2>&1 | tee -a "$LOG"
import torch
print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN",
      torch.backends.cudnn.version())
print("GPU", torch.cuda.get_device_name(0), "bf16", torch.cuda.is_bf16_supported())
PY

say "2. smoke run: $SMOKE steps on $DEVICE, fast-path decisions"
SIZE=$SIZE B1=$B1 DEVICE=$DEVICE SMOKE=$SMOKE WIDTH=$WIDTH run 75 "$PY" - <<'PY'
import os, tempfile, time, torch
from ganstudio.config import RunConfig
from ganstudio.engine.trainer import Trainer
config = RunConfig()
env = os.environ
for key, value in {"model.image_size": env["SIZE"], "train.batch_size": env["B1"],
                   "train.device": env["DEVICE"], "train.steps": env["SMOKE"],
                   "model.g_width": env["WIDTH"], "model.d_width": env["WIDTH"],
                   "train.log_every": 10}.items():
    config.set(key, value)
with tempfile.TemporaryDirectory() as tmp:
    trainer = Trainer(config, run_dir=tmp, threaded_observer=False)
    start = time.perf_counter()
    final = trainer.run()
    seconds = time.perf_counter() - start
    print(type(final).__name__, getattr(final, "message", ""), f"{seconds:.1f} s")
    for note in trainer.speed_notes:
        print("  ", note)
    graph = trainer._step_graph
    print("graph:", None if graph is None
          else f"{graph.captures} capture(s), {graph.replays} replays")
PY
grep -E "^ +|graph:|TrainingF" "$LOG" | tail -12

say "3. bench: DCGAN-$SIZE, batch $B1"
run 140 "$PY" -m ganstudio.bench --device "$DEVICE" --image-size $SIZE --batch-size $B1 \
    --width $WIDTH --windows $WIN --window-seconds $WSEC --warmup $WARM \
    --output "$OUT/bench-b128.json" \
    --compare train.cuda_graph=off --compare train.channels_last=off \
    --compare train.precision=fp32
say "4. bench: DCGAN-$SIZE, batch $B2"
run 90 "$PY" -m ganstudio.bench --device "$DEVICE" --image-size $SIZE --batch-size $B2 \
    --width $WIDTH --windows 5 --window-seconds $WSEC --warmup $WARM \
    --variants canonical,ganstudio --output "$OUT/bench-b1024.json" \
    --compare train.cuda_graph=off

say "5. quality: bf16 against fp32, $QSTEPS steps each"
run 130 "$PY" packaging/gpu_quality.py --out "$OUT" --steps $QSTEPS --image-size $SIZE \
    --batch-size $QBATCH --width $WIDTH --device "$DEVICE"

say "6. CUDA tests"
timeout --kill-after=10 120 "$PY" -m pytest -m cuda tests/engine/test_cuda_fast_path.py \
    -v -s -p no:cacheprovider > "$OUT/pytest-cuda.log" 2>&1
TESTS=$?
[ $TESTS -ne 0 ] && STATUS=1

say "summary"
{
    for f in "$OUT"/bench-b128.json "$OUT"/bench-b1024.json; do
        [ -f "$f" ] && "$PY" -c "import json, sys; from ganstudio.bench import format_table
print('\n\n'.join(format_table(json.load(open(sys.argv[1]))).split('\n\n')[:2]) + '\n')" "$f"
    done
    grep -E "^FD " "$LOG" | tail -1
    tail -3 "$OUT/pytest-cuda.log"
    echo "gpu-check status: $([ $STATUS -eq 0 ] && echo OK || echo FAILED, see gpu-check.log)"
} 2>&1 | tee -a "$LOG"
exit $STATUS
