"""Every registry entry builds, runs on odd sizes, round-trips a checkpoint and exports with parity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from kdsharp_train.checkpoint import CheckpointError, save_checkpoint
from kdsharp_train.cli import main
from kdsharp_train.export import (
    ExportConfig,
    ExportError,
    export_checkpoint,
    export_teacher,
    update_sums,
)
from kdsharp_train.models import (
    UnknownModelError,
    arch_of,
    build_model,
    count_params,
    gflops_1080p,
    load_model,
)
from kdsharp_train.students import STUDENTS
from kdsharp_train.teachers import TEACHERS
from influence import farthest_influence
from random_weights import randomise
from tiny_args import TINY_ARGS

from kdsharp import RuntimeConfig, Sharpener
from kdsharp.contract import (
    KEY_ARCHITECTURE,
    KEY_COLOR_SPACE,
    KEY_SIZE_MULTIPLE,
    REQUIRED_KEYS,
)

ENTRIES = [("teacher", n) for n in TEACHERS] + [("student", n) for n in STUDENTS]
#: Every registry entry with its tiny arguments, plus the fast student's detail path (luma and RGB), its
#: linear path with a dilated last conv (issue 15's wider window), and issue 15's other levers together.
CASES = [pytest.param(kind, name, TINY_ARGS[(kind, name)], id=f"{kind}-{name}") for kind, name in ENTRIES] + [
    pytest.param("student", "fast", {**TINY_ARGS[("student", "fast")], "detail": 2, "in_channels": c}, id=f"fast-detail-c{c}")
    for c in (1, 3)
] + [
    pytest.param("student", "fast", {"channels": 4, "convs": 2, "stride": 4, "in_channels": 1, "linear": 16, "dilation": 3},
                 id="fast-linear-dilated")
] + [  # issue 15's levers: kernel prediction, the local degradation estimate, re-parameterised body convs
    pytest.param("student", "fast", {"channels": 4, "convs": 2, "stride": 4, "in_channels": c, "kpn": 2, "kpn_kernel": 7,
                                     "stats": 3, "stats_window": 3, "rep": True, "linear": 4 * c * 4}, id=f"fast-levers-c{c}")
    for c in (1, 3)
]


def _save(net: torch.nn.Module, kind: str, folder: Path) -> Path:
    tensors = {f"model.{k}": v for k, v in net.state_dict().items()}
    return save_checkpoint(folder, "best", tensors, {"step": 1, "arch": arch_of(net, kind), "config": {}})


@pytest.mark.parametrize("kind,name,args", CASES)
def test_builds_and_runs_on_odd_sizes(kind: str, name: str, args: dict) -> None:
    net = randomise(build_model(kind, name, args), std=0.1)
    c = net.in_channels
    for h, w in ((1, 1), (13, 17), (31, 8)):
        x = torch.rand(1, c, h, w)
        with torch.no_grad():
            y = net(x)
        assert y.shape == x.shape
        assert torch.isfinite(y).all()
    assert net.size_multiple >= 1 and net.receptive_radius >= 1
    assert json.loads(json.dumps(net.arch_args)) == net.arch_args


@pytest.mark.parametrize("kind,name,args", CASES)
def test_untrained_network_is_identity(kind: str, name: str, args: dict) -> None:
    # Zero-initialised output layers: before training every network passes its input through.
    net = build_model(kind, name, args).eval()
    x = torch.rand(1, net.in_channels, 16, 20)
    with torch.no_grad():
        assert torch.allclose(net(x), x, atol=1e-6)


@pytest.mark.parametrize("kind,name,args", CASES)
def test_checkpoint_round_trip(kind: str, name: str, args: dict, tmp_path: Path) -> None:
    net = randomise(build_model(kind, name, args), std=0.1)
    path = _save(net, kind, tmp_path)
    again, meta = load_model(path)
    assert meta["arch"]["name"] == name
    x = torch.rand(1, net.in_channels, 19, 23)
    with torch.no_grad():
        assert torch.equal(net(x), again(x))


@pytest.mark.parametrize("kind,name,args", CASES)
def test_export_parity_and_contract(kind: str, name: str, args: dict, tmp_path: Path) -> None:
    net = randomise(build_model(kind, name, args), std=0.1)
    path = _save(net, kind, tmp_path / "ck")
    out = tmp_path / f"{name}.onnx"
    lines = export_checkpoint(ExportConfig(checkpoint=str(path), out=str(out)))
    assert len(lines) == 1 and out.exists()
    m = onnx.load(str(out))
    assert m.opset_import[0].version >= 17
    props = {p.key: p.value for p in m.metadata_props}
    assert set(REQUIRED_KEYS) <= set(props)
    assert props[KEY_ARCHITECTURE] == name
    assert int(props[KEY_SIZE_MULTIPLE]) == net.size_multiple
    assert json.loads(props["kdsharp.metrics"])["parity_max_abs"] <= 1e-4
    if name == "nafnet":  # the channel layer norm exports as ONNX's fused op, not nine elementwise ones
        ops = {n.op_type for n in m.graph.node}
        assert "LayerNormalization" in ops and "ReduceMean" not in ops
    # The core accepts it (digest, contract) and reproduces torch on an odd-sized image.
    sh = Sharpener(out, config=RuntimeConfig(providers=("CPUExecutionProvider",), threads=1))
    r = net.receptive_radius + net.size_multiple
    img = np.random.default_rng(0).random((2 * r + 9, 2 * r + 11, net.in_channels), dtype=np.float32)
    got = sh.sharpen(img)
    with torch.no_grad():
        ref = net(torch.from_numpy(img).permute(2, 0, 1)[None])[0].permute(1, 2, 0).clamp(0, 1).numpy()
    # The core pads at borders its own way: compare beyond the receptive radius.
    assert np.abs(got[r:-r, r:-r] - ref[r:-r, r:-r]).max() < 1e-4


def test_luma_student_exports_as_luma(tmp_path: Path) -> None:
    net = randomise(build_model("student", "fast", {"channels": 4, "convs": 1, "stride": 4, "in_channels": 1}), std=0.1)
    path = _save(net, "student", tmp_path / "ck")
    out = tmp_path / "luma.onnx"
    export_checkpoint(ExportConfig(checkpoint=str(path), out=str(out), fp16=True))
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert props[KEY_COLOR_SPACE] == "luma"
    fp16 = tmp_path / "luma.fp16.onnx"
    m16 = onnx.load(str(fp16))
    assert m16.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT16
    assert json.loads({p.key: p.value for p in m16.metadata_props}["kdsharp.metrics"])["parity_max_abs"] < 5e-2


def test_int8_variant_is_calibrated_and_measured(tmp_path: Path, photo_dirs) -> None:
    # Small weights, like a trained residual corrector (a small correction on top of the input).
    net = randomise(build_model("student", "fast", {"channels": 4, "convs": 1, "stride": 4}), std=0.03)
    path = _save(net, "student", tmp_path / "ck")
    weights = tmp_path / "weights"
    out = weights / "kdsharp-fast.onnx"
    lines = export_checkpoint(ExportConfig(checkpoint=str(path), out=str(out), int8=True,
                                           calib_dir=str(photo_dirs[0]), calib_crops=16, calib_size=32))
    q = weights / "kdsharp-fast.int8.onnx"
    assert q.exists() and len(lines) == 2
    ops = {n.op_type for n in onnx.load(str(q)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    parity = json.loads({p.key: p.value for p in onnx.load(str(q)).metadata_props}["kdsharp.metrics"])["parity_max_abs"]
    assert 0 < parity < 0.05
    sums = (weights / "SHA256SUMS").read_text().splitlines()
    assert sorted(line.split()[1] for line in sums) == ["kdsharp-fast.int8.onnx", "kdsharp-fast.onnx"]
    Sharpener(q, config=RuntimeConfig(providers=("CPUExecutionProvider",), threads=1))  # digest + sums verify


def test_sums_line_is_replaced_not_duplicated(tmp_path: Path) -> None:
    f = tmp_path / "weights" / "ablation" / "x.onnx"
    f.parent.mkdir(parents=True)
    f.write_bytes(b"one")
    update_sums(f)
    f.write_bytes(b"two")
    sums = update_sums(f)
    lines = sums.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith("  ablation/x.onnx")
    assert update_sums(tmp_path / "elsewhere.onnx") is None


def test_export_refuses_old_opset(tmp_path: Path) -> None:
    net = build_model("student", "dilated", {"channels": 4, "dilations": [1]})
    path = _save(net, "student", tmp_path)
    with pytest.raises(ExportError, match="opset"):
        export_checkpoint(ExportConfig(checkpoint=str(path), out=str(tmp_path / "m.onnx"), opset=13))


def test_teacher_export_rebuilds(tmp_path: Path) -> None:
    net = randomise(build_model("teacher", "nafnet", TINY_ARGS[("teacher", "nafnet")]), std=0.1)
    path = _save(net, "teacher", tmp_path / "run")
    files = export_teacher(str(path), str(tmp_path / "weights" / "teacher"))
    again, _ = load_model(files[1])
    assert main(["export", str(path), "--out", str(tmp_path / "cli"), "--teacher-files"]) == 0
    assert (tmp_path / "cli" / "teacher.safetensors").read_bytes() == files[0].read_bytes()
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        assert torch.equal(net(x), again(x))
    assert (tmp_path / "weights" / "SHA256SUMS").read_text().count("teacher/teacher.") == 2


def test_unknown_name_and_tampered_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(UnknownModelError, match="choose from fast"):
        build_model("student", "nope")
    net = build_model("student", "fast", {"channels": 4, "convs": 1})
    path = _save(net, "student", tmp_path)
    tensor_file = tmp_path / json.loads(path.read_text())["tensors"]
    tensor_file.write_bytes(tensor_file.read_bytes()[:-4] + b"0000")
    with pytest.raises(CheckpointError, match="sha256"):
        load_model(path)


def test_flops_and_params_are_counted() -> None:
    fast = build_model("student", "fast")
    teacher = build_model("teacher", "nafnet")
    assert count_params(teacher) >= 1_000_000
    assert count_params(build_model("teacher", "edsr")) >= 1_000_000
    # The default teacher must cost at least 50x the default student per frame.
    assert gflops_1080p(teacher, 64) >= 50 * gflops_1080p(fast, 64)


@pytest.mark.parametrize("kind,name,args", [c for c in CASES if c.values[0] == "student"])
def test_declared_receptive_radius_bounds_the_influence(kind: str, name: str, args: dict) -> None:
    # The core overlaps tiles by receptive_radius: no input pixel further away may change an output pixel.
    net = build_model(kind, name, args)
    assert farthest_influence(net) <= net.receptive_radius
