"""``kdsharp-train``: a thin argparse layer over the trainer's dataclass configs.

Subcommands::

    kdsharp-train data --out data/photos
    kdsharp-train teacher --run-dir /root/.cache/kdsharp/runs/teacher --steps 40000 [--resume]
    kdsharp-train student --arch fast --teacher /root/.cache/kdsharp/runs/teacher/best.json \\
        --set distill.output=1.0 --run-dir runs/fast
    kdsharp-train bank --teacher /root/.cache/kdsharp/runs/teacher/best.json --out runs/bank
    kdsharp-train student --layout bank --train runs/bank --set distill.output=1.0 --run-dir runs/fast
    kdsharp-train export runs/fast/best.json --out weights/kdsharp-fast.onnx [--int8] [--fp16]
    kdsharp-train export /root/.cache/kdsharp/runs/teacher/best.json --out weights/teacher --teacher-files
    kdsharp-train evaluate --data data/photos --students weights/kdsharp-fast.onnx ...
    kdsharp-train compare runs/eval/results.json "student: fast/last.json" "student: nokd/last.json"

Any config field can be set with ``--set dotted.path=JSON`` (e.g.
``--set loss.msssim=0.2``, ``--set model.args={"width":32}``). Errors print one
line and exit with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .config import ModelConfig, TrainConfig, replace_path
from .degrade import DEGRADE_MIXES


class UsageError(ValueError):
    """A bad command-line value."""


def _parse_set(cfg: TrainConfig, items: Sequence[str]) -> TrainConfig:
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UsageError(f"--set expects dotted.path=value, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        if isinstance(value, list):
            value = tuple(value)
        try:
            cfg = replace_path(cfg, key, value)
        except (AttributeError, TypeError) as e:
            raise UsageError(f"--set {key}: no such config field") from e
    return cfg


def _train_args(p: argparse.ArgumentParser, kind: str) -> None:
    p.add_argument("--run-dir", default=f"runs/{kind}", help="output folder")
    p.add_argument("--arch", default=None, help="registry name")
    p.add_argument("--arch-args", default="{}", help="JSON constructor arguments")
    p.add_argument("--train", default=None, help="training folder")
    p.add_argument("--val", default=None, help="validation folder")
    p.add_argument("--layout", choices=("folder", "paired", "gopro", "bank"), default=None, help="bank: --train is a label bank (kdsharp-train bank)")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--crop", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--threads", type=int, default=None, help="torch threads per process (0 = auto)")
    p.add_argument("--val-every", type=int, default=None)
    p.add_argument("--ckpt-minutes", type=float, default=None)
    p.add_argument("--select", choices=("psnr", "ssim"), default=None)
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default=None,
                   help="bf16: bfloat16 autocast (faster on AVX-512 BF16 CPUs); auto: fp16 AMP on CUDA, fp32 on CPU")
    p.add_argument("--set", action="append", default=[], metavar="PATH=JSON")
    p.add_argument("--resume", action="store_true", help="continue from <run-dir>/last.json")
    p.add_argument("--init", default=None, help="start from this checkpoint's weights (fine-tuning)")
    p.add_argument("--degrade-mix", default=None, help="named degradation mix: " + ", ".join(DEGRADE_MIXES))
    p.add_argument("--no-progress", action="store_true")
    if kind == "student":
        p.add_argument("--teacher", default=None, help="teacher checkpoint JSON for KD")


def build_config(args: argparse.Namespace, kind: str) -> TrainConfig:
    """Turn parsed arguments into a ``TrainConfig``."""
    cfg = TrainConfig(run_dir=args.run_dir)
    if kind == "teacher":
        cfg = dataclasses.replace(cfg, steps=40000, batch=8, val_every=500, ckpt_minutes=8.0)
    else:
        cfg = dataclasses.replace(
            cfg,
            model=ModelConfig(kind="student", name="fast"),
            steps=4000,
            batch=16,
            optim=dataclasses.replace(cfg.optim, lr=2e-3, warmup=200),
        )
    try:
        arch_args = json.loads(args.arch_args)
    except ValueError as e:
        raise UsageError(f"--arch-args is not JSON: {e}") from e
    if args.arch is not None or arch_args:
        cfg = replace_path(cfg, "model", ModelConfig(kind=kind, name=args.arch or cfg.model.name, args=arch_args))
    simple = {
        "train": "data.train", "val": "data.val", "layout": "data.layout", "steps": "steps",
        "batch": "batch", "crop": "data.crop", "lr": "optim.lr", "seed": "seed", "threads": "threads",
        "val_every": "val_every", "ckpt_minutes": "ckpt_minutes", "select": "select", "precision": "precision",
        "init": "init",
    }
    if args.degrade_mix is not None:
        if args.degrade_mix not in DEGRADE_MIXES:
            raise UsageError(f"--degrade-mix must be one of {', '.join(DEGRADE_MIXES)}, not {args.degrade_mix!r}")
        cfg = dataclasses.replace(cfg, degrade=DEGRADE_MIXES[args.degrade_mix])
    for attr, path in simple.items():
        v = getattr(args, attr)
        if v is not None:
            cfg = replace_path(cfg, path, v)
    if kind == "student" and args.teacher:
        cfg = replace_path(cfg, "distill.teacher", args.teacher)
    cfg = _parse_set(cfg, args.set)
    if args.no_progress:
        cfg = dataclasses.replace(cfg, progress=False)
    return cfg


def _cmd_data(args: argparse.Namespace) -> int:
    from .photos import PhotosConfig, gather_photos

    sources = tuple(args.sources.split(",")) if args.sources else PhotosConfig.sources
    cfg = PhotosConfig(out=Path(args.out), seed=args.seed, max_side=args.max_side, sources=sources, deb_cache=args.deb_cache)
    manifest = gather_photos(cfg)
    counts = json.loads(manifest.read_text())["counts"]
    print(f"wrote {manifest} ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    return 0


def _cmd_train(args: argparse.Namespace, kind: str) -> int:
    from .train import train

    cfg = build_config(args, kind)
    path = train(cfg, resume=args.resume)
    print(path)
    return 0


def _cmd_bank(args: argparse.Namespace) -> int:
    from .label_bank import BankConfig, build_bank

    degrade = {}
    for item in args.degrade:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UsageError(f"--degrade expects setting=value, got {item!r}")
        try:
            degrade[key] = json.loads(raw)
        except ValueError as e:
            raise UsageError(f"--degrade {key}: {raw!r} is not a JSON value") from e
    cfg = BankConfig(
        teacher=args.teacher, out=args.out, train=args.train, samples=args.samples, crop=args.crop,
        seed=args.seed, part_size=args.part_size, batch=args.batch, threads=args.threads, degrade=degrade,
    )
    print(build_bank(cfg, progress=not args.no_progress))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import ExportConfig, export_checkpoint, export_teacher

    if args.teacher_files:
        for path in export_teacher(args.checkpoint, args.out):
            print(path)
        return 0
    cfg = ExportConfig(
        checkpoint=args.checkpoint, out=args.out, opset=args.opset, fp16=args.fp16, int8=args.int8,
        calib_dir=args.calib, calib_crops=args.calib_crops, use_ema=not args.raw_weights,
        evaluation=args.evaluation, evaluation_method=args.evaluation_method,
    )
    for line in export_checkpoint(cfg):
        print(line)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import EvalConfig, evaluate

    cfg = EvalConfig(
        data=args.data, tune=args.tune, out=args.out, teachers=tuple(args.teacher),
        students=tuple(args.students), degradations=tuple(args.degradations) if args.degradations else EvalConfig.degradations,
        max_images=args.max_images, max_side=args.max_side, speed=not args.no_speed, threads=args.threads,
        baselines_from=args.baselines_from,
    )
    print(evaluate(cfg))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .evaluate import paired_difference

    print(paired_difference(args.results, args.a, args.b).line())
    return 0


def _cmd_fp16(args: argparse.Namespace) -> int:
    from .fp16 import fp16_sibling

    for path in args.models:
        print(fp16_sibling(Path(path)))
    return 0


def _cmd_ladder(args: argparse.Namespace) -> int:
    from .ladder_card import ladder_figure, ladder_rows, ladder_table

    rungs = []
    for text in args.rung:
        rung, sep, method = text.partition("=")
        if not sep or not rung or not method:
            raise UsageError(f"--rung must be NAME=ROW (e.g. fast=student: rt_kd/last.json), not {text!r}")
        rungs.append((rung, method))
    rows, refs = ladder_rows([Path(p) for p in args.results], rungs)
    print(ladder_table(rows, refs))
    if args.out:
        print(ladder_figure(rows, refs, Path(args.out)))
    return 0


def make_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``kdsharp-train``."""
    parser = argparse.ArgumentParser(
        prog="kdsharp-train", description="Train, export and evaluate kdsharp sharpening models."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("data", help="gather the offline photos into a split data folder")
    d.add_argument("--out", default="data/photos")
    d.add_argument("--seed", type=int, default=1234)
    d.add_argument("--max-side", type=int, default=1920)
    d.add_argument("--sources", default="", help="comma list of sources (interior, debian, skimage, sklearn, a package source) or folders")
    d.add_argument("--deb-cache", default="", help="keep the downloaded .deb files here between runs")
    _train_args(sub.add_parser("teacher", help="train a teacher"), "teacher")
    _train_args(sub.add_parser("student", help="train a student (optionally distilled)"), "student")
    b = sub.add_parser("bank", help="label training crops with a teacher once, for fast output distillation")
    b.add_argument("--teacher", required=True, help="teacher checkpoint JSON")
    b.add_argument("--out", required=True, help="bank folder (an unfinished build there is resumed)")
    b.add_argument("--train", default="", help="sharp training photos (default: the teacher's own)")
    b.add_argument("--samples", type=int, default=8000)
    b.add_argument("--crop", type=int, default=128)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--part-size", type=int, default=500)
    b.add_argument("--batch", type=int, default=10)
    b.add_argument("--threads", type=int, default=0)
    b.add_argument(
        "--degrade", action="append", default=[], metavar="SETTING=JSON",
        help="change one of the teacher's degradation settings for this bank (e.g. p_noise=0.25)",
    )
    b.add_argument("--no-progress", action="store_true")
    e = sub.add_parser("export", help="export a checkpoint to a kdsharp ONNX model")
    e.add_argument("checkpoint")
    e.add_argument("--out", required=True)
    e.add_argument("--opset", type=int, default=17)
    e.add_argument("--fp16", action="store_true", help="also write <out>.fp16.onnx")
    e.add_argument("--int8", action="store_true", help="also write <out>.int8.onnx (static QDQ)")
    e.add_argument("--calib", default="data/photos/train", help="images for int8 calibration")
    e.add_argument("--calib-crops", type=int, default=32)
    e.add_argument("--raw-weights", action="store_true", help="export raw weights, not the EMA")
    e.add_argument("--evaluation", default="", help="results.json of kdsharp-train evaluate: embed this model's scores")
    e.add_argument("--evaluation-method", default="", help="its row name (default: 'student: <run>/<file>.json')")
    e.add_argument(
        "--teacher-files", action="store_true",
        help="write <out>/teacher.safetensors + teacher.json (EMA weights, for distillation) instead of ONNX",
    )
    v = sub.add_parser("evaluate", help="score models on the named degradation suite")
    v.add_argument("--data", default="data/photos/val")
    v.add_argument("--tune", default="data/photos/tune")
    v.add_argument("--out", default="runs/eval")
    v.add_argument("--teacher", nargs="*", default=[], help="teacher checkpoint JSONs (one row each)")
    v.add_argument("--students", nargs="*", default=[])
    v.add_argument("--degradations", nargs="*", default=None)
    v.add_argument("--max-images", type=int, default=0)
    v.add_argument("--max-side", type=int, default=768)
    v.add_argument("--threads", type=int, default=0)
    v.add_argument("--no-speed", action="store_true")
    v.add_argument("--baselines-from", default="", metavar="RESULTS_JSON",
                   help="reuse the unsharp masks and Polyblur tuned by this earlier evaluation (same tune photos and settings)")
    c = sub.add_parser("compare", help="two rows of an evaluation, case by case: mean difference, interval, wins")
    c.add_argument("results", help="results.json of kdsharp-train evaluate")
    c.add_argument("a", help="row name, e.g. 'student: fast60k/last.json'")
    c.add_argument("b", help="row name to subtract")
    h = sub.add_parser("fp16", help="write the float16 sibling of a shipped float32 ONNX model (parity checked)")
    h.add_argument("models", nargs="+", help="kdsharp .onnx files")
    g = sub.add_parser("ladder", help="the model card's ladder: quality against cost for every rung")
    g.add_argument("--results", nargs="+", required=True, help="results.json files of one protocol")
    g.add_argument("--rung", action="append", default=[], required=True, metavar="NAME=ROW", help="a rung and its row")
    g.add_argument("--out", default="", help="write the figure here (PNG)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kdsharp-train``; returns the exit status."""
    args = make_parser().parse_args(argv)
    from .checkpoint import CheckpointError
    from .datasets import DatasetError
    from .export import ExportError
    from .photos import PhotoSourceError

    try:
        if args.command == "data":
            return _cmd_data(args)
        if args.command in ("teacher", "student"):
            return _cmd_train(args, args.command)
        if args.command == "export":
            return _cmd_export(args)
        if args.command == "bank":
            return _cmd_bank(args)
        if args.command == "compare":
            return _cmd_compare(args)
        if args.command == "ladder":
            return _cmd_ladder(args)
        if args.command == "fp16":
            return _cmd_fp16(args)
        return _cmd_evaluate(args)
    except (UsageError, DatasetError, CheckpointError, ExportError, PhotoSourceError, KeyError, ValueError, TypeError, FileNotFoundError) as e:
        msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
        print(f"kdsharp-train {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
