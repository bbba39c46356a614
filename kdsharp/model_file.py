"""Finding, reading and verifying a model file, and checking its contract.

Nothing here creates a session: ``kdsharp.session`` does that, and
``check_contract`` then reads what onnxruntime parsed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from kdsharp import contract, shipped
from kdsharp.errors import ModelError

#: Larger than any sane sharpening network; refuses e.g. a video passed as a model.
MAX_MODEL_BYTES = 1 << 30

# How the digest sits in the protobuf: StringStringEntryProto{key=1, value=2}.
_DIGEST_RE = re.compile(re.escape(contract.KEY_SHA256.encode()) + rb"\x12\x40([0-9a-f]{64})")


@dataclass(frozen=True)
class ModelSource:
    """A model's bytes and where they came from.

    Attributes:
        path: the file read.
        label: what the user asked for (a shipped name or the path).
        data: the file's bytes, verified against its checksums.
        embedded_digest: the ``kdsharp.sha256`` value found in the bytes, if any.
    """

    path: Path
    label: str
    data: bytes
    embedded_digest: str | None


def resolve(model: str | Path | None) -> tuple[Path, str]:
    """Turn a model argument into (file path, label).

    Args:
        model: ``None`` for the default shipped model, a shipped name such as
            ``"fast"``, or a path to an ``.onnx`` file.

    Raises:
        ModelError: a shipped model that is not installed, or a missing file.
    """
    if model is None:
        model = shipped.DEFAULT_MODEL
    if isinstance(model, str) and model in shipped.SHIPPED_MODELS:
        path = shipped.shipped_path(model)
        if not path.is_file():
            raise ModelError(
                f"shipped model {model!r} is not installed (expected {path}); "
                "train and export it with kdsharp-train, or pass a path to an .onnx file"
            )
        return path, model
    path = Path(model).expanduser()
    if not path.exists():
        names = ", ".join(sorted(shipped.SHIPPED_MODELS))
        raise ModelError(f"model not found: {path} (shipped names are: {names})")
    if not path.is_file():
        raise ModelError(f"model is not a file: {path}")
    return path, str(model)


def read_verified(model: str | Path | None) -> ModelSource:
    """Read a model and check its embedded digest and any ``SHA256SUMS`` entry.

    Raises:
        ModelError: unreadable, empty, oversized, or failing a checksum.
    """
    path, label = resolve(model)
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise ModelError(f"{path}: {size} bytes is too large to be a kdsharp model")
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model ({exc.strerror or exc})") from None
    if not data:
        raise ModelError(f"{path}: model file is empty")
    found = _DIGEST_RE.findall(data)
    embedded = found[0].decode("ascii") if len(found) == 1 else None
    if embedded is not None and embedded != contract.SHA256_PLACEHOLDER:
        actual = contract.file_digest(data, embedded)
        if actual != embedded:
            raise ModelError(
                f"{path}: checksum mismatch, the file is corrupt or was modified "
                f"(its metadata says sha256 {embedded[:12]}…, the file hashes to {actual[:12]}…)"
            )
    _check_sums_file(path, data)
    return ModelSource(path=path, label=label, data=data, embedded_digest=embedded)


def _check_sums_file(path: Path, data: bytes) -> None:
    """Verify ``path`` against a ``SHA256SUMS`` in its folder or up to two folders above."""
    resolved = path.resolve()
    for folder in list(resolved.parents)[:3]:
        sums = shipped.read_sums(folder)
        if not sums:
            continue
        rel = resolved.relative_to(folder).as_posix()
        expected = sums.get(rel)
        if expected is None:
            continue
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise ModelError(
                f"{path}: checksum mismatch with {folder / shipped.SUMS_FILE} "
                f"(listed {expected[:12]}…, file hashes to {actual[:12]}…); the file is corrupt or was modified"
            )
        return


def _json_field(meta: Mapping[str, str], key: str, where: Path) -> dict[str, Any]:
    try:
        value = json.loads(meta.get(key, "{}") or "{}")
    except json.JSONDecodeError:
        raise ModelError(f"{where}: metadata {key} is not valid JSON") from None
    if not isinstance(value, dict):
        raise ModelError(f"{where}: metadata {key} must be a JSON object")
    return value


def _int_field(meta: Mapping[str, str], key: str, where: Path, minimum: int) -> int:
    raw = meta.get(key, "")
    try:
        value = int(raw)
    except ValueError:
        raise ModelError(f"{where}: metadata {key} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ModelError(f"{where}: metadata {key} must be >= {minimum}, got {value}")
    return value


_ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16"}


def check_contract(source: ModelSource, session: Any) -> contract.ModelInfo:
    """Check a parsed model against the kdsharp contract and read its metadata.

    Args:
        source: the verified file.
        session: an ``onnxruntime.InferenceSession`` made from ``source.data``.

    Returns:
        The model's ``ModelInfo``.

    Raises:
        ModelError: naming the first broken rule.
    """
    where = source.path
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if [i.name for i in inputs] != [contract.INPUT_NAME]:
        raise ModelError(f"{where}: expected one input named {contract.INPUT_NAME!r}, got {[i.name for i in inputs]}")
    if [o.name for o in outputs] != [contract.OUTPUT_NAME]:
        raise ModelError(f"{where}: expected one output named {contract.OUTPUT_NAME!r}, got {[o.name for o in outputs]}")
    inp, out = inputs[0], outputs[0]
    for arg in (inp, out):
        if len(arg.shape) != 4:
            raise ModelError(f"{where}: {arg.name} must be rank 4 (N×C×H×W), got shape {arg.shape}")
        if arg.type not in _ORT_TYPES:
            raise ModelError(f"{where}: {arg.name} must be float or float16, got {arg.type}")
        if isinstance(arg.shape[2], int) or isinstance(arg.shape[3], int):
            raise ModelError(f"{where}: {arg.name} height and width must be dynamic, got shape {arg.shape}")
    if inp.type != out.type:
        raise ModelError(f"{where}: input and output element types differ ({inp.type} vs {out.type})")
    channels = inp.shape[1]
    if channels not in (1, 3) or out.shape[1] != channels:
        raise ModelError(f"{where}: input and output must have 1 or 3 channels alike, got {inp.shape} -> {out.shape}")

    meta = dict(session.get_modelmeta().custom_metadata_map)
    missing = [k for k in contract.REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelError(f"{where}: not a kdsharp model, metadata lacks {', '.join(missing)}")
    if meta[contract.KEY_FORMAT] != contract.FORMAT_VERSION:
        raise ModelError(f"{where}: unsupported kdsharp format version {meta[contract.KEY_FORMAT]!r}")
    digest = meta[contract.KEY_SHA256]
    if digest != source.embedded_digest or digest == contract.SHA256_PLACEHOLDER:
        raise ModelError(f"{where}: metadata {contract.KEY_SHA256} is missing, unsealed or does not match the file")
    color_space = meta[contract.KEY_COLOR_SPACE]
    if color_space not in contract.COLOR_SPACES:
        raise ModelError(f"{where}: unknown colour space {color_space!r} (expected one of {contract.COLOR_SPACES})")
    if (color_space == "rgb") != (channels == 3):
        raise ModelError(f"{where}: colour space {color_space!r} does not fit {channels} channel(s)")
    return contract.ModelInfo(
        architecture=meta[contract.KEY_ARCHITECTURE],
        size_multiple=_int_field(meta, contract.KEY_SIZE_MULTIPLE, where, 1),
        color_space=color_space,
        channels=channels,
        receptive_radius=_int_field(meta, contract.KEY_RECEPTIVE_RADIUS, where, 0),
        sha256=digest,
        arch_args=_json_field(meta, contract.KEY_ARCH_ARGS, where),
        training=_json_field(meta, contract.KEY_TRAINING, where),
        metrics=_json_field(meta, contract.KEY_METRICS, where),
        dtype=_ORT_TYPES[inp.type],
    )
