"""Atomic, pickle-free checkpoints: safetensors for tensors, JSON for everything else.

A checkpoint named ``<name>`` in a run folder is two files:

* ``<name>.json``: the training config, architecture name and arguments, step,
  metrics, optimiser scalars (param groups), numpy RNG state, and the file name
  plus sha256 of the tensor file;
* ``<name>-<step>.safetensors`` (or the file named in the JSON): tensors under
  prefixes ``model.``, ``ema.``, ``opt.<param index>.<key>``, ``rng.torch``,
  ``disc.``, ``disc_opt.``, ``adapter.``.

The JSON is written last with ``os.replace``: it is the commit point, so a kill
at any moment leaves the previous checkpoint intact. Loading never unpickles.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from kdsharp_train import atomic
from safetensors.torch import load_file, save_file


class CheckpointError(ValueError):
    """A checkpoint is missing, inconsistent or not a kdsharp checkpoint."""


def save_checkpoint(run_dir: Path, name: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Write ``<name>.json`` and its tensor file atomically.

    Args:
        run_dir: folder (created if missing).
        name: checkpoint name, e.g. ``last`` or ``best``.
        tensors: flat name → tensor dict (moved to CPU, made contiguous).
        meta: JSON-able metadata; ``meta["step"]`` names the tensor file.

    Returns:
        The path of the JSON file.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    step = int(meta.get("step", 0))
    tensor_name = f"{name}-{step:08d}.safetensors"
    tensor_path = run_dir / tensor_name
    with atomic.replacing(tensor_path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    json_path = run_dir / f"{name}.json"
    old: str | None = None
    if json_path.exists():
        try:
            old = json.loads(json_path.read_text()).get("tensors")
        except (ValueError, OSError):
            old = None
    body = dict(meta, tensors=tensor_name, tensors_sha256=digest)
    atomic.write_bytes(json_path, json.dumps(body, indent=1, sort_keys=True).encode())
    if old and old != tensor_name and (run_dir / old).exists():
        (run_dir / old).unlink()
    return json_path


def load_checkpoint(json_path: Path, verify: bool = True) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint written by ``save_checkpoint``.

    Args:
        json_path: the ``<name>.json`` file (a run folder means ``<folder>/last.json``).
        verify: check the tensor file's sha256 against the JSON.

    Returns:
        ``(tensors, meta)``.

    Raises:
        CheckpointError: missing files, bad JSON or a digest mismatch.
    """
    json_path = Path(json_path)
    if json_path.is_dir():
        json_path = json_path / "last.json"
    if not json_path.is_file():
        raise CheckpointError(f"{json_path}: checkpoint not found")
    try:
        meta = json.loads(json_path.read_text())
    except ValueError as e:
        raise CheckpointError(f"{json_path}: not valid JSON ({e})") from e
    if not isinstance(meta, dict) or "tensors" not in meta or "arch" not in meta:
        raise CheckpointError(f"{json_path}: not a kdsharp checkpoint (no 'tensors'/'arch' entries)")
    tpath = json_path.parent / meta["tensors"]
    if not tpath.is_file():
        raise CheckpointError(f"{json_path}: tensor file {tpath.name} is missing")
    if verify and meta.get("tensors_sha256"):
        if hashlib.sha256(tpath.read_bytes()).hexdigest() != meta["tensors_sha256"]:
            raise CheckpointError(f"{tpath}: sha256 does not match {json_path.name}")
    return load_file(str(tpath)), meta


def subdict(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """Tensors under ``prefix.`` with the prefix stripped."""
    p = prefix + "."
    return {k[len(p) :]: v for k, v in tensors.items() if k.startswith(p)}


def optimizer_to_flat(opt: torch.optim.Optimizer, prefix: str = "opt") -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    """Split an optimiser state into tensors (per parameter index) and JSON param groups."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            t = v if isinstance(v, torch.Tensor) else torch.tensor(v)
            tensors[f"{prefix}.{idx}.{k}"] = t
    groups = json.loads(json.dumps(sd["param_groups"], default=float))
    return tensors, groups


def optimizer_from_flat(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: list[dict[str, Any]], prefix: str = "opt") -> None:
    """Load state produced by ``optimizer_to_flat`` into ``opt``."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in subdict(tensors, prefix).items():
        idx, key = k.split(".", 1)
        state.setdefault(int(idx), {})[key] = v
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})
