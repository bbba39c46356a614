#!/usr/bin/env bash
# The exact pipeline that produced weights/ (see weights/MODEL_CARD.md). Each stage
# resumes or skips what is already done, so the script can be re-run after a kill.
#
#   bash scripts/train_weights.sh data      # gather and split the offline photos
#   bash scripts/train_weights.sh teacher   # train (or resume) the teacher: hours
#   bash scripts/train_weights.sh teacher-user  # fine-tune the shipped teacher on all photos and the users' mix
#   bash scripts/train_weights.sh evaluate-user # both teachers and the shipped students on the whole new suite
#   bash scripts/train_weights.sh bank-user # the shipped teacher's label bank (with each crop's degradation)
#   bash scripts/train_weights.sh diagnose  # issue 15: the fast student blind and told the degradation
#   bash scripts/train_weights.sh realtime  # issue 15: the redesigned real-time student, KD + its control
#   bash scripts/train_weights.sh quality   # issue 16: the quality rung + its control
#   bash scripts/train_weights.sh students  # teacher files, label bank, `fast` with KD (two ways) + its no-KD control
#   bash scripts/train_weights.sh detail    # experiment, not shipped: students with the detail path
#   bash scripts/train_weights.sh select    # compare the students on the tune photos (picks KD_RUN)
#   bash scripts/train_weights.sh evaluate  # held-out evaluation against the tuned unsharp mask
#   bash scripts/train_weights.sh export    # ONNX models with their evaluation, SHA256SUMS, card figures
#
# WORK (default /root/.cache/kdsharp) holds data, runs and the bank outside the
# work tree. The teacher's step budget is TEACHER_STEPS (a larger value with the same run folder
# extends a finished run; the first teacher's extension to 11000 was stopped at 10500 with no gain).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/root/.cache/kdsharp}
TRAIN=${TRAIN:-.venv/bin/kdsharp-train}
TEACHER_STEPS=${TEACHER_STEPS:-20000}
TEACHER_THREADS=${TEACHER_THREADS:-2}
# The teacher run folder under RUNS. "teacher20k" (the default) made the shipped teacher: started on
# 2026-11-21 with TEACHER_RUN=teacher20k TEACHER_STEPS=20000, resumed across
# sessions up to step 13 000, then resumed with TEACHER_STEPS=17000 (the cosine re-spanned to end at
# 17 000, lowering the learning rate from 2.9e-4 to 1.4e-4), and stopped at 14 550 after three
# validations below step 13 000's, which is its best.json (see the model card).
# "teacher" (TEACHER_RUN=teacher TEACHER_STEPS=9000) made the previous release's teacher and students.
TEACHER_RUN=${TEACHER_RUN:-teacher20k}
# Each teacher labels its own bank (a bank folder refuses a second teacher) and has its own student runs,
# tune comparison and evaluation.
BANK=$WORK/bank
S=""
[ "$TEACHER_RUN" = teacher ] || { BANK=$WORK/bank-$TEACHER_RUN; S=-$TEACHER_RUN; }
# The KD student that `export` ships as the default: fast60k (teacher term + ground truth) or
# fast60k_kdonly (teacher term alone; the shipped one), whichever `select` scores higher on tune.
KD_RUN=${KD_RUN:-fast60k_kdonly}
case "$KD_RUN" in fast60k | fast60k_kdonly) ;; *) echo "KD_RUN must be fast60k or fast60k_kdonly, not '$KD_RUN'" >&2; exit 2 ;; esac
DATA=$WORK/data/photos
# The fine-tuned teacher of issue 14 (stage teacher-user).
USER_RUN=${USER_RUN:-teacher_user}
USER_STEPS=${USER_STEPS:-12000}
RUNS=$WORK/runs
# Issue 15: the shipped teacher's label bank (stage bank-user) and the diagnostic's step budget.
UBANK=$WORK/bank-teacher_user
# The same bank four times as large (stage bank-user48k; its first 12 000 crops are UBANK's, same seeds), and
# twice as large (stage bank-user24k: the first 48 parts of that one).
UBANK48=$WORK/bank-teacher_user48k
UBANK24=$WORK/bank-teacher_user24k
# What every issue 15-16 student run shares: the fast family on that bank, validated on tune/, 112² crops,
# batch 16, seed 0, one thread (two runs side by side fill the two cores).
UB=(--arch fast --layout bank --train "$UBANK" --val "$DATA/tune" --crop 112 --batch 16 --seed 0 --threads 1 --no-progress)
# The floored per-crop loss (loss.psnr40) in place of the Charbonnier, and the teacher term in the same form.
P40=(--set loss.charbonnier=0 --set loss.psnr40=1 --set 'distill.output_loss="psnr40"')
DIAG_STEPS=${DIAG_STEPS:-20000}
FAST_JSON='{"channels":16,"convs":3,"stride":4,"in_channels":1}'
# The redesigned real-time student (issue 15) and the `quality` rung (issue 16); see the model card.
RT_JSON=${RT_JSON:-'{"channels":16,"convs":2,"stride":4,"in_channels":1,"linear":16}'}
RT_STEPS=${RT_STEPS:-20000}
Q_JSON=${Q_JSON:-'{"channels":32,"convs":6,"stride":4,"in_channels":1,"linear":16}'}
# Issue 16, fourth session: the `quality` candidate as a plain-conv RGB U-Net (students.UNetStudent), 102 GFLOP
# per 1080p frame, 0.38 s per megapixel through onnxruntime on the 2 cores.
QU_JSON=${QU_JSON:-'{"channels":16,"enc_blocks":[0,1,2],"middle_blocks":3,"dec_blocks":[1,1,1],"in_channels":3}'}
# The real-time student on R, G, B (issue 15, fifth session): the `quality` student's KD gain came from the
# teacher's denoising (chroma noise), which a luma student cannot learn; no linear path (it gave +0.01 dB).
RGB_JSON=${RGB_JSON:-'{"channels":16,"convs":2,"stride":4,"in_channels":3,"linear":0}'}
# Issue 15, sixth session: the levers not measured before, each added to RT_JSON (students.FastStudent):
# kernel prediction with bilinear coefficients (kpn), the local degradation estimate (stats), ECBSR's
# re-parameterised body convs (rep, folded at export), and the three together.
LEVERS_KPN='"kpn":2,"kpn_kernel":5'
LEVERS_STATS='"stats":4,"stats_window":7'
LEVERS_REP='"rep":true'
LEVERS_JSON=${LEVERS_JSON:-"${RT_JSON%\}},$LEVERS_KPN,$LEVERS_STATS,$LEVERS_REP}"}
QUALITY_STEPS=${QUALITY_STEPS:-5000}
STUDENT_STEPS=60000
COMMON=(--arch fast --layout bank --train "$BANK" --val "$DATA/val" --steps "$STUDENT_STEPS"
        --val-every 2000 --crop 112 --batch 16 --seed 0 --threads 1 --no-progress)
# `fast` (the default) and its no-KD control `nokd`: same architecture, bank, steps and seed.
FAST_ARGS=("${COMMON[@]}" --arch-args '{"channels":16,"convs":3,"stride":4,"in_channels":1}')
# Experiment (not shipped, see the model card): the fast student with its detail path (an adaptive
# unsharp mask, kdsharp_train.students), with the teacher term alone ("kdonly"), both terms, or none.
DETAIL_ARGS=("${COMMON[@]}" --arch-args '{"channels":16,"convs":1,"stride":4,"in_channels":1,"detail":2}')

# The finished runs among the named ones: this teacher's runs whose last.json is at the full step budget
# (the detail stage is optional; an unfinished run is left out, and `students`/`detail` resume it).
students() {
    local run
    for run in "$@"; do
        grep -qs "^ \"step\": $STUDENT_STEPS,\$" "$RUNS/$run$S/last.json" && echo "$RUNS/$run$S/last.json"
    done
    return 0
}

# Three students of one architecture side by side, one thread each, on this teacher's bank: NAME (teacher
# term + ground truth), NAME_kdonly (teacher term alone) and NAME_nokd (ground truth alone, the control).
three() {
    local name=$1 kd kdonly nokd
    shift
    "$TRAIN" student --run-dir "$RUNS/$name$S" "$@" --set distill.output=1.0 --resume &
    kd=$!
    "$TRAIN" student --run-dir "$RUNS/${name}_kdonly$S" "$@" --set distill.output=1.0 --set loss.charbonnier=0 --resume &
    kdonly=$!
    "$TRAIN" student --run-dir "$RUNS/${name}_nokd$S" "$@" --resume &
    nokd=$!
    wait "$kd" "$kdonly" "$nokd"
}

# Two students side by side, one thread each, on the shipped teacher's bank: NAME_kd (teacher term + ground
# truth) and NAME_nokd (ground truth alone, the same-budget control).
pair() {
    local name=$1 kd nokd
    shift
    "$TRAIN" student --run-dir "$RUNS/${name}_kd" "$@" --set distill.output=1.0 --resume &
    kd=$!
    "$TRAIN" student --run-dir "$RUNS/${name}_nokd" "$@" --resume &
    nokd=$!
    wait "$kd" "$nokd"
}

# The users' suite on SPLIT (tune: choosing; val: reporting) into $WORK/OUT for the students given, 256-px
# centre crops, two threads, the unsharp masks tuned on tune/ (issues 15-16's protocol). BASELINES, when set,
# names an earlier evaluation's results.json whose tuning is reused (the evaluator checks that it was tuned
# on the same photos with the same settings).
students_suite() {
    local split=$1 out=$2
    shift 2
    "$TRAIN" evaluate --data "$DATA/$split" --tune "$DATA/tune" --out "$WORK/$out" --students "$@" \
        --max-side 256 --threads 2 --no-speed ${BASELINES:+--baselines-from "$BASELINES"}
}

# Ship a pair (issues 15-16): NAME_kd as KD_OUT and NAME_nokd as NOKD_OUT, each with its fp16 sibling and the
# val/ scores of evaluation EVAL ($WORK/EVAL/results.json) embedded; further arguments go to both exports.
ship() {
    local name=$1 kd_out=$2 nokd_out=$3 eval=$4
    shift 4
    "$TRAIN" export "$RUNS/${name}_kd/last.json" --out "$kd_out" --fp16 --evaluation "$WORK/$eval/results.json" "$@"
    "$TRAIN" export "$RUNS/${name}_nokd/last.json" --out "$nokd_out" --fp16 --evaluation "$WORK/$eval/results.json" "$@"
}

# The card's ladder and tables (issues 15-16) from $WORK/eval-TAG and $WORK/select-TAG: FAST_ROW is the
# `fast` row's method, QUALITY the quality rung's "label=method"; the teacher's row is in eval-TAG, or in
# TEACHERS (another results.json of the same protocol) when given.
card() {
    local tag=$1 fast_row=$2 quality=$3 teachers=${4:-}
    "$TRAIN" ladder --results "$WORK/eval-$tag/results.json" ${teachers:+"$teachers"} --out weights/card/ladder.png \
        --rung "fast=$fast_row" --rung "$quality" --rung "max=teacher: teacher/teacher.json"
    cp "$WORK/eval-$tag/results.md" "weights/card/results-$tag.md"
    cp "$WORK/select-$tag/results.md" "weights/card/select-$tag.md"
}

# A loss probe (issue 15): the real-time student trained on the ground truth with loss LOSS in place of the
# Charbonnier for STEPS steps (validated on tune), then scored beside rt_nokd on the users' suite.
loss_probe() {
    local name=$1 loss=$2 steps=$3
    "$TRAIN" student --run-dir "$RUNS/$name" "${UB[@]}" --steps "$steps" --val-every $((steps / 2)) \
        --arch-args "$RT_JSON" --set loss.charbonnier=0 --set "loss.$loss=1" --resume
    students_suite val "eval-${name//_/-}" "$RUNS/$name/last.json" "$RUNS/rt_nokd/last.json"
    "$TRAIN" compare "$WORK/eval-${name//_/-}/results.json" "student: $name/last.json" "student: rt_nokd/last.json"
}

case "${1:-}" in
data)
    "$TRAIN" data --out "$DATA" --deb-cache "$WORK/debs"
    ;;
teacher)
    mkdir -p "$RUNS"
    "$TRAIN" teacher --run-dir "$RUNS/$TEACHER_RUN" --train "$DATA/train" --val "$DATA/val" \
        --steps "$TEACHER_STEPS" --threads "$TEACHER_THREADS" --precision bf16 --resume
    ;;
teacher-user)
    # Issue 14: the shipped teacher (teacher20k) fine-tuned on every offline photo (data stage) with the
    # users' degradation mix (degrade.USER_MIX: library resamplers, anisotropic and motion blur,
    # Poisson-Gaussian and chroma noise, Pillow/OpenCV JPEG, H.264/HEVC, chains, a clean share).
    # Validated on tune/ (val/ stays for the evaluation alone).
    mkdir -p "$RUNS"
    "$TRAIN" teacher --run-dir "$RUNS/$USER_RUN" --train "$DATA/train" --val "$DATA/tune" \
        --init weights/teacher/teacher.json --degrade-mix user --crop 160 --batch 6 --lr 3e-4 \
        --set optim.warmup=200 --set data.val_crop=160 --val-every 1000 \
        --steps "$USER_STEPS" --threads "$TEACHER_THREADS" --precision bf16 --resume --no-progress
    ;;
teacher-psnr40)
    # Issues 15-16, fourth session: the shipped teacher fine-tuned with the loss that moved the students: each
    # crop's log MSE floored at 40 dB (loss.psnr40; a summed Charbonnier is ruled by the noisy crops and left
    # mild blur alone: the teacher gains +0.11 dB on gauss_s0.6, the tuned unsharp mask +7.8) and noharm 2 (the
    # floor would otherwise let it take clean crops down to 40 dB). One thread, beside quality-unet;
    # TP40_STEPS (1 000) steps on a cosine from 1e-4, validated on tune/ every 500.
    mkdir -p "$RUNS"
    "$TRAIN" teacher --run-dir "$RUNS/teacher_p40" --train "$DATA/train" --val "$DATA/tune" \
        --init weights/teacher/teacher.json --degrade-mix user --crop 160 --batch 6 --lr 1e-4 \
        --set optim.warmup=100 --set data.val_crop=160 --val-every 500 --set loss.charbonnier=0 \
        --set loss.psnr40=1 --set loss.noharm=2 --steps "${TP40_STEPS:-1000}" --threads 1 --precision bf16 \
        --resume --no-progress
    ;;
evaluate-user)
    # Issue 14's evaluation: every suite case (the first eight, the users' cases, clean) on val/, with
    # Polyblur and both unsharp masks tuned on tune/, the shipped teacher beside the fine-tuned one
    # (USER_CKPT: best.json by default), and the shipped students. 256-px centre crops keep it under
    # an hour on two cores.
    "$TRAIN" evaluate --data "$DATA/val" --tune "$DATA/tune" --out "$WORK/eval-user" \
        --teacher weights/teacher/teacher.json "$RUNS/$USER_RUN/${USER_CKPT:-best.json}" \
        --students weights/kdsharp-fast.onnx weights/ablation/student_nokd.onnx \
        --max-side 256 --threads 2 --no-speed
    ;;
students)
    "$TRAIN" export "$RUNS/$TEACHER_RUN/best.json" --out weights/teacher --teacher-files
    "$TRAIN" bank --teacher weights/teacher/teacher.json --out "$BANK" --samples 12000 --crop 128 --threads 2
    three fast60k "${FAST_ARGS[@]}"
    ;;
bank-user)
    # Issue 15: the shipped teacher (issue 14's fine-tune) labels 12 000 crops of every training photo under
    # the users' mix it learned; each crop keeps its degradation's four conditions (conditions.py).
    "$TRAIN" bank --teacher weights/teacher/teacher.json --out "$UBANK" --samples 12000 --crop 128 --threads 2
    ;;
bank-user48k)
    # Issues 15-16, fifth session: "teacher labels on many more inputs": bank-user's bank grown to 48 000
    # crops. Its parts are hard-linked in first (the same teacher, degradations and per-part seeds give the
    # same parts), so only the 36 000 new crops are labelled; resumable like every bank. Not its
    # settings.json: the bank command writes its own (the data settings gained a field since bank-user).
    mkdir -p "$UBANK48"
    [ -e "$UBANK48/part-0000.safetensors" ] || cp -al "$UBANK"/part-*.safetensors "$UBANK48"/
    "$TRAIN" bank --teacher weights/teacher/teacher.json --out "$UBANK48" --samples 48000 --crop 128 --threads 2
    ;;
quality-bigbank)
    # Issue 16, for the next sessions: the `quality` U-Net pair on the 48 000-crop bank (bank-user48k first)
    # for 30 000 steps with quality-unet's losses (QBB_NOHARM, 2): qbb_kd beside its control qbb_nokd,
    # resumable (about 4.5 h with both cores). The later --train replaces the one in UB.
    pair qbb "${UB[@]}" --train "$UBANK48" --arch unet --steps 30000 --val-every 10000 --arch-args "$QU_JSON" \
        "${P40[@]}" --set loss.noharm="${QBB_NOHARM:-2}"
    ;;
diagnose)
    # Issue 15's diagnostic: today's `fast` architecture on the shipped teacher's bank (bank-user), ground
    # truth alone, blind (diag_blind) and told each crop's true degradation as four constant input planes
    # (diag_told), same steps, seed and bank. Stage evaluate-15 scores both on the users' suite (the told
    # one is given each case's conditions, as the tuned unsharp mask is given its setting).
    DIAG=("${UB[@]}" --steps "$DIAG_STEPS" --val-every 10000)
    "$TRAIN" student --run-dir "$RUNS/diag_blind" "${DIAG[@]}" --arch-args "$FAST_JSON" --resume &
    blind=$!
    "$TRAIN" student --run-dir "$RUNS/diag_told" "${DIAG[@]}" --arch-args "${FAST_JSON%\}},\"condition\":4}" --resume &
    told=$!
    wait "$blind" "$told"
    ;;
realtime)
    # Issue 15: the redesigned real-time student (FastStudent with the linear path, RT_JSON) on the shipped
    # teacher's bank, RT_STEPS steps: rt_kd (teacher term + ground truth) beside rt_nokd (the same-budget
    # control), side by side, one thread each.
    pair rt "${UB[@]}" --steps "$RT_STEPS" --val-every 10000 --arch-args "$RT_JSON"
    ;;
quality)
    # Issue 16: the `quality` rung, a wider and deeper FastStudent (Q_JSON), same bank, QUALITY_STEPS steps,
    # distilled (q_kd: teacher term + ground truth) beside its same-budget control (q_nokd).
    pair q "${UB[@]}" --steps "$QUALITY_STEPS" --val-every 2500 --arch-args "$Q_JSON"
    ;;
evaluate-teacher-15)
    # Issues 15-16: the shipped teacher (the `max` rung) on the users' suite as it stands now (the H.264 case
    # codes without mbtree since this session: every run the same), beside input, unsharp masks and Polyblur.
    "$TRAIN" evaluate --data "$DATA/val" --tune "$DATA/tune" --out "$WORK/eval-15-teacher" \
        --teacher weights/teacher/teacher.json --max-side 256 --threads "${EVAL_THREADS:-2}" --no-speed
    ;;
evaluate-15)
    # Issues 15-16: this session's students on the users' suite (the same protocol as evaluate-teacher-15:
    # 40 val photos, 256-px crops, the same seeds), with the shipped students for reference; then the
    # paired intervals: told − blind (the diagnostic), KD − control for the real-time and quality students.
    "$TRAIN" evaluate --data "$DATA/val" --tune "$DATA/tune" --out "$WORK/eval-15" \
        --students weights/kdsharp-fast.onnx "$RUNS/diag_blind/last.json" "$RUNS/diag_told/last.json" \
        "$RUNS/rt_kd/last.json" "$RUNS/rt_nokd/last.json" "$RUNS/q_kd/last.json" "$RUNS/q_nokd/last.json" \
        --max-side 256 --threads 2 --no-speed
    R=$WORK/eval-15/results.json
    "$TRAIN" compare "$R" "student: diag_told/last.json (told the degradation)" "student: diag_blind/last.json"
    "$TRAIN" compare "$R" "student: rt_kd/last.json" "student: rt_nokd/last.json"
    "$TRAIN" compare "$R" "student: q_kd/last.json" "student: q_nokd/last.json"
    "$TRAIN" compare "$R" "student: rt_kd/last.json" "student: kdsharp-fast.onnx"
    ;;
quality-long)
    # Issue 16, for the next session: the quality candidate on a full schedule (QUALITY_LONG_STEPS, 60 000 by
    # default: about 1.6 CPU-hours a run), started at the end of 2026-12-01's session and resumed after it.
    pair q60k "${UB[@]}" --steps "${QUALITY_LONG_STEPS:-60000}" --val-every 10000 --arch-args "$Q_JSON"
    ;;
quality-p40)
    # Issue 16: the quality candidate (Q_JSON) with the loss that moved the real-time probe: each crop's
    # log MSE floored at 40 dB (loss.psnr40) for the ground truth, and for qp40_kd the teacher term in the
    # same form; qp40_nokd is its same-budget control. QP40_STEPS steps (20 000 by default).
    pair qp40 "${UB[@]}" --steps "${QP40_STEPS:-20000}" --val-every 10000 --arch-args "$Q_JSON" "${P40[@]}"
    ;;
realtime-p40)
    # Issue 15: the real-time student (RT_JSON) with quality-p40's loss: rtp40_kd (ground truth and teacher
    # terms, both loss.psnr40) beside rtp40_nokd (ground truth alone), RTP40_STEPS steps (24 000 by default).
    pair rtp40 "${UB[@]}" --steps "${RTP40_STEPS:-24000}" --val-every 12000 --arch-args "$RT_JSON" "${P40[@]}"
    ;;
realtime-noharm)
    # Issue 15: as realtime-p40, plus loss.noharm=2 (each crop's shortfall below its own input, in the same
    # log units): rtnh_kd beside its control rtnh_nokd. The probe (6 000 steps, tune) kept gauss_s0.6 and the
    # resampling cases at or above the input for 0.04 dB of mean.
    pair rtnh "${UB[@]}" --steps "${RTP40_STEPS:-24000}" --val-every 12000 --arch-args "$RT_JSON" "${P40[@]}" \
        --set loss.noharm=2
    ;;
probe-rgb)
    # Issue 15, fifth session, a probe: the RGB real-time student (RGB_JSON) with realtime-noharm's losses for
    # 6 000 steps, prgb_kd beside its control prgb_nokd, then both beside the shipped `fast` on tune/.
    pair prgb "${UB[@]}" --steps 6000 --val-every 6000 --arch-args "$RGB_JSON" "${P40[@]}" --set loss.noharm=2
    students_suite tune select-prgb weights/kdsharp-fast.onnx "$RUNS/prgb_kd/last.json" "$RUNS/prgb_nokd/last.json"
    "$TRAIN" compare "$WORK/select-prgb/results.json" "student: prgb_kd/last.json" "student: prgb_nokd/last.json"
    ;;
probes-15)
    # Issue 15, sixth session: each unmeasured lever on realtime-noharm's recipe with the teacher term (as the
    # shipped `fast`), 6 000 steps, validated on tune/ by the trainer, two runs at a time: the plain real-time
    # student (p15_base), each lever alone (p15_kpn, p15_stats, p15_rep) and all three (p15_all).
    P15=("${UB[@]}" --steps 6000 --val-every 3000 "${P40[@]}" --set loss.noharm=2 --set distill.output=1.0)
    probe15() { "$TRAIN" student --run-dir "$RUNS/p15_$1" "${P15[@]}" --arch-args "$2" --resume; }
    probe15 base "$RT_JSON" & probe15 all "$LEVERS_JSON" & wait
    probe15 kpn "${RT_JSON%\}},$LEVERS_KPN}" & probe15 stats "${RT_JSON%\}},$LEVERS_STATS}" & wait
    probe15 rep "${RT_JSON%\}},$LEVERS_REP}"
    ;;
realtime-levers)
    # Issue 15, sixth session: the real-time student with the levers (LEVERS_JSON) on realtime-noharm's full
    # schedule and losses: rtlv_kd beside its control rtlv_nokd, resumable. Not run (the probes, probes-15,
    # showed nothing to scale up), so no evaluation scores it and ship-fast does not take it.
    pair rtlv "${UB[@]}" --steps "${RTP40_STEPS:-24000}" --val-every 12000 --arch-args "$LEVERS_JSON" "${P40[@]}" \
        --set loss.noharm=2
    ;;
bank-user24k)
    # Issue 15, sixth session: bank-user's bank twice as large, from the parts bank-user48k has written (the
    # same teacher, settings and per-part seeds, so part i is the same crops in both): hard-linked, then the
    # bank command finds every part present and writes the manifest. Needs bank-user48k's first 48 parts.
    mkdir -p "$UBANK24"
    for i in $(seq -f %04g 0 47); do
        [ -e "$UBANK24/part-$i.safetensors" ] || cp -l "$UBANK48/part-$i.safetensors" "$UBANK24/"
    done
    "$TRAIN" bank --teacher weights/teacher/teacher.json --out "$UBANK24" --samples 24000 --crop 128 --threads 2
    ;;
realtime-bigbank)
    # Issue 15, sixth session: "teacher labels on many more inputs than have ground truth": the shipped `fast`'s
    # recipe (realtime-noharm: RT_JSON, psnr40 + noharm 2, 24 000 steps) on the 24 000-crop bank (bank-user24k,
    # twice bank-user's crops from the same photos and teacher): rtb24_kd beside its control rtb24_nokd.
    pair rtb24 "${UB[@]}" --train "$UBANK24" --steps "${RTP40_STEPS:-24000}" --val-every 12000 --arch-args "$RT_JSON" \
        "${P40[@]}" --set loss.noharm=2
    ;;
realtime-safe)
    # Issue 15, sixth session: realtime-bigbank with the no-harm term at RTSF_NOHARM (3) instead of 2, for the
    # one case the shipped `fast` still makes worse (gauss_s0.6, -0.08 dB on val/): rtsf_kd beside rtsf_nokd.
    # Chosen on tune/ (select-safe) only if no case there is below the input and its mean is within 0.01 dB of
    # the shipped `fast`'s (the rule set before training).
    pair rtsf "${UB[@]}" --train "$UBANK24" --steps "${RTP40_STEPS:-24000}" --val-every 12000 --arch-args "$RT_JSON" \
        "${P40[@]}" --set loss.noharm="${RTSF_NOHARM:-3}"
    ;;
select-safe)
    students_suite tune select-sf weights/kdsharp-fast.onnx "$RUNS"/rtsf_{kd,nokd}/last.json "$RUNS/rtb24_kd/last.json"
    "$TRAIN" compare "$WORK/select-sf/results.json" "student: rtsf_kd/last.json" "student: rtsf_nokd/last.json"
    ;;
evaluate-safe)
    students_suite val eval-sf weights/kdsharp-fast.onnx "$RUNS"/rtsf_{kd,nokd}/last.json "$RUNS/rtb24_kd/last.json"
    R=$WORK/eval-sf/results.json
    "$TRAIN" compare "$R" "student: rtsf_kd/last.json" "student: rtsf_nokd/last.json"
    "$TRAIN" compare "$R" "student: rtsf_kd/last.json" "student: rtb24_kd/last.json"
    ;;
select-lv)
    # Issue 15, sixth session: the lever probes and the 24 000-crop bank's pair beside the shipped `fast` on tune/
    # (the choice; val/ only reports, stage evaluate-lv).
    students_suite tune select-lv weights/kdsharp-fast.onnx "$RUNS"/rtb24_{kd,nokd}/last.json \
        "$RUNS"/p15_{base,kpn,stats,rep,all}/last.json
    "$TRAIN" compare "$WORK/select-lv/results.json" "student: rtb24_kd/last.json" "student: rtb24_nokd/last.json"
    "$TRAIN" compare "$WORK/select-lv/results.json" "student: rtb24_kd/last.json" "student: kdsharp-fast.onnx"
    ;;
evaluate-lv)
    # Issue 15, sixth session: the same students on val/ (the teacher's row is evaluate-teacher-p40's, same
    # photos, crops and seeds), and the paired intervals: KD - control and against `fast` for the bank's pair,
    # the probes against their plain baseline.
    students_suite val eval-lv weights/kdsharp-fast.onnx "$RUNS"/rtb24_{kd,nokd}/last.json \
        "$RUNS"/p15_{base,kpn,stats,rep,all}/last.json
    R=$WORK/eval-lv/results.json
    "$TRAIN" compare "$R" "student: rtb24_kd/last.json" "student: rtb24_nokd/last.json"
    "$TRAIN" compare "$R" "student: rtb24_kd/last.json" "student: kdsharp-fast.onnx"
    "$TRAIN" compare "$R" "student: p15_kpn/last.json" "student: p15_base/last.json"
    "$TRAIN" compare "$R" "student: p15_all/last.json" "student: p15_base/last.json"
    ;;
realtime-rgb)
    # Issue 15: the RGB real-time student on realtime-noharm's full schedule (RTP40_STEPS, 24 000): rtrgb_kd
    # beside its control rtrgb_nokd, resumable.
    pair rtrgb "${UB[@]}" --steps "${RTP40_STEPS:-24000}" --val-every 12000 --arch-args "$RGB_JSON" "${P40[@]}" \
        --set loss.noharm=2
    ;;
probes-levers)
    # Issue 15, probes (not shipped): the real-time student with loss.psnr40 for 6 000 steps (as probe-psnr40,
    # validated on tune/ by the trainer, metrics.jsonl), one lever each: a dilated last conv (probe_dil4), the
    # teacher term in the same form (probe_p40kd), loss.noharm=2 (probe_noharm), the bank's noisy or coded
    # crops drawn half as often (probe_mix).
    P=("${UB[@]}" --steps 6000 --val-every 3000 --set loss.charbonnier=0 --set loss.psnr40=1)
    "$TRAIN" student --run-dir "$RUNS/probe_dil4" "${P[@]}" --arch-args "${RT_JSON%\}},\"dilation\":4}" --resume
    "$TRAIN" student --run-dir "$RUNS/probe_p40kd" "${P[@]}" --arch-args "$RT_JSON" --set 'distill.output_loss="psnr40"' \
        --set distill.output=1.0 --resume
    "$TRAIN" student --run-dir "$RUNS/probe_noharm" "${P[@]}" --arch-args "$RT_JSON" --set loss.noharm=2 --resume
    "$TRAIN" student --run-dir "$RUNS/probe_mix" "${P[@]}" --arch-args "$RT_JSON" --set data.bank_noisy_weight=0.5 --resume
    # Third session's last probe: noharm beside the summed Charbonnier (the previous `fast`'s loss) instead of psnr40.
    "$TRAIN" student --run-dir "$RUNS/probe_charb_noharm" "${P[@]}" --arch-args "$RT_JSON" --set loss.psnr40=0 \
        --set loss.charbonnier=1 --set loss.noharm=2 --resume
    ;;
quality-kdonly)
    # Issue 16, for the next session: the quality candidate learning the teacher alone (qko_kd: the teacher term
    # in loss.psnr40's form, no ground-truth term; the teacher is the robust one, 3 cases below the input at
    # worst -0.14 dB) beside its same-budget control on the ground truth (qko_nokd), QKO_STEPS (60 000) steps.
    QKO=("${UB[@]}" --steps "${QKO_STEPS:-60000}" --val-every 10000 --arch-args "$Q_JSON" --set loss.charbonnier=0)
    "$TRAIN" student --run-dir "$RUNS/qko_kd" "${QKO[@]}" --set distill.output=1.0 --set 'distill.output_loss="psnr40"' --resume &
    kd=$!
    "$TRAIN" student --run-dir "$RUNS/qko_nokd" "${QKO[@]}" --set loss.psnr40=1 --resume &
    nokd=$!
    wait "$kd" "$nokd"
    ;;
quality-unet)
    # Issue 16, fourth session: the quality candidate as a U-Net (QU_JSON) with the shipped `fast`'s loss
    # (psnr40 + noharm 2, the teacher term in psnr40 form for qu_kd), QU_STEPS steps (8 000 by default: one
    # session on one thread each), beside its same-budget control qu_nokd.
    pair qu "${UB[@]}" --arch unet --steps "${QU_STEPS:-8000}" --val-every 2500 --arch-args "$QU_JSON" "${P40[@]}" \
        --set loss.noharm=2
    ;;
evaluate-teacher-p40)
    # Fourth session: teacher-psnr40's best (chosen on tune/ by the trainer's validation) beside the shipped
    # teacher on val/ (evaluate-p40's protocol, one thread while quality-unet trains), and their paired interval.
    "$TRAIN" evaluate --data "$DATA/val" --tune "$DATA/tune" --out "$WORK/eval-qu-teachers" \
        --teacher weights/teacher/teacher.json "$RUNS/teacher_p40/best.json" --max-side 256 --threads 1 --no-speed
    "$TRAIN" compare "$WORK/eval-qu-teachers/results.json" "teacher: teacher_p40/best.json" "teacher: teacher/teacher.json"
    ;;
quality-unet-nh)
    # Issue 16: quality-unet with noharm 4 (qu_kd fell below the input on 6 val/ cases, up to -1.24 dB on
    # gauss_s0.6) on a longer schedule (QUNH_STEPS, 9 000: its tune validation still rose at 8 000): qunh_kd
    # beside its control qunh_nokd, resumable. (Started in the fourth session with 20 000 steps; the fifth
    # resumed both from step 1 000 with 11 000 and from step 4 500 with 9 000, to finish within the session:
    # each resumption moved the cosine's learning rate, by 1 % and then from 1.25e-3 to 1.02e-3.)
    pair qunh "${UB[@]}" --arch unet --steps "${QUNH_STEPS:-9000}" --val-every 5000 --arch-args "$QU_JSON" \
        "${P40[@]}" --set loss.noharm=4
    ;;
select-qu)
    # Issue 16, fourth session: the U-Net quality pair beside the shipped `fast` on tune/ (what decides whether
    # qu_kd ships as `quality`: above `fast` on the mean and on the worst case against the input).
    students_suite tune select-qu weights/kdsharp-fast.onnx "$RUNS/qu_kd/last.json" "$RUNS/qu_nokd/last.json"
    ;;
evaluate-qu)
    # Issue 16, fourth session: the same on val/ (evaluate-p40's protocol; the teachers' rows are
    # evaluate-teacher-p40's, same photos, crops and seeds), and the paired intervals: KD - control, the
    # candidate against `fast`.
    students_suite val eval-qu weights/kdsharp-fast.onnx "$RUNS/qu_kd/last.json" "$RUNS/qu_nokd/last.json"
    R=$WORK/eval-qu/results.json
    "$TRAIN" compare "$R" "student: qu_kd/last.json" "student: qu_nokd/last.json"
    "$TRAIN" compare "$R" "student: qu_kd/last.json" "student: kdsharp-fast.onnx"
    ;;
select-qunh)
    # Issue 16, fifth session: quality-unet-nh's pair beside the shipped `fast` and `quality` on tune/ (what
    # decides whether qunh_kd replaces `quality`: a higher mean and fewer or shallower cases below the input).
    students_suite tune select-qunh weights/kdsharp-fast.onnx weights/kdsharp-quality.onnx \
        "$RUNS/qunh_kd/last.json" "$RUNS/qunh_nokd/last.json"
    ;;
evaluate-qunh)
    # Issue 16, fifth session: the same on val/ (the teachers' rows are evaluate-teacher-p40's, same protocol),
    # and the paired intervals: KD - control, the candidate against the shipped `quality` and `fast`.
    students_suite val eval-qunh weights/kdsharp-fast.onnx weights/kdsharp-quality.onnx \
        "$RUNS/qunh_kd/last.json" "$RUNS/qunh_nokd/last.json"
    R=$WORK/eval-qunh/results.json
    "$TRAIN" compare "$R" "student: qunh_kd/last.json" "student: qunh_nokd/last.json"
    "$TRAIN" compare "$R" "student: qunh_kd/last.json" "student: kdsharp-quality.onnx"
    "$TRAIN" compare "$R" "student: qunh_kd/last.json" "student: kdsharp-fast.onnx"
    ;;
select-p40)
    # Issues 15-16: the psnr40 students (with and without loss.noharm) beside the shipped `fast` on tune/ (the users' suite, 28 photos): the
    # comparison that decides what ships (val/ only reports, stage evaluate-p40).
    students_suite tune select-p40 weights/kdsharp-fast.onnx "$RUNS/rtp40_kd/last.json" "$RUNS/rtp40_nokd/last.json" \
        "$RUNS/rtnh_kd/last.json" "$RUNS/rtnh_nokd/last.json" "$RUNS/qp40_kd/last.json" "$RUNS/qp40_nokd/last.json"
    ;;
evaluate-p40)
    # Issues 15-16: the same students on val/ with the teacher (evaluate-15's protocol), and the paired
    # intervals: KD - control for each pair, each new student against the shipped `fast`.
    "$TRAIN" evaluate --data "$DATA/val" --tune "$DATA/tune" --out "$WORK/eval-p40" \
        --teacher weights/teacher/teacher.json \
        --students weights/kdsharp-fast.onnx "$RUNS/rtp40_kd/last.json" "$RUNS/rtp40_nokd/last.json" \
        "$RUNS/rtnh_kd/last.json" "$RUNS/rtnh_nokd/last.json" \
        "$RUNS/qp40_kd/last.json" "$RUNS/qp40_nokd/last.json" --max-side 256 --threads 2 --no-speed
    R=$WORK/eval-p40/results.json
    "$TRAIN" compare "$R" "student: rtp40_kd/last.json" "student: rtp40_nokd/last.json"
    "$TRAIN" compare "$R" "student: rtnh_kd/last.json" "student: rtnh_nokd/last.json"
    "$TRAIN" compare "$R" "student: qp40_kd/last.json" "student: qp40_nokd/last.json"
    "$TRAIN" compare "$R" "student: rtp40_kd/last.json" "student: kdsharp-fast.onnx"
    "$TRAIN" compare "$R" "student: rtnh_kd/last.json" "student: kdsharp-fast.onnx"
    "$TRAIN" compare "$R" "student: qp40_kd/last.json" "student: kdsharp-fast.onnx"
    ;;
ship-quality)
    # Issue 16: the `quality` rung (qu_kd, the U-Net) and its same-budget control (qu_nokd), each with its fp16
    # sibling and its val/ scores embedded (evaluate-qu).
    # QU_SHIP picks the pair: qu (fourth session, scored by evaluate-qu) or qunh (fifth, evaluate-qunh).
    case "${QU_SHIP:-qu}" in qu | qunh) ;; *) echo "QU_SHIP must be qu or qunh, not '${QU_SHIP}'" >&2; exit 2 ;; esac
    # Since the fifth session with int8 siblings too, which the core runs on the CPU (1.75x faster here),
    # calibrated on 32 degraded crops of train/.
    ship "${QU_SHIP:-qu}" weights/kdsharp-quality.onnx weights/ablation/quality_nokd.onnx "eval-${QU_SHIP:-qu}" \
        --int8 --calib "$DATA/train"
    ;;
card-qu)
    # Issues 15-16, fourth session: the card's ladder and tables from evaluate-qu and evaluate-teacher-p40 (one
    # protocol: the same val/ photos, crops and seeds), the shipped files named.
    card qu "student: kdsharp-fast.onnx" "quality=student: qu_kd/last.json" "$WORK/eval-qu-teachers/results.json"
    cp "$WORK/eval-qu-teachers/results.md" weights/card/results-qu-teachers.md
    ;;
evaluate-int8)
    # Fifth session: the shipped `quality` as float32 beside its int8 sibling (what the core runs on the CPU)
    # on val/, and their paired interval.
    students_suite val eval-int8 weights/kdsharp-quality.onnx weights/kdsharp-quality.int8.onnx
    "$TRAIN" compare "$WORK/eval-int8/results.json" "student: kdsharp-quality.int8.onnx" "student: kdsharp-quality.onnx"
    ;;
card-qunh)
    # Issue 16, fifth session: the same from evaluate-qunh, when qunh_kd ships as `quality`.
    card qunh "student: kdsharp-fast.onnx" "quality=student: qunh_kd/last.json" "$WORK/eval-qu-teachers/results.json"
    ;;
ship-fast)
    # Issue 15: the real-time pair that select-p40 (or select-lv) picked (RT_SHIP), ${RT_SHIP}_kd as `fast`
    # and ${RT_SHIP}_nokd as its control, with fp16 siblings and val/ scores.
    # rtb24 (sixth session) is scored by evaluate-lv, rtsf by evaluate-safe, the others by evaluate-p40.
    case "${RT_SHIP:-}" in rtp40 | rtnh) ev=eval-p40 ;; rtb24) ev=eval-lv ;; rtsf) ev=eval-sf ;;
        *) echo "RT_SHIP must be rtp40, rtnh, rtb24 or rtsf, not '${RT_SHIP:-}'" >&2; exit 2 ;; esac
    ship "$RT_SHIP" weights/kdsharp-fast.onnx weights/ablation/student_nokd.onnx "$ev"
    ;;
probe-psnr)
    # Issue 15, a probe (not shipped): the real-time architecture with the ground truth alone, but each crop's
    # log MSE (loss.psnr) in place of the summed Charbonnier, 10 000 steps. It learned the identity.
    loss_probe probe_psnr psnr 10000
    ;;
probe-psnr40)
    # Issue 15, a probe (not shipped): as probe-psnr, with the floor (loss.psnr40: every crop alike up to
    # 40 dB), 6 000 steps.
    loss_probe probe_psnr40 psnr40 6000
    ;;
ladder-15)
    # Issue 16 as shipped this session: the teacher as the `max` rung (fused layer norm) with its fp16
    # sibling; fp16 siblings of `fast` and `nokd` made from their files (their checkpoints are gone); the
    # card's ladder from the two evaluations of one protocol. No student of this session ships (the card
    # says why), so `fast`, `nokd` stay and no `quality` file exists yet.
    "$TRAIN" export weights/teacher/teacher.json --out weights/kdsharp-max.onnx --fp16
    "$TRAIN" fp16 weights/kdsharp-fast.onnx weights/ablation/student_nokd.onnx
    "$TRAIN" ladder --results "$WORK/eval-15-teacher/results.json" "$WORK/eval-15/results.json" \
        --out weights/card/ladder.png --rung "fast=student: kdsharp-fast.onnx" \
        --rung "quality (candidate, not shipped)=student: q_kd/last.json" --rung "max=teacher: teacher/teacher.json"
    cp "$WORK/eval-15/results.md" weights/card/results-15.md
    cp "$WORK/eval-15-teacher/results.md" weights/card/results-15-teacher.md
    ;;
card-p40)
    # Issues 15-16: the card's ladder and tables from evaluate-p40 (one protocol, the teacher in the same run).
    # FAST_ROW names the row that shipped as `fast` (rtnh_kd: FAST_ROW="student: rtnh_kd/last.json"), QUALITY_ROW
    # the quality candidate (not shipped this session).
    card p40 "${FAST_ROW:-student: rtnh_kd/last.json}" "quality (candidate, not shipped)=${QUALITY_ROW:-student: qp40_kd/last.json}"
    ;;
detail)
    three detail60k "${DETAIL_ARGS[@]}"
    ;;
select)
    # Scored on tune/ only (val/ reports the result): which KD student ships (KD_RUN), and does a detail
    # student (when the detail stage ran for this teacher) replace `fast`?
    "$TRAIN" evaluate --data "$DATA/tune" --tune "$DATA/tune" --out "$WORK/select$S" \
        --students $(students detail60k detail60k_kdonly detail60k_nokd fast60k fast60k_kdonly fast60k_nokd) \
        --max-side 768 --threads 2 --no-speed
    ;;
evaluate)
    "$TRAIN" evaluate --data "$DATA/val" --tune "$DATA/tune" --out "$WORK/eval$S" \
        --teacher weights/teacher/teacher.json \
        --students $(students detail60k_kdonly detail60k_nokd fast60k fast60k_kdonly fast60k_nokd) \
        --max-side 768 --threads 2 --no-speed
    # The KD ablation case by case (mean difference, 95 % interval, wins), for each trained KD run.
    for run in fast60k fast60k_kdonly detail60k_kdonly; do
        [ -n "$(students "$run")" ] || continue
        "$TRAIN" compare "$WORK/eval$S/results.json" "student: $run$S/last.json" "student: ${run%%_*}_nokd$S/last.json"
    done
    ;;
export)
    # Final EMA weights (the same step budget for a student and its control); see the model card.
    for pair in $KD_RUN$S:kdsharp-fast.onnx fast60k_nokd$S:ablation/student_nokd.onnx; do
        "$TRAIN" export "$RUNS/${pair%%:*}/last.json" --out "weights/${pair#*:}" --evaluation "$WORK/eval$S/results.json"
    done
    # The model card's figures: the evaluation's tables and side-by-side crops, the teacher's curves.
    cp "$WORK/eval$S/results.md" "$WORK/eval$S"/crops/*.png weights/card/
    cp "$RUNS/$TEACHER_RUN/curves.png" weights/card/teacher-curves.png
    ;;
*)
    echo "usage: $0 data|teacher|teacher-user|teacher-psnr40|evaluate-user|bank-user|diagnose|realtime|quality|evaluate-teacher-15|evaluate-15|probe-psnr|probe-psnr40|quality-long|quality-p40|realtime-p40|realtime-noharm|probes-levers|quality-kdonly|quality-unet|quality-unet-nh|evaluate-teacher-p40|select-qu|evaluate-qu|select-qunh|evaluate-qunh|select-p40|evaluate-p40|ship-quality|ship-fast|card-p40|card-qu|card-qunh|evaluate-int8|bank-user48k|quality-bigbank|probe-rgb|realtime-rgb|probes-15|realtime-levers|bank-user24k|realtime-bigbank|realtime-safe|select-safe|evaluate-safe|select-lv|evaluate-lv|ladder-15|students|detail|select|evaluate|export" >&2
    exit 2
    ;;
esac
