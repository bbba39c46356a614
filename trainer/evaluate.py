"""Score the input, the unsharp masks, Polyblur, teachers and students on the named degradation suite.

Run::

    kdsharp-train evaluate --data data/photos/val --tune data/photos/tune \\
        --teacher /root/.cache/kdsharp/runs/teacher/best.json \\
        --students weights/kdsharp-fast.onnx runs/fast/best.json --out runs/eval

Students are ONNX files (run through the kdsharp core, exactly as the hosts run
them) or trainer checkpoints (run in torch). The unsharp mask is tuned per
degradation on ``--tune`` only (and once for the whole suite); Polyblur, the blind
classical baseline, is tuned once for the whole suite there. The headline mean is
over every case but ``clean``, which is reported apart (a sharp photo must come
out at ≥ 40 dB against itself); the robustness line gives each method's worst
case against the input (a sharpener must never make a case worse on average).
Writes ``results.md`` (PSNR/SSIM/MS-SSIM per degradation, families, robustness,
ms per 1080p frame), ``results.json``, the labelled crop grids ``crops/grid.png`` and
``crops/grid-readme.png`` (``figures``), one strip per case ``crops/<degradation>.png``,
and ``quality_speed.png``.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from kdsharp_train import atomic
from PIL import Image

from .conditions import with_case_conditions
from .datasets import DatasetError, _images_in, _read, _to_tensor
from .figures import README_ROWS, CropGrid
from .polyblur import PolyblurParams, polyblur, tune_polyblur
from .suite import CLEAN, EVAL_SUITE, FAMILIES, suite_degrade
from .losses import msssim_value, psnr, ssim_value
from .models import build_model, gflops_1080p, load_model
from .train import rgb_to_luma
from .unsharp import ONE_USM, POLYBLUR, TUNED_USM, UnsharpParams, best_setting, grid_scores, unsharp

Runner = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation settings.

    Attributes:
        data: folder of sharp evaluation photos (never trained or tuned on).
        tune: folder of sharp photos for tuning the unsharp mask.
        out: output folder.
        teachers: teacher checkpoint JSONs (several: e.g. the shipped and a new one).
        students: ONNX paths and/or checkpoint JSONs.
        degradations: names from ``suite.EVAL_SUITE``.
        max_images: use at most this many photos (0 = all).
        max_side: centre-crop each photo to at most this side (0 = whole photo).
        tune_side: centre-crop side of the tuning photos.
        tune_images: tune on at most this many tuning photos, evenly spaced (0 = all).
        polyblur_images: Polyblur is tuned on at most this many of those (it is slower).
        speed: time every method on a 1920×1080 frame.
        threads: torch and onnxruntime threads (0 = all cores).
        seed: seeds the degradations' noise.
        baselines_from: ``results.json`` of an earlier evaluation tuned on the same photos with the same
            settings (``tune``, ``tune_side``, ``tune_images``, ``polyblur_images``, ``seed``, the suite):
            reuse its tuned unsharp masks and Polyblur instead of tuning again (the tuning is deterministic,
            and it takes minutes). "" = tune.
    """

    data: str = "data/photos/val"
    tune: str = "data/photos/tune"
    out: str = "runs/eval"
    teachers: tuple[str, ...] = ()
    students: tuple[str, ...] = ()
    degradations: tuple[str, ...] = tuple(EVAL_SUITE)
    max_images: int = 0
    max_side: int = 768
    tune_side: int = 384
    tune_images: int = 12
    polyblur_images: int = 4
    speed: bool = True
    threads: int = 0
    seed: int = 0
    baselines_from: str = ""


#: The settings that decide the tuned baselines: an evaluation reuses another's only where they agree.
TUNING_KEYS = ("tune", "tune_side", "tune_images", "polyblur_images", "seed", "degradations")


def tune_fingerprint(folder: str) -> str:
    """SHA-256 over the names and bytes of the photos in ``folder`` (what the baselines were tuned on)."""
    h = hashlib.sha256()
    root = Path(folder)
    for path in _images_in(root):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def reused_baselines(
    results_json: str, cfg: EvalConfig, fingerprint: str
) -> tuple[dict[str, UnsharpParams], UnsharpParams, PolyblurParams]:
    """The tuned unsharp masks (per case and one setting) and Polyblur of an earlier evaluation.

    Raises:
        DatasetError: not a ``results.json``, tuned with other settings (``TUNING_KEYS``), or on photos that
            have changed since (when it recorded their fingerprint; evaluations before it did are matched by
            their settings alone).
    """
    try:
        body = json.loads(Path(results_json).read_text())
        old, usm, one, pb = body["config"], body["usm"], body["usm_one_setting"], body["polyblur"]
        reused = ({d: UnsharpParams(**usm[d]) for d in cfg.degradations}, UnsharpParams(**one), PolyblurParams(**pb))
        if not isinstance(old, dict):
            raise TypeError(f"its config is a {type(old).__name__}, not a mapping")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DatasetError(f"{results_json}: not the results.json of an evaluation of this suite ({e})") from None
    for key in TUNING_KEYS:
        mine = list(getattr(cfg, key)) if key == "degradations" else getattr(cfg, key)
        if old.get(key) != mine:
            raise DatasetError(f"{results_json} was tuned with {key}={old.get(key)!r}, this evaluation has {mine!r}; "
                               "drop --baselines-from to tune again")
    if body.get("tune_fingerprint", fingerprint) != fingerprint:
        raise DatasetError(f"{results_json}: the photos in {cfg.tune} changed since it was tuned; drop --baselines-from")
    return reused


@dataclass
class Method:
    """One evaluated method: a name, how to run it on ``1×3×H×W`` RGB 0–1, and its cost."""

    name: str
    run: Runner
    kind: str
    ms_1080p: float | None = None
    gflops: float | None = None
    scores: dict[str, dict[str, list[float]]] = field(default_factory=dict)


def _centre(arr: np.ndarray, side: int) -> np.ndarray:
    if not side:
        return arr
    h, w = arr.shape[:2]
    ch, cw = min(h, side), min(w, side)
    y, x = (h - ch) // 2, (w - cw) // 2
    return arr[y : y + ch, x : x + cw]


def _torch_runner(net: torch.nn.Module, case: Callable[[], str] | None = None) -> Runner:
    """Run a checkpoint as the core runs its ONNX export (a luma student's change goes to R, G and B).

    ``case`` names the degradation being scored: a conditioned student (issue 15's
    diagnostic) is told its true conditions, as the tuned unsharp mask is told its setting.
    """
    luma = getattr(net, "in_channels", 3) == 1
    told = getattr(net, "condition", 0)

    @torch.no_grad()
    def forward(x: torch.Tensor) -> torch.Tensor:
        if not told:
            return net(x)
        if case is None:
            raise ValueError("a conditioned student needs the case it is scored on")
        return net(with_case_conditions(x, case()))

    @torch.no_grad()
    def run(x: torch.Tensor) -> torch.Tensor:
        if luma:
            y = rgb_to_luma(x)
            return (x + (forward(y) - y)).clamp(0, 1)
        return forward(x).clamp(0, 1)

    return run


def _onnx_runner(path: str, threads: int) -> tuple[Runner, object]:
    from kdsharp import RuntimeConfig, Sharpener

    # int8=False: the file named is the file scored (an .int8.onnx sibling is scored by naming it).
    sh = Sharpener(path, config=RuntimeConfig(providers=("CPUExecutionProvider",), threads=threads or None, int8=False))

    def run(x: torch.Tensor) -> torch.Tensor:
        img = x[0].permute(1, 2, 0).contiguous().numpy().astype(np.float32)
        out = sh.sharpen(img)
        return torch.from_numpy(np.ascontiguousarray(out)).permute(2, 0, 1)[None].clamp(0, 1)

    return run, sh


def _time_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(ts)


def _load_photos(folder: str, side: int, limit: int, spread: bool = False) -> list[torch.Tensor]:
    files = _images_in(Path(folder))
    if limit and spread and len(files) > limit:
        files = [files[int(i)] for i in np.linspace(0, len(files) - 1, limit).round()]
    elif limit:
        files = files[:limit]
    return [_to_tensor(_centre(_read(p), side)) for p in files]


def _tune_baselines(cfg: EvalConfig) -> tuple[dict[str, UnsharpParams], UnsharpParams, PolyblurParams]:
    """The unsharp mask tuned per degradation (the targets' reference, an oracle that knows the degradation),
    the one setting best over the whole suite (what a user who sets it once gets), and Polyblur's one
    setting (it is blind; on a few of the same pairs), all on ``cfg.tune``."""
    tune = _load_photos(cfg.tune, cfg.tune_side, cfg.tune_images, spread=True)
    usm: dict[str, UnsharpParams] = {}
    scores: dict[str, dict[UnsharpParams, float]] = {}
    tune_pairs: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {}
    for j, name in enumerate(cfg.degradations):
        tune_pairs[name] = [(suite_degrade(s, name, seed=cfg.seed + 7919 * (i + 1) + j), s) for i, s in enumerate(tune)]
        scores[name] = grid_scores(tune_pairs[name])
        usm[name], _ = best_setting(scores[name])
    scored = [d for d in cfg.degradations if d != CLEAN] or list(cfg.degradations)
    one, _ = best_setting({prm: float(np.mean([scores[d][prm] for d in scored])) for prm in scores[scored[0]]})
    step = max(1, len(tune) // max(1, cfg.polyblur_images))
    few = [i for i in range(len(tune)) if i % step == 0 and i // step < cfg.polyblur_images]
    pb, _ = tune_polyblur([tune_pairs[name][i] for name in scored for i in few])
    return usm, one, pb


def evaluate(cfg: EvalConfig) -> Path:
    """Run the evaluation and write its reports.

    Returns:
        The path of ``results.md``.

    Raises:
        DatasetError: empty or unreadable photo folders.
        KeyError: an unknown degradation name.
    """
    for name in cfg.degradations:
        if name not in EVAL_SUITE:
            raise KeyError(f"unknown degradation {name!r}; choose from {', '.join(EVAL_SUITE)}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    photos = _load_photos(cfg.data, cfg.max_side, cfg.max_images)
    fingerprint = tune_fingerprint(cfg.tune)
    if cfg.baselines_from:
        usm, one, pb = reused_baselines(cfg.baselines_from, cfg, fingerprint)
    else:
        usm, one, pb = _tune_baselines(cfg)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    current = {"deg": cfg.degradations[0]}
    methods = [
        Method("input", lambda x: x, "identity"),
        Method(TUNED_USM, lambda x: unsharp(x, usm[current["deg"]]), "classical"),
        Method(ONE_USM, lambda x: unsharp(x, one), "classical"),
        Method(POLYBLUR, lambda x: polyblur(x, pb), "classical, blind"),
    ]
    frame = torch.rand(1, 3, 1080, 1920)
    if cfg.speed:
        methods[0].ms_1080p = 0.0
        methods[1].ms_1080p = methods[2].ms_1080p = _time_ms(lambda: unsharp(frame, UnsharpParams(1.0, 1.0)), 2)
        methods[3].ms_1080p = _time_ms(lambda: polyblur(frame, pb), 1)
    models = [("teacher", t) for t in cfg.teachers] + [("student", s) for s in cfg.students]
    for role, path in models:
        p = Path(path)
        if not p.exists():
            raise DatasetError(f"{path}: model not found")
        label = f"{role}: {p.parent.name}/{p.name}" if p.suffix == ".json" else f"{role}: {p.name}"
        if p.suffix == ".onnx":
            run, sh = _onnx_runner(path, cfg.threads)
            info = sh.info  # type: ignore[attr-defined]
            try:
                g = gflops_1080p(build_model("student", info.architecture, dict(info.arch_args)), 128)
            except (KeyError, TypeError):
                g = None  # not a registry architecture: cost unknown
            m = Method(label, run, "onnx (core)", gflops=g)
            if cfg.speed:
                u8 = (np.random.default_rng(0).random((1080, 1920, 3)) * 255).astype(np.uint8)
                m.ms_1080p = _time_ms(lambda: sh.sharpen(u8), 5)  # type: ignore[attr-defined]
        else:
            net, _ = load_model(path)
            if getattr(net, "condition", 0):
                label += " (told the degradation)"
            m = Method(label, _torch_runner(net, lambda: current["deg"]), "torch checkpoint", gflops=gflops_1080p(net, 128))
            if cfg.speed:
                m.ms_1080p = _time_ms(lambda: m.run(frame), 1 if role == "teacher" else 3)
        methods.append(m)

    crops_dir = out / "crops"
    crops_dir.mkdir(exist_ok=True)
    grid = CropGrid(photos, tuple(cfg.degradations), side=min(96, *(min(p.shape[-2:]) for p in photos)))
    for j, name in enumerate(cfg.degradations):
        current["deg"] = name
        for i, sharp in enumerate(photos):
            x = suite_degrade(sharp, name, seed=cfg.seed + 104729 * (i + 1) + j)[None]
            y = sharp[None]
            for m in methods:
                pred = m.run(x).float()
                sc = m.scores.setdefault(name, {"psnr": [], "ssim": [], "msssim": []})
                sc["psnr"].append(psnr(pred, y))
                sc["ssim"].append(ssim_value(pred, y))
                sc["msssim"].append(msssim_value(pred, y))
                if i == grid.photo_for(name):
                    grid.add(name, m.name, pred)
            if i == grid.photo_for(name):
                grid.add(name, "sharp", sharp)
        _write_png(crops_dir / f"{name}.png", grid.strip(name))
    _write_png(crops_dir / "grid.png", grid.grid())
    _write_png(crops_dir / "grid-readme.png", grid.grid(README_ROWS))
    return _report(cfg, out, methods, usm, one, pb, fingerprint)


def _write_png(path: Path, arr: np.ndarray) -> None:
    with atomic.replacing(path) as tmp:
        Image.fromarray(arr).save(tmp, format="PNG")


def _report(
    cfg: EvalConfig, out: Path, methods: list[Method], usm: dict[str, UnsharpParams], one: UnsharpParams,
    pb: PolyblurParams, fingerprint: str,
) -> Path:
    degs = cfg.degradations
    scored = [d for d in degs if d != CLEAN] or list(degs)
    summary = []
    for m in methods:
        per = {d: {k: float(np.mean(v)) for k, v in m.scores[d].items()} for d in degs}
        summary.append({
            "name": m.name, "kind": m.kind, "ms_1080p": m.ms_1080p, "gflops_1080p": m.gflops,
            "per": per,
            "psnr_per_photo": {d: [float(v) for v in m.scores[d]["psnr"]] for d in degs},
            "mean": {k: float(np.mean([per[d][k] for d in scored])) for k in ("psnr", "ssim", "msssim")},
            "clean_psnr": per[CLEAN]["psnr"] if CLEAN in per else None,
        })
    inp = next(s for s in summary if s["name"] == "input")
    for s in summary:
        gaps = {d: s["per"][d]["psnr"] - inp["per"][d]["psnr"] for d in scored}
        worst = min(gaps, key=lambda d: gaps[d])
        s["robustness"] = {"worst_case": worst, "worst_delta_db": gaps[worst], "cases_below_input": sum(v < 0 for v in gaps.values())}
        s["families"] = {
            f: float(np.mean([s["per"][d]["psnr"] for d in ds if d in s["per"]]))
            for f, ds in FAMILIES.items() if any(d in s["per"] for d in ds)
        }
    ref = next(s for s in summary if s["name"] == TUNED_USM)["mean"]["psnr"]
    lines = [
        f"Evaluation on `{cfg.data}` ({len(next(iter(methods[0].scores.values()))['psnr'])} photos, centre crops ≤ {cfg.max_side or 'full'} px); "
        f"unsharp mask tuned per degradation on `{cfg.tune}` (Δ vs USM is against it), and one setting tuned "
        "on the whole suite there.",
        "",
        "PSNR (dB) per degradation:",
        "",
        "| method | " + " | ".join(degs) + " | mean PSNR | Δ vs USM | mean SSIM | mean MS-SSIM | ms/1080p | GFLOP/1080p |",
        "| --- | " + " | ".join("---:" for _ in degs) + " | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summary:
        ms = "" if s["ms_1080p"] is None else f"{s['ms_1080p']:.1f}"
        gf = "" if s["gflops_1080p"] is None else f"{s['gflops_1080p']:.2f}"
        lines.append(
            f"| {s['name']} | " + " | ".join(f"{s['per'][d]['psnr']:.2f}" for d in degs)
            + f" | {s['mean']['psnr']:.2f} | {s['mean']['psnr'] - ref:+.2f} | {s['mean']['ssim']:.4f} | {s['mean']['msssim']:.4f} | {ms} | {gf} |"
        )
    # The same PSNRs with a row per case, easier to read when the suite has many cases.
    lines += ["", "PSNR (dB) per case, a row each (the last rows: the mean over every case but clean, and Δ vs USM):", "",
              "| case | " + " | ".join(s["name"] for s in summary) + " |", "| --- | " + " | ".join("---:" for _ in summary) + " |"]
    for d in degs:
        lines.append(f"| {d} | " + " | ".join(f"{s['per'][d]['psnr']:.2f}" for s in summary) + " |")
    lines.append("| **mean** | " + " | ".join(f"**{s['mean']['psnr']:.2f}**" for s in summary) + " |")
    lines.append("| Δ vs USM | " + " | ".join(f"{s['mean']['psnr'] - ref:+.2f}" for s in summary) + " |")
    lines += ["", "Robustness (each method's worst case against the input; the goal is ≥ 0 on every case)"
              + (f" and `{CLEAN}` (a sharp photo in, PSNR against itself; the goal is ≥ 40 dB):" if CLEAN in degs else ":"), "",
              "| method | worst case | Δ vs input there | cases below input |" + (f" {CLEAN} PSNR |" if CLEAN in degs else ""),
              "| --- | --- | ---: | ---: |" + (" ---: |" if CLEAN in degs else "")]
    for s in summary:
        r = s["robustness"]
        lines.append(f"| {s['name']} | {r['worst_case']} | {r['worst_delta_db']:+.2f} | {r['cases_below_input']} of {len(scored)} |"
                     + (f" {s['clean_psnr']:.2f} |" if CLEAN in degs else ""))
    fams = list(summary[0]["families"])
    if fams:
        lines += ["", "Mean PSNR (dB) per family of cases:", "", "| method | " + " | ".join(fams) + " |",
                  "| --- | " + " | ".join("---:" for _ in fams) + " |"]
        for s in summary:
            lines.append(f"| {s['name']} | " + " | ".join(f"{s['families'][f]:.2f}" for f in fams) + " |")
    lines += ["", "SSIM per degradation:", "", "| method | " + " | ".join(degs) + " |", "| --- | " + " | ".join("---:" for _ in degs) + " |"]
    for s in summary:
        lines.append(f"| {s['name']} | " + " | ".join(f"{s['per'][d]['ssim']:.4f}" for d in degs) + " |")
    lines += ["", "Tuned unsharp mask: " + ", ".join(f"{d}: σ={p.sigma}, amount={p.amount}" for d, p in usm.items()), ""]
    lines += [f"Unsharp mask, one setting: σ={one.sigma}, amount={one.amount}", ""]
    lines += [f"Polyblur, one setting (tuned on `{cfg.tune}`): c={pb.c}, b={pb.b}, α={pb.alpha}, β={pb.beta}, iterations={pb.n_iter}", ""]
    if cfg.baselines_from:
        lines += [f"The unsharp masks and Polyblur were tuned by `{cfg.baselines_from}` (same photos and settings).", ""]
    lines += ["Crops (each photo's most detailed window, 2× nearest-neighbour; left to right: "
              + ", ".join(m.name for m in methods) + ", sharp): `crops/grid.png` (every case), "
              "`crops/grid-readme.png` (one case per family), `crops/<degradation>.png`", ""]
    md = out / "results.md"
    atomic.write_bytes(md, "\n".join(lines).encode())
    body = {"config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__}, "usm": {d: vars(p) for d, p in usm.items()},
            "usm_one_setting": vars(one), "polyblur": vars(pb), "tune_fingerprint": fingerprint, "methods": summary}
    atomic.write_bytes(out / "results.json", json.dumps(body, indent=1, default=str).encode())
    _plot(out, summary)
    return md


def _plot(out: Path, summary: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for s in summary:
        if s["ms_1080p"] is None:
            continue
        ax.scatter(max(s["ms_1080p"], 0.1), s["mean"]["psnr"])
        ax.annotate(s["name"], (max(s["ms_1080p"], 0.1), s["mean"]["psnr"]), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("ms per 1080p frame (this machine)")
    ax.set_ylabel("mean PSNR over the suite (dB)")
    fig.tight_layout()
    with atomic.replacing(out / "quality_speed.png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


@dataclass(frozen=True)
class PairedDifference:
    """PSNR of method ``a`` minus method ``b`` on the same (photo, degradation) cases of one evaluation.

    Attributes:
        a, b: row names.
        cases: number of (photo, degradation) cases.
        wins: cases where ``a`` scored higher than ``b``.
        mean_db: mean difference (the difference of the two rows' mean PSNR).
        low_db, high_db: 95 % bootstrap interval of ``mean_db`` (cases resampled with replacement).
    """

    a: str
    b: str
    cases: int
    wins: int
    mean_db: float
    low_db: float
    high_db: float

    def line(self) -> str:
        """One line for a terminal or a model card."""
        return (
            f"{self.a} − {self.b}: {self.mean_db:+.3f} dB mean PSNR over {self.cases} (photo, degradation) cases "
            f"(95 % bootstrap interval {self.low_db:+.3f} to {self.high_db:+.3f}); {self.a} higher in {self.wins}"
        )


def paired_difference(results_json: str | Path, a: str, b: str, resamples: int = 10000, seed: int = 0) -> PairedDifference:
    """Compare two rows of an evaluation case by case (same photos, degradations and seeds).

    Every degradation weighs the same, as in the rows' mean PSNR: each case's difference is weighted by one
    over its degradation's photo count.

    Raises:
        DatasetError: not a ``results.json`` with per-photo scores, no row named ``a`` or ``b``, or
            rows that do not hold the same cases.
    """
    try:
        rows = {row["name"]: row for row in json.loads(Path(results_json).read_text())["methods"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DatasetError(f"{results_json}: not a results.json of kdsharp-train evaluate ({e})") from None
    per: list[dict[str, list[float]]] = []
    for name in (a, b):
        if name not in rows:
            raise DatasetError(f"{results_json} has no row {name!r}; it has {sorted(rows)}")
        if not isinstance(rows[name].get("psnr_per_photo"), dict):
            raise DatasetError(f"{results_json}: row {name!r} has no per-photo scores (an evaluation from before they were kept)")
        per.append(rows[name]["psnr_per_photo"])
    degs = [d for d in per[0] if d != CLEAN] or list(per[0])
    diffs, weights = [], []
    for d in degs:
        pa, pb = per[0][d], per[1].get(d, [])
        if not pa or len(pa) != len(pb):
            raise DatasetError(
                f"{results_json}: rows {a!r} and {b!r} do not hold the same photos of {d!r} ({len(pa)} and {len(pb)})"
            )
        diffs += [x - y for x, y in zip(pa, pb, strict=True)]
        weights += [1.0 / (len(pa) * len(degs))] * len(pa)
    if not diffs:
        raise DatasetError(f"{results_json}: no per-photo scores to compare")
    diff, w = np.asarray(diffs), np.asarray(weights)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diff), size=(resamples, len(diff)))
    boot = (diff[idx] * w[idx]).sum(axis=1) / w[idx].sum(axis=1)
    low, high = np.percentile(boot, [2.5, 97.5])
    return PairedDifference(a, b, len(diff), int((diff > 0).sum()), float((diff * w).sum()), float(low), float(high))
