"""The model contract shared by the exporter (trainer) and the core.

A kdsharp model is an ONNX file with:

* one input named ``input`` and one output named ``output``, both rank 4,
  ``N×C×H×W`` float32 (or float16 for an fp16 variant), RGB values in 0–1
  (``C = 3``) or luma in 0–1 (``C = 1``); ``H`` and ``W`` are dynamic;
  the output has the input's shape;
* metadata properties (ONNX ``metadata_props``) under the keys below.

``kdsharp.sha256`` makes the file self-checking without the ``onnx`` package:
it is the sha256 of the file's bytes in which the 64 hex digits of the digest
itself are replaced by 64 ASCII zeros (``SHA256_PLACEHOLDER``). The exporter
writes the placeholder, hashes, then substitutes the digest in place; the
protobuf stays valid because the length does not change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

INPUT_NAME = "input"
OUTPUT_NAME = "output"
FORMAT_VERSION = "1"

KEY_FORMAT = "kdsharp.format_version"
KEY_ARCHITECTURE = "kdsharp.architecture"
KEY_ARCH_ARGS = "kdsharp.arch_args"  # JSON object
KEY_SIZE_MULTIPLE = "kdsharp.size_multiple"  # decimal integer >= 1
KEY_COLOR_SPACE = "kdsharp.color_space"  # one of COLOR_SPACES
KEY_RECEPTIVE_RADIUS = "kdsharp.receptive_radius"  # pixels; tiles overlap at least this much
KEY_TRAINING = "kdsharp.training"  # JSON object: summary of data, steps, teacher
KEY_METRICS = "kdsharp.metrics"  # JSON object: measured metrics
KEY_SHA256 = "kdsharp.sha256"

REQUIRED_KEYS = (
    KEY_FORMAT,
    KEY_ARCHITECTURE,
    KEY_SIZE_MULTIPLE,
    KEY_COLOR_SPACE,
    KEY_RECEPTIVE_RADIUS,
    KEY_TRAINING,
    KEY_METRICS,
    KEY_SHA256,
)

#: ``rgb``: 3 channels, sRGB-encoded, 0–1. ``luma``: 1 channel, BT.601 Y' of sRGB values, 0–1.
COLOR_SPACES = ("rgb", "luma")

SHA256_PLACEHOLDER = "0" * 64


def file_digest(data: bytes, embedded: str) -> str:
    """Return the self-digest of an ONNX file's bytes.

    Args:
        data: the whole file.
        embedded: the digest stored in its ``kdsharp.sha256`` metadata
            (64 lowercase hex digits), or the placeholder while exporting.

    Returns:
        The sha256 hex digest of ``data`` with ``embedded`` replaced by the
        placeholder. When ``embedded`` does not occur exactly once the digest of
        the unmodified bytes is returned, which will not match.
    """
    needle = embedded.encode("ascii")
    if data.count(needle) == 1:
        data = data.replace(needle, SHA256_PLACEHOLDER.encode("ascii"))
    return hashlib.sha256(data).hexdigest()


def seal(data: bytes) -> bytes:
    """Replace the placeholder digest in an exported file by the real one.

    Args:
        data: ONNX bytes whose ``kdsharp.sha256`` value is ``SHA256_PLACEHOLDER``.

    Returns:
        The same bytes with the placeholder replaced by ``file_digest``.

    Raises:
        ValueError: the placeholder does not occur exactly once.
    """
    needle = SHA256_PLACEHOLDER.encode("ascii")
    if data.count(needle) != 1:
        raise ValueError("the sha256 placeholder must occur exactly once in the model bytes")
    digest = hashlib.sha256(data).hexdigest()
    return data.replace(needle, digest.encode("ascii"))


@dataclass(frozen=True)
class ModelInfo:
    """What the core knows about a loaded model, read from its metadata.

    Attributes:
        architecture: registry name of the network (``fast``, ``dsconv``, ...).
        size_multiple: H and W fed to the network must be multiples of this.
        color_space: ``rgb`` or ``luma`` (see ``COLOR_SPACES``).
        channels: 3 for ``rgb``, 1 for ``luma``.
        receptive_radius: pixels of context the network needs on each side.
        sha256: the embedded self-digest.
        arch_args: constructor arguments of the architecture.
        training: free-form training summary.
        metrics: free-form measured metrics.
        dtype: ``float32`` or ``float16`` (the network's input element type).
    """

    architecture: str
    size_multiple: int
    color_space: str
    channels: int
    receptive_radius: int
    sha256: str
    arch_args: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    dtype: str = "float32"


def metadata_for(
    *,
    architecture: str,
    size_multiple: int,
    color_space: str,
    receptive_radius: int,
    arch_args: Mapping[str, Any],
    training: Mapping[str, Any],
    metrics: Mapping[str, Any],
) -> dict[str, str]:
    """Build the metadata dict an exporter writes (with the placeholder digest)."""
    if color_space not in COLOR_SPACES:
        raise ValueError(f"color_space must be one of {COLOR_SPACES}, got {color_space!r}")
    return {
        KEY_FORMAT: FORMAT_VERSION,
        KEY_ARCHITECTURE: architecture,
        KEY_ARCH_ARGS: json.dumps(dict(arch_args), sort_keys=True),
        KEY_SIZE_MULTIPLE: str(int(size_multiple)),
        KEY_COLOR_SPACE: color_space,
        KEY_RECEPTIVE_RADIUS: str(int(receptive_radius)),
        KEY_TRAINING: json.dumps(dict(training), sort_keys=True),
        KEY_METRICS: json.dumps(dict(metrics), sort_keys=True),
        KEY_SHA256: SHA256_PLACEHOLDER,
    }
