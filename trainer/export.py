"""Export a checkpoint to a kdsharp ONNX model (fp32, optional fp16 and static-QDQ int8).

Run::

    kdsharp-train export runs/fast/best.json --out weights/kdsharp-fast.onnx --int8

The exported graph is the network's ``forward_aligned`` (no padding inside; the
core pads to ``size_multiple``), opset ≥ 17, input ``input`` and output
``output`` (``N×C×H×W``, dynamic N/H/W), with the metadata of
``kdsharp.contract`` sealed by its self-digest. Parity against torch is measured
on random inputs of several aligned sizes and stored in the metadata
(``metrics.parity_max_abs``); fp32 must be within ``parity_tol``. When the output
lies inside a folder named ``weights``, its line in ``weights/SHA256SUMS`` is
written or replaced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
from kdsharp_train import atomic
from torch import nn

from kdsharp import contract

from .datasets import DataConfig, TrainSampler
from .degrade import DegradeConfig
from .models import load_model
from .reparam import fold_reparam
from .unsharp import TUNED_USM


class ExportError(RuntimeError):
    """Export failed or its parity check did not pass."""


@dataclass(frozen=True)
class ExportConfig:
    """Export settings.

    Attributes:
        checkpoint: checkpoint JSON (``best.json``, ``last.json``) or run folder.
        out: destination ``.onnx`` path; variants go next to it as ``<stem>.fp16.onnx``
            and ``<stem>.int8.onnx``.
        opset: ONNX opset (≥ 17).
        fp16: also write the float16 variant (float16 input/output).
        int8: also write the static-QDQ int8 variant (float32 input/output).
        calib_dir: folder of sharp training images for int8 calibration.
        calib_crops: number of degraded calibration crops.
        calib_size: calibration crop side (rounded to the size multiple).
        use_ema: export the EMA weights when the checkpoint has them.
        parity_tol: max abs difference allowed between fp32 ONNX and torch.
        seed: seeds the parity inputs and calibration crops.
        update_sums: write the checksum line when ``out`` is inside ``weights/``.
        evaluation: a ``kdsharp-train evaluate`` ``results.json`` whose row for
            this model goes into the metadata (``metrics.evaluation``), so the
            model carries its model-card numbers ('' = none).
        evaluation_method: that row's name; '' = the checkpoint as ``evaluate``
            labels it (``student: <run>/<file>.json``).
    """

    checkpoint: str
    out: str
    opset: int = 17
    fp16: bool = False
    int8: bool = False
    calib_dir: str = "data/photos/train"
    calib_crops: int = 32
    calib_size: int = 256
    use_ema: bool = True
    parity_tol: float = 1e-4
    seed: int = 0
    update_sums: bool = True
    evaluation: str = ""
    evaluation_method: str = ""


def evaluation_summary(results_json: str, method: str) -> dict[str, Any]:
    """One method's scores from an evaluation ``results.json``, with its gains over the baselines.

    Returns:
        ``{"data", "max_side", "mean_psnr", "mean_ssim", "delta_vs_usm_db",
        "delta_vs_teacher_db" (when a teacher was scored), "psnr": {degradation: dB},
        "worst_vs_input_db", "worst_case" (when the evaluation has a robustness line)}``.

    Raises:
        ExportError: no row of that name (the message lists the rows).
    """
    try:
        body = json.loads(Path(results_json).read_text())
        rows = {row["name"]: row for row in body["methods"]}
        usm = rows[TUNED_USM]["mean"]["psnr"]
    except (ValueError, KeyError, TypeError) as e:
        raise ExportError(f"{results_json}: not a results.json of kdsharp-train evaluate ({e})") from None
    if method not in rows:
        raise ExportError(f"{results_json} has no method {method!r}; it has {sorted(rows)}")
    row = rows[method]
    teachers = [r for name, r in rows.items() if name.startswith("teacher")]
    summary: dict[str, Any] = {
        "data": Path(body["config"]["data"]).name,
        "max_side": body["config"]["max_side"],
        "mean_psnr": round(row["mean"]["psnr"], 3),
        "mean_ssim": round(row["mean"]["ssim"], 4),
        "delta_vs_usm_db": round(row["mean"]["psnr"] - usm, 3),
        "psnr": {d: round(v["psnr"], 3) for d, v in row["per"].items()},
    }
    if teachers:
        summary["delta_vs_teacher_db"] = round(row["mean"]["psnr"] - teachers[0]["mean"]["psnr"], 3)
    if "robustness" in row:  # evaluations since issue 14: the worst case against the input
        summary["worst_vs_input_db"] = round(row["robustness"]["worst_delta_db"], 3)
        summary["worst_case"] = row["robustness"]["worst_case"]
    return summary


class _Aligned(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_aligned(x)[0]


def _onnx_bytes(net: nn.Module, channels: int, multiple: int, opset: int, half: bool) -> bytes:
    if opset < 17:
        raise ExportError(f"opset {opset} is too old; the contract needs ≥ 17")
    side = 4 * multiple if multiple > 1 else 16
    dtype = torch.float16 if half else torch.float32
    # Re-parameterisable blocks fold into plain convs here (a copy; parity is measured against the branches).
    module = _Aligned(fold_reparam(net)).eval().to(dtype)
    x = torch.rand(1, channels, side, side + multiple, dtype=dtype)
    f = io.BytesIO()
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated but exact, quick, and honours opset 17.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, (x,), f, input_names=[contract.INPUT_NAME], output_names=[contract.OUTPUT_NAME],
            opset_version=opset, dynamic_axes={contract.INPUT_NAME: axes, contract.OUTPUT_NAME: axes},
            do_constant_folding=True, dynamo=False,
        )
    return f.getvalue()


def _set_metadata(model_bytes: bytes, meta: dict[str, str]) -> bytes:
    m = onnx.load_from_string(model_bytes)
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    return m.SerializeToString()


def _session(model_bytes: bytes) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def parity(
    net: nn.Module, model_bytes: bytes, channels: int, multiple: int, seed: int = 0,
    inputs: list[np.ndarray] | None = None,
) -> float:
    """Max abs difference between the ONNX model and torch (fp32).

    Args:
        inputs: ``1×C×H×W`` float32 arrays (aligned sizes). ``None`` uses uniform
            0–1 noise at three aligned sizes (including non-square). Quantised
            models are measured on degraded photo crops instead: their
            activation ranges are calibrated on photos, and white noise lies
            outside them.

    The ONNX input dtype (float32 or float16) is read from the model.
    """
    sess = _session(model_bytes)
    half = sess.get_inputs()[0].type == "tensor(float16)"
    g = torch.Generator().manual_seed(seed)
    m = max(multiple, 1)
    if inputs is None:
        sizes = ((8 * m, 8 * m), (5 * m, 11 * m), (16 * m, 6 * m))
        inputs = [torch.rand(1, channels, h, w, generator=g).numpy() for h, w in sizes]
    worst = 0.0
    for arr in inputs:
        x = torch.from_numpy(arr)
        with torch.no_grad():
            ref = net.forward_aligned(x)[0].numpy()
        feed = x.numpy().astype(np.float16 if half else np.float32)
        got = sess.run([contract.OUTPUT_NAME], {contract.INPUT_NAME: feed})[0].astype(np.float32)
        worst = max(worst, float(np.abs(got - ref).max()))
    return worst


class _CalibReader:
    """onnxruntime ``CalibrationDataReader`` over degraded training crops."""

    def __init__(self, crops: list[np.ndarray]) -> None:
        self._it: Iterator[np.ndarray] = iter(crops)

    def get_next(self) -> dict[str, np.ndarray] | None:
        x = next(self._it, None)
        return None if x is None else {contract.INPUT_NAME: x}


def calibration_crops(cfg: ExportConfig, channels: int, multiple: int) -> list[np.ndarray]:
    """Degraded ``1×C×s×s`` float32 crops from the training folder (seeded)."""
    side = max(multiple, cfg.calib_size // max(multiple, 1) * max(multiple, 1))
    sampler = TrainSampler(DataConfig(train=cfg.calib_dir, crop=side, margin=8), DegradeConfig())
    rng = np.random.default_rng(cfg.seed)
    out = []
    for _ in range(cfg.calib_crops):
        x, _ = sampler.sample(1, rng)
        if channels == 1:
            x = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        out.append(x.numpy().astype(np.float32))
    return out


def quantize_int8(fp32_bytes: bytes, crops: list[np.ndarray], workdir: Path) -> bytes:
    """Static QDQ int8 (per-channel int8 weights, uint8 activations) calibrated on ``crops``."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    raw, src, dst = workdir / ".q_raw.onnx", workdir / ".q_in.onnx", workdir / ".q_out.onnx"
    raw.write_bytes(fp32_bytes)
    try:
        quant_pre_process(str(raw), str(src), skip_symbolic_shape=True)
        quantize_static(
            str(src), str(dst), _CalibReader(crops), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        return dst.read_bytes()
    finally:
        for p in (raw, src, dst):
            if p.exists():
                p.unlink()


def update_sums(path: Path) -> Path | None:
    """Write or replace ``path``'s line in the ``SHA256SUMS`` of its enclosing ``weights`` folder.

    Returns:
        The SHA256SUMS path, or ``None`` when ``path`` is not inside a folder named ``weights``.
    """
    path = path.resolve()
    root = next((p for p in path.parents if p.name == "weights"), None)
    if root is None:
        return None
    rel = path.relative_to(root).as_posix()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    sums = root / "SHA256SUMS"
    lines = sums.read_text().splitlines() if sums.exists() else []
    kept = [ln for ln in lines if ln.strip() and ln.split(None, 1)[-1].lstrip("*") != rel]
    kept.append(f"{digest}  {rel}")
    kept.sort(key=lambda ln: ln.split(None, 1)[-1])
    atomic.write_bytes(sums, ("\n".join(kept) + "\n").encode())
    return sums


def _training_summary(meta: dict[str, Any]) -> dict[str, Any]:
    cfg = meta.get("config", {})
    d = cfg.get("distill", {})
    teacher = Path(d["teacher"]).name if d.get("teacher") else None
    bank_json = Path(cfg.get("data", {}).get("train", "")) / "bank.json"
    if d.get("output") and not d.get("gt_as_teacher") and cfg.get("data", {}).get("layout") == "bank" and bank_json.is_file():
        # Bank-trained: the labels came from the teacher the bank records (weights' sha256).
        bank = json.loads(bank_json.read_text())
        teacher = f"{bank['teacher']} (sha256 {bank['teacher_sha256'][:16]}, step {bank['teacher_step']}) via a {bank['samples']}-crop label bank"
    return {
        "steps": meta.get("step"),
        "train_seconds": round(float(meta.get("elapsed_s", 0.0)), 1),
        "train_cpu_seconds": round(float(meta.get("cpu_s", 0.0)), 1),
        "data": cfg.get("data", {}).get("train"),
        "batch": cfg.get("batch"),
        "crop": cfg.get("data", {}).get("crop"),
        "seed": cfg.get("seed"),
        "loss": {k: v for k, v in cfg.get("loss", {}).items() if v},
        "distill": {k: v for k, v in d.items() if v and k not in ("teacher",)},
        "teacher": teacher,
    }


def export_checkpoint(cfg: ExportConfig) -> list[str]:
    """Export ``cfg.checkpoint`` (and the requested variants).

    Returns:
        One human-readable line per written file (path, parity, size).

    Raises:
        ExportError: fp32 parity above ``parity_tol``, or a conditioned student.
        CheckpointError: unreadable checkpoint.
    """
    net, meta = load_model(cfg.checkpoint, use_ema=cfg.use_ema)
    net = net.float().eval()
    if getattr(net, "condition", 0):
        raise ExportError(f"{cfg.checkpoint}: a conditioned student (issue 15's diagnostic) needs the true "
                          "degradation as input, which no host has; it is not exported")
    channels = int(getattr(net, "in_channels", 3))
    multiple = int(net.size_multiple)
    out = Path(cfg.out)
    base = out.name.removesuffix(".onnx")
    metrics = {k: v for k, v in meta.get("metrics", {}).items() if k in ("psnr", "ssim", "per")}
    if cfg.evaluation:
        ckpt = Path(cfg.checkpoint)
        method = cfg.evaluation_method or f"student: {ckpt.parent.name}/{ckpt.name}"
        metrics["evaluation"] = evaluation_summary(cfg.evaluation, method)
    common = dict(
        architecture=net.architecture, size_multiple=multiple,
        color_space="luma" if channels == 1 else "rgb", receptive_radius=int(net.receptive_radius),
        arch_args=net.arch_args, training=_training_summary(meta),
    )
    fp32 = _onnx_bytes(net, channels, multiple, cfg.opset, half=False)
    variants: list[tuple[Path, bytes, str]] = [(out, fp32, "float32")]
    if cfg.fp16:
        variants.append((out.with_name(f"{base}.fp16.onnx"), _onnx_bytes(net, channels, multiple, cfg.opset, True), "float16"))
    held_out: list[np.ndarray] | None = None
    if cfg.int8:
        crops = calibration_crops(cfg, channels, multiple)
        held_out = calibration_crops(dataclasses.replace(cfg, seed=cfg.seed + 1, calib_crops=4), channels, multiple)
        variants.append((out.with_name(f"{base}.int8.onnx"), quantize_int8(fp32, crops, out.parent if out.parent.exists() else Path(".")), "int8"))
    lines = []
    for path, data, kind in variants:
        err = parity(net, data, channels, multiple, cfg.seed, held_out if kind == "int8" else None)
        if kind == "float32" and err > cfg.parity_tol:
            raise ExportError(f"{path}: parity {err:.2e} exceeds {cfg.parity_tol:.0e}")
        m = dict(metrics, parity_max_abs=err, weights=kind, parity_inputs="photo crops" if kind == "int8" else "uniform noise")
        sealed = contract.seal(_set_metadata(data, contract.metadata_for(metrics=m, **common)))
        atomic.write_bytes(path, sealed)
        line = f"{path}: {kind}, parity max |Δ| {err:.2e}, {len(sealed) / 1024:.1f} KiB"
        if cfg.update_sums:
            sums = update_sums(path)
            if sums is not None:
                line += f", listed in {sums}"
        lines.append(line)
    return lines


def export_teacher(checkpoint: str, out_dir: str) -> list[Path]:
    """Copy a teacher checkpoint's EMA weights to ``teacher.safetensors`` + ``teacher.json``.

    The JSON keeps the architecture, config and metrics (no optimiser state), so
    ``models.load_model(out_dir/teacher.json)`` rebuilds it for distillation.
    """
    from .checkpoint import load_checkpoint, subdict

    tensors, meta = load_checkpoint(Path(checkpoint))
    weights = subdict(tensors, "ema") or subdict(tensors, "model")
    from safetensors.torch import save_file

    od = Path(out_dir)
    od.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(od / "teacher.safetensors") as tmp:
        save_file({f"ema.{k}": v.contiguous() for k, v in weights.items()}, str(tmp))
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    keep = {k: meta[k] for k in ("arch", "config", "step", "elapsed_s", "cpu_s", "metrics", "params", "size_multiple", "receptive_radius", "best", "best_step") if k in meta}
    body = dict(keep, format="kdsharp-train-checkpoint/1", tensors="teacher.safetensors", tensors_sha256=digest)
    atomic.write_bytes(od / "teacher.json", json.dumps(body, indent=1, sort_keys=True).encode())
    paths = [od / "teacher.safetensors", od / "teacher.json"]
    for p in paths:
        update_sums(p)
    return paths
