#!/usr/bin/env bash
# The exact pipeline that produced weights/ (see weights/MODEL_CARD.md). Each stage
# resumes or skips what is already done, so the script can be re-run after a kill.
#
#   bash scripts/train_weights.sh data      # gather and split the offline photos
#   bash scripts/train_weights.sh teacher   # train (or resume) the teacher: hours
#   bash scripts/train_weights.sh students  # teacher files, label bank, KD student + no-KD control
#   bash scripts/train_weights.sh evaluate  # held-out evaluation against the tuned unsharp mask
#   bash scripts/train_weights.sh export    # ONNX models with their evaluation, SHA256SUMS
#
# WORK (default /root/.cache/kdsharp) holds data, runs and the bank outside the
# work tree. The teacher's step budget is TEACHER_STEPS (a larger value with the
# same run folder extends a finished run: TEACHER_STEPS=11000 TEACHER_THREADS=1 was tried
# and stopped at 10500 with no validation gain, so best.json stays at step 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/root/.cache/kdsharp}
TRAIN=${TRAIN:-.venv/bin/kdsharp-train}
TEACHER_STEPS=${TEACHER_STEPS:-9000}
TEACHER_THREADS=${TEACHER_THREADS:-2}
DATA=$WORK/data/photos
RUNS=$WORK/runs
# The fast student with its detail path (an adaptive unsharp mask, see kdsharp_train.students).
STUDENT_ARCH='{"channels":16,"convs":1,"stride":4,"in_channels":1,"detail":2}'
STUDENT_STEPS=${STUDENT_STEPS:-60000}
# Same architecture, data (the bank), steps and seed for both; only the teacher term differs.
STUDENT_ARGS=(--arch fast --arch-args "$STUDENT_ARCH" --layout bank --train "$WORK/bank" --val "$DATA/val"
              --steps "$STUDENT_STEPS" --val-every 2000 --crop 112 --batch 16 --seed 0 --threads 1 --no-progress)

case "${1:-}" in
data)
    "$TRAIN" data --out "$DATA"
    ;;
teacher)
    mkdir -p "$RUNS"
    "$TRAIN" teacher --run-dir "$RUNS/teacher" --train "$DATA/train" --val "$DATA/val" \
        --steps "$TEACHER_STEPS" --threads "$TEACHER_THREADS" --precision bf16 --resume
    ;;
students)
    "$TRAIN" export "$RUNS/teacher/best.json" --out weights/teacher --teacher-files
    "$TRAIN" bank --teacher weights/teacher/teacher.json --out "$WORK/bank" --samples 12000 --crop 128 --threads 2
    # Two KD students (teacher term added to the ground truth term, or alone) and the no-KD
    # control; the tune folder picks which KD student ships (see evaluate).
    "$TRAIN" student --run-dir "$RUNS/detail60k" "${STUDENT_ARGS[@]}" --set distill.output=1.0 --resume &
    kd=$!
    "$TRAIN" student --run-dir "$RUNS/detail60k_kdonly" "${STUDENT_ARGS[@]}" --set distill.output=1.0 \
        --set loss.charbonnier=0 --resume &
    kdonly=$!
    "$TRAIN" student --run-dir "$RUNS/detail60k_nokd" "${STUDENT_ARGS[@]}" --resume &
    nokd=$!
    wait "$kd" "$kdonly" "$nokd"
    ;;
evaluate)
    "$TRAIN" evaluate --data "$DATA/val" --tune "$DATA/tune" --out "$WORK/eval" \
        --teacher weights/teacher/teacher.json \
        --students "$RUNS/fast60k/last.json" "$RUNS/fast60k_nokd/last.json" \
        --max-side 768 --threads 2 --no-speed
    ;;
export)
    # The final EMA weights of both (the same step budget); see the model card for why not "best".
    "$TRAIN" export "$RUNS/fast60k/last.json" --out weights/kdsharp-fast.onnx --evaluation "$WORK/eval/results.json"
    "$TRAIN" export "$RUNS/fast60k_nokd/last.json" --out weights/ablation/student_nokd.onnx \
        --evaluation "$WORK/eval/results.json"
    ;;
*)
    echo "usage: $0 data|teacher|students|evaluate|export" >&2
    exit 2
    ;;
esac
