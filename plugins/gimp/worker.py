"""The worker process the GIMP plug-in hands its pixels to.

GIMP runs Python plug-ins with the system's Python (3.13 on Debian 13), which
may have neither numpy nor onnxruntime. So the plug-in (``plugin.py``, run by
GIMP) never imports the core: it starts ``<kdsharp python> -m
kdsharp_gimp.worker``, where ``<kdsharp python>`` is the interpreter that ran
``kdsharp install gimp`` (recorded in ``kdsharp.json`` beside the plug-in),
and exchanges raw pixel bytes with it over stdin/stdout.

Protocol: every message is one line of JSON (UTF-8, ending in ``\\n``)
followed by exactly ``header["bytes"]`` raw bytes (0 when absent).

1. ``{"op": "open", "model": str | null, "strength": float}`` — the worker
   loads the model and answers ``{"ok": true, "multiple": m, "context": c,
   "providers": [...], "model": path}``. ``m`` is the model's size multiple
   and ``c`` the context (pixels, a multiple of ``m``) a window needs on
   each side so its kept pixels equal those of a whole-image pass.
   Opening a model opened before reuses it (the dialog's preview switches models).
2. ``{"op": "sharpen", "height": h, "width": w, "channels": k, "dtype": d,
   "keep": [y, x, kh, kw], "bytes": n}`` (and optionally ``"strength": s``,
   which replaces the one given at ``open``) followed by the window's pixels
   (``h×w×k`` of dtype ``d`` in ``uint8``/``uint16``/``float16``/``float32``,
   row-major, native byte order) — the answer is ``{"ok": true, "bytes": n}``
   followed by the sharpened ``kh×kw×k`` block at ``(y, x)`` of the window.
3. End of stdin: the worker exits with status 0.

Any failure answers ``{"ok": false, "error": "<one line>"}`` and the worker
exits with status 1. Nothing but protocol messages is ever written to stdout:
stray prints (and onnxruntime's own logging) go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, BinaryIO

import numpy as np

from kdsharp import InputError, KdsharpError, RuntimeConfig, Sharpener, ladder

#: Pixel types the plug-in may send, by protocol name.
DTYPES: dict[str, np.dtype] = {
    "uint8": np.dtype(np.uint8),
    "uint16": np.dtype(np.uint16),
    "float16": np.dtype(np.float16),
    "float32": np.dtype(np.float32),
}

#: Largest header line accepted, so a garbled stream fails fast.
MAX_HEADER_BYTES = 1 << 16


#: Models opened in this worker, by name or path: reopening one is free.
_OPENED: dict[str, Sharpener] = {}


class ProtocolError(KdsharpError):
    """The plug-in sent something the protocol does not allow."""


def read_message(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """Read one message; ``None`` at a clean end of stream.

    Raises:
        ProtocolError: a malformed header or a truncated payload.
    """
    line = stream.readline(MAX_HEADER_BYTES)
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise ProtocolError("message header is too long or truncated")
    try:
        header = json.loads(line)
    except ValueError:
        raise ProtocolError(f"message header is not JSON: {line[:80]!r}") from None
    if not isinstance(header, dict):
        raise ProtocolError("message header must be a JSON object")
    size = header.get("bytes", 0)
    if not isinstance(size, int) or size < 0:
        raise ProtocolError(f"bad payload size {size!r}")
    payload = stream.read(size) if size else b""
    if len(payload) != size:
        raise ProtocolError(f"payload truncated: expected {size} bytes, got {len(payload)}")
    return header, payload


def write_message(stream: BinaryIO, header: dict[str, Any], payload: bytes = b"") -> None:
    """Write one message (header line, then payload) and flush."""
    stream.write(json.dumps({**header, "bytes": len(payload)}).encode() + b"\n")
    if payload:
        stream.write(payload)
    stream.flush()


def open_sharpener(header: dict[str, Any]) -> tuple[Sharpener, float, dict[str, Any]]:
    """Handle ``open``: load the model and describe it.

    Returns:
        The sharpener, the strength for every later window, and the answer.

    Raises:
        KdsharpError: a bad model or strength.
    """
    model = header.get("model")
    if model is not None and not isinstance(model, str):
        raise ProtocolError(f"model must be a string or null, got {model!r}")
    strength = _strength(header, 1.0)
    # No model named: the stills rung (quality), as every stills host.
    chosen = ladder.stills_model(model)
    sharpener = _OPENED.get(str(chosen))
    if sharpener is None:
        # The plug-in cuts the image into windows itself: one network pass per window.
        sharpener = _OPENED[str(chosen)] = Sharpener(chosen, config=RuntimeConfig(tile=0))
    answer = {
        "ok": True,
        "multiple": sharpener.info.size_multiple,
        "context": sharpener.overlap,
        "providers": sharpener.providers,
        "model": str(sharpener.model_path),
    }
    return sharpener, strength, answer


def _strength(header: dict[str, Any], default: float) -> float:
    strength = header.get("strength", default)
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 2.0:
        raise InputError(f"strength must be a number from 0 to 2, got {strength!r}")
    return float(strength)


def sharpen_window(sharpener: Sharpener, strength: float, header: dict[str, Any], payload: bytes) -> bytes:
    """Handle ``sharpen``: sharpen one window and return its kept block's bytes.

    Raises:
        ProtocolError: geometry or dtype that does not fit the payload.
        KdsharpError: the core's own errors.
    """
    try:
        h, w, k = (int(header[key]) for key in ("height", "width", "channels"))
        dtype = DTYPES[header["dtype"]]
        y, x, kh, kw = (int(v) for v in header["keep"])
    except (KeyError, TypeError, ValueError):
        raise ProtocolError(f"bad sharpen header {header!r}") from None
    if h < 1 or w < 1 or k not in (1, 2, 3, 4) or len(payload) != h * w * k * dtype.itemsize:
        raise ProtocolError(f"payload of {len(payload)} bytes does not hold a {h}×{w}×{k} {dtype} window")
    if not (0 <= y and 0 <= x and kh >= 1 and kw >= 1 and y + kh <= h and x + kw <= w):
        raise ProtocolError(f"kept block {header['keep']} lies outside the {h}×{w} window")
    window = np.frombuffer(payload, dtype=dtype).reshape(h, w, k)
    result = sharpener.sharpen(window, strength=_strength(header, strength))
    return np.ascontiguousarray(result[y : y + kh, x : x + kw]).tobytes()


def serve(requests: BinaryIO, replies: BinaryIO) -> int:
    """Answer messages until the end of ``requests``; return the exit status."""
    sharpener: Sharpener | None = None
    strength = 1.0
    try:
        while (message := read_message(requests)) is not None:
            header, payload = message
            op = header.get("op")
            if op == "open":
                sharpener, strength, answer = open_sharpener(header)
                write_message(replies, answer)
            elif op == "sharpen":
                if sharpener is None:
                    raise ProtocolError("sharpen before open")
                write_message(replies, {"ok": True}, sharpen_window(sharpener, strength, header, payload))
            else:
                raise ProtocolError(f"unknown op {op!r}")
    except KdsharpError as exc:
        write_message(replies, {"ok": False, "error": str(exc)})
        return 1
    except BrokenPipeError:
        return 1  # the plug-in is gone: nobody left to tell
    return 0


def main() -> int:
    """Serve the protocol on the real stdin/stdout."""
    # Keep the protocol stream for ourselves; anything else printed to fd 1
    # (by Python code or by onnxruntime's C++ logging) lands on stderr.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        return serve(sys.stdin.buffer, replies)
    except Exception as exc:  # noqa: BLE001 -- a bug here must still reach the user as one line
        import traceback

        traceback.print_exc()
        try:
            write_message(replies, {"ok": False, "error": f"kdsharp worker failed: {type(exc).__name__}: {exc}"})
        except OSError:
            pass
        return 1


if __name__ == "__main__":
    sys.exit(main())
