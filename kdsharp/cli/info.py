"""``kdsharp info``: versions, execution providers (available and really chosen), every rung of the
ladder with its measured speed here, and the metadata of the model the options name."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from typing import Any

from kdsharp.cli import runtime
from kdsharp.errors import KdsharpError


def add_parser(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Register the ``info`` command."""
    p = commands.add_parser(
        "info",
        parents=parents,
        help="show versions, providers and model metadata",
        description="Load a model and report the onnxruntime providers that really run it, its metadata and versions.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    runtime.add_runtime_options(p, tile=False)
    p.set_defaults(run=run)


def versions() -> dict[str, str]:
    """Versions of kdsharp, Python, numpy and onnxruntime."""
    import numpy

    from kdsharp import __version__
    from kdsharp.session import import_ort

    ort = import_ort()
    return {
        "kdsharp": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "numpy": numpy.__version__,
        "onnxruntime": f"{ort.__version__} ({_ort_distribution()})",
    }


def _ort_distribution() -> str:
    from importlib import metadata

    for name in ("onnxruntime-gpu", "onnxruntime", "onnxruntime-directml", "onnxruntime-openvino"):
        try:
            metadata.version(name)
            return name
        except metadata.PackageNotFoundError:
            continue
    return "unknown distribution"


def gather(args: argparse.Namespace) -> tuple[dict[str, Any], KdsharpError | None]:
    """Everything ``info`` reports, and the error that stopped the model from loading (if any)."""
    from kdsharp.session import import_ort

    report: dict[str, Any] = {"versions": versions()}
    report["providers_available"] = list(import_ort().get_available_providers())
    report["providers_requested"] = list(args.providers)
    report["ladder"] = ladder_speeds(args)
    try:
        sharpener = runtime.load_sharpener(args)
    except KdsharpError as exc:
        return report, exc
    model = sharpener.info
    report["providers_chosen"] = list(sharpener.providers)
    report["model"] = {
        "path": str(sharpener.model_path),
        "runs": str(sharpener.weights_path),
        "architecture": model.architecture,
        "arch_args": dict(model.arch_args),
        "size_multiple": model.size_multiple,
        "color_space": model.color_space,
        "channels": model.channels,
        "receptive_radius": model.receptive_radius,
        "dtype": model.dtype,
        "sha256": model.sha256,
        "training": dict(model.training),
        "metrics": dict(model.metrics),
    }
    return report, None


#: ``info`` times each rung on a frame of this side (after one warm-up run).
SPEED_SIDE = 512


def ladder_speeds(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each installed rung with where it runs and its measured seconds per megapixel here.

    A rung that cannot load or run is listed with its error instead.
    """
    from kdsharp import ladder
    from kdsharp.sharpener import Sharpener

    frame = ladder.noise_frame(SPEED_SIDE, SPEED_SIDE)
    rows: list[dict[str, Any]] = []
    for rung in ladder.installed_rungs():
        try:
            sharpener = Sharpener(rung, config=runtime.runtime_config(args))
            seconds = ladder.frame_ms(sharpener, frame, frames=1) / 1000.0
        except KdsharpError as exc:
            rows.append({"rung": rung, "error": str(exc)})
            continue
        rows.append({
            "rung": rung, "file": sharpener.weights_path.name, "architecture": sharpener.info.architecture,
            "providers": list(sharpener.providers), "s_per_megapixel": round(seconds / (SPEED_SIDE * SPEED_SIDE / 1e6), 4),
        })
    return rows


def run(args: argparse.Namespace) -> int:
    """Print the report; exit 1 (after printing what is known) when the model cannot load."""
    report, error = gather(args)
    if args.json:
        if error is not None:
            report["error"] = str(error)
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(format_report(report))
    if error is not None:
        raise error
    return 0


def format_report(report: dict[str, Any]) -> str:
    """The human-readable text of ``gather``'s report."""
    lines = [f"{name:<12} {value}" for name, value in report["versions"].items()]
    lines.append(f"{'providers':<12} available: {', '.join(report['providers_available'])}")
    lines.append(f"{'':<12} requested: {', '.join(report['providers_requested'])}")
    if "providers_chosen" in report:
        lines.append(f"{'':<12} chosen:    {', '.join(report['providers_chosen'])}")
    for row in report.get("ladder", []):
        label = f"rung {row['rung']}"
        if "error" in row:
            lines.append(f"{label:<12} {row['error']}")
        else:
            lines.append(f"{label:<12} {row['file']} ({row['architecture']}): {row['s_per_megapixel']:.3f} s per megapixel on {row['providers'][0]}")
    model = report.get("model")
    if model:
        lines.append("model")
        for key in ("path", "runs", "architecture", "arch_args", "size_multiple", "color_space", "channels", "receptive_radius", "dtype", "sha256"):
            value = model[key]
            lines.append(f"  {key:<17} {json.dumps(value, sort_keys=True) if isinstance(value, dict) else value}")
        for key in ("training", "metrics"):
            lines.append(f"  {key:<17} {json.dumps(model[key], sort_keys=True) if model[key] else '(none)'}")
    return "\n".join(lines)
