"""kdsharp_gimp.worker as the plug-in runs it: a real ``python -m kdsharp_gimp.worker`` process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kdsharp_gimp.worker import read_message, serve, write_message

from kdsharp import Sharpener


class WorkerProcess:
    """Talks the worker protocol to a real worker process."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kdsharp_gimp.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def ask(self, header: dict[str, Any], payload: bytes = b"") -> tuple[dict[str, Any], bytes]:
        assert self.process.stdin is not None and self.process.stdout is not None
        write_message(self.process.stdin, header, payload)
        message = read_message(self.process.stdout)
        assert message is not None, self.process.stderr.read().decode() if self.process.stderr else ""
        return message

    def finish(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        rest = self.process.stdout.read() if self.process.stdout else b""
        assert rest == b"", f"stray output on the protocol stream: {rest[:200]!r}"
        return self.process.wait(timeout=30)


@pytest.fixture
def worker() -> Iterator[WorkerProcess]:
    proc = WorkerProcess()
    yield proc
    if proc.process.poll() is None:
        proc.process.kill()
        proc.process.wait()


def _photo(h: int = 45, w: int = 61, c: int = 3, dtype: Any = np.uint8) -> np.ndarray:
    from skimage import data

    rgb = data.astronaut()[100 : 100 + h, 150 : 150 + w]
    if c == 1:
        rgb = rgb.mean(axis=2, keepdims=True)
    if dtype == np.uint8:
        return np.ascontiguousarray(rgb.astype(np.uint8))
    return np.ascontiguousarray((rgb / 255.0).astype(dtype))


def test_open_describes_the_model(worker: WorkerProcess, tiny_model: Path) -> None:
    answer, _ = worker.ask({"op": "open", "model": str(tiny_model), "strength": 1.0})
    sharpener = Sharpener(tiny_model)
    assert answer["ok"] is True
    assert answer["multiple"] == sharpener.info.size_multiple == 4
    assert answer["context"] == sharpener.overlap and answer["context"] % 4 == 0
    assert answer["model"] == str(tiny_model)
    assert "CPUExecutionProvider" in answer["providers"]
    assert worker.finish() == 0


@pytest.mark.parametrize(("channels", "dtype"), [(3, np.uint8), (1, np.uint16), (3, np.float32), (3, np.float16)])
def test_sharpen_returns_the_kept_block_of_the_core_result(
    worker: WorkerProcess, tiny_model: Path, channels: int, dtype: Any
) -> None:
    window = _photo(c=channels, dtype=np.uint8 if dtype == np.uint16 else dtype)
    if dtype == np.uint16:
        window = window.astype(np.uint16) * 257
    worker.ask({"op": "open", "model": str(tiny_model), "strength": 0.8})
    h, w, _ = window.shape
    header = {"op": "sharpen", "height": h, "width": w, "channels": channels,
              "dtype": np.dtype(dtype).name, "keep": [5, 7, 30, 41]}
    answer, data = worker.ask(header, window.tobytes())
    expected = Sharpener(tiny_model).sharpen(window, strength=0.8)[5:35, 7:48]
    assert answer["ok"] is True
    np.testing.assert_array_equal(np.frombuffer(data, dtype=dtype).reshape(30, 41, channels), expected)
    assert worker.finish() == 0


def test_bad_model_is_one_line_error_and_status_1(worker: WorkerProcess, tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model")
    answer, _ = worker.ask({"op": "open", "model": str(bad), "strength": 1.0})
    assert answer["ok"] is False
    assert str(bad) in answer["error"] and "\n" not in answer["error"]
    assert worker.finish() == 1


@pytest.mark.parametrize(
    ("header", "payload", "text"),
    [
        ({"op": "sharpen", "height": 2, "width": 2, "channels": 3, "dtype": "uint8", "keep": [0, 0, 1, 1]},
         bytes(12), "sharpen before open"),
        ({"op": "resize"}, b"", "unknown op 'resize'"),
    ],
)
def test_protocol_misuse_is_reported(
    worker: WorkerProcess, header: dict[str, Any], payload: bytes, text: str
) -> None:
    answer, _ = worker.ask(header, payload)
    assert answer == {"ok": False, "error": text, "bytes": 0}
    assert worker.finish() == 1


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"height": 9}, "does not hold a 9×4×3 uint8 window"),
        ({"keep": [0, 0, 3, 5]}, "lies outside the 3×4 window"),
        ({"dtype": "float64"}, "bad sharpen header"),
    ],
)
def test_window_geometry_is_checked(
    worker: WorkerProcess, tiny_model: Path, change: dict[str, Any], text: str
) -> None:
    worker.ask({"op": "open", "model": str(tiny_model), "strength": 1.0})
    header = {"op": "sharpen", "height": 3, "width": 4, "channels": 3, "dtype": "uint8", "keep": [0, 0, 3, 4], **change}
    answer, _ = worker.ask(header, bytes(3 * 4 * 3))
    assert answer["ok"] is False and text in answer["error"]


def test_strength_out_of_range_is_refused(worker: WorkerProcess, tiny_model: Path) -> None:
    answer, _ = worker.ask({"op": "open", "model": str(tiny_model), "strength": 2.5})
    assert answer["ok"] is False and "strength must be a number from 0 to 2" in answer["error"]


def test_garbled_header_is_a_protocol_error() -> None:
    replies = io.BytesIO()
    assert serve(io.BytesIO(b"{not json\n"), replies) == 1
    assert json.loads(replies.getvalue().splitlines()[0])["error"].startswith("message header is not JSON")


def test_truncated_payload_is_a_protocol_error() -> None:
    replies = io.BytesIO()
    assert serve(io.BytesIO(b'{"op": "open", "bytes": 10}\nabc'), replies) == 1
    assert "payload truncated: expected 10 bytes, got 3" in json.loads(replies.getvalue())["error"]


def test_end_of_input_without_requests_exits_cleanly(worker: WorkerProcess) -> None:
    assert worker.finish() == 0


def test_a_window_may_carry_its_own_strength_and_models_reopen_for_free(
    worker: WorkerProcess, tiny_model: Path, tiny_luma_model: Path
) -> None:
    # The dialog's preview: strength changes per request, models switch back and forth.
    window = _photo()
    h, w, _ = window.shape
    header = {"op": "sharpen", "height": h, "width": w, "channels": 3, "dtype": "uint8", "keep": [0, 0, h, w]}
    worker.ask({"op": "open", "model": str(tiny_model), "strength": 1.0})
    _, strong = worker.ask({**header, "strength": 1.7}, window.tobytes())
    expected = Sharpener(tiny_model).sharpen(window, strength=1.7)
    np.testing.assert_array_equal(np.frombuffer(strong, np.uint8).reshape(h, w, 3), expected)
    worker.ask({"op": "open", "model": str(tiny_luma_model), "strength": 1.0})
    again, _ = worker.ask({"op": "open", "model": str(tiny_model), "strength": 0.5})
    _, half = worker.ask(header, window.tobytes())
    np.testing.assert_array_equal(np.frombuffer(half, np.uint8).reshape(h, w, 3), Sharpener(tiny_model).sharpen(window, strength=0.5))
    bad, _ = worker.ask({**header, "strength": True}, window.tobytes())
    assert bad["ok"] is False and "strength must be a number" in bad["error"]
