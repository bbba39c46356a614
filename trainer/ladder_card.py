"""The model card's ladder: quality against cost for every rung, from evaluation results.

Run::

    kdsharp-train ladder --results eval-15-teacher/results.json eval-15/results.json \\
        --rung "fast=student: rt_kd/last.json" --rung "quality=student: q_kd/last.json" \\
        --rung "max=teacher: teacher/teacher.json" --out weights/card/ladder.png

Each rung is a row of one of the results files (the same protocol: the same photos,
crops and seeds; the input rows must agree, which is checked). The table gives each
rung's mean PSNR over the scored cases, its gap to the input, the tuned unsharp mask
and the teacher, its worst case against the input and its GFLOP per 1080p frame; the
figure plots mean PSNR against GFLOP (log scale) with the input, the tuned unsharp
mask and Polyblur as lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kdsharp_train import atomic

from .unsharp import POLYBLUR, TUNED_USM


class LadderError(ValueError):
    """Results that cannot be put side by side (a missing row, different protocols)."""


@dataclass(frozen=True)
class RungRow:
    """One rung of the ladder as measured."""

    rung: str
    method: str
    gflops: float | None
    psnr: float
    worst_db: float
    worst_case: str


#: Input rows agree when every (photo, case) PSNR is within this (runs with other thread counts sum differently).
SAME_DB = 1e-3


def _same(a: dict[str, list[float]], b: dict[str, list[float]]) -> bool:
    return a.keys() == b.keys() and all(
        len(a[k]) == len(b[k]) and all(abs(x - y) <= SAME_DB or x == y for x, y in zip(a[k], b[k])) for k in a
    )


def _rows(paths: list[Path]) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    inputs = []
    for path in paths:
        try:
            summary = json.loads(path.read_text())["methods"]
        except (OSError, ValueError, KeyError) as exc:
            raise LadderError(f"{path}: not a results.json of kdsharp-train evaluate ({exc})") from None
        for row in summary:
            rows.setdefault(row["name"], row)
        inputs.append(next(r for r in summary if r["name"] == "input")["psnr_per_photo"])
    if any(not _same(i, inputs[0]) for i in inputs[1:]):
        raise LadderError("the results files scored different photos or degradations (their input rows differ)")
    return rows


def ladder_rows(paths: list[Path], rungs: list[tuple[str, str]]) -> tuple[list[RungRow], dict[str, float]]:
    """The rungs' rows and the reference means (input, tuned unsharp mask, Polyblur).

    Raises:
        LadderError: a rung's method is in none of the files, or the files disagree on the input.
    """
    rows = _rows(paths)
    out = []
    for rung, method in rungs:
        if method not in rows:
            raise LadderError(f"no row {method!r} in {', '.join(map(str, paths))}; rows: {sorted(rows)}")
        r = rows[method]
        rob = r["robustness"]
        out.append(RungRow(rung, method, r.get("gflops_1080p"), r["mean"]["psnr"], rob["worst_delta_db"], rob["worst_case"]))
    refs = {name: rows[name]["mean"]["psnr"] for name in ("input", TUNED_USM, POLYBLUR) if name in rows}
    return out, refs


def ladder_table(rows: list[RungRow], refs: dict[str, float]) -> str:
    """Markdown: one line per rung."""
    teacher = next((r.psnr for r in rows if r.method.startswith("teacher:")), None)
    lines = ["| rung | model | GFLOP / 1080p | mean PSNR | vs input | vs tuned USM | vs teacher | worst case vs input |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        g = "" if r.gflops is None else f"{r.gflops:.1f}"
        vs_t = "" if teacher is None else f"{r.psnr - teacher:+.2f}"
        lines.append(
            f"| {r.rung} | {r.method} | {g} | {r.psnr:.2f} | {r.psnr - refs.get('input', r.psnr):+.2f} | "
            f"{r.psnr - refs.get(TUNED_USM, r.psnr):+.2f} | {vs_t} | {r.worst_db:+.2f} ({r.worst_case}) |"
        )
    return "\n".join(lines)


def ladder_figure(rows: list[RungRow], refs: dict[str, float], out: Path) -> Path:
    """Mean PSNR against GFLOP per 1080p frame (log), the references as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, value in refs.items():
        ax.axhline(value, ls="--", lw=0.8, color="grey")
        ax.annotate(name, (0.01, value), xycoords=("axes fraction", "data"), fontsize=7, va="bottom")
    pts = [r for r in rows if r.gflops]
    ax.plot([r.gflops for r in pts], [r.psnr for r in pts], marker="o")
    for r in pts:
        ax.annotate(r.rung, (r.gflops, r.psnr), textcoords="offset points", xytext=(5, -10), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("GFLOP per 1080p frame")
    ax.set_ylabel("mean PSNR over the users' suite (dB)")
    fig.tight_layout()
    with atomic.replacing(out) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return out
