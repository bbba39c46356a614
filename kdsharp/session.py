"""onnxruntime session creation: provider choice, threads and quiet fallback.

The one place that decides where a model runs. What runs is read back from
``session.get_providers()``: onnxruntime-gpu lists CUDA and TensorRT as
available on any machine, and only a session knows whether they started.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from kdsharp.config import RuntimeConfig
from kdsharp.errors import ModelError, RuntimeFailure

GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


def import_ort() -> Any:
    """Import onnxruntime, turning a broken install into ``RuntimeFailure``."""
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeFailure(
            f"onnxruntime cannot be imported ({exc}); install kdsharp's runtime: pip install onnxruntime-gpu "
            "(or onnxruntime where no GPU build exists)"
        ) from None
    return onnxruntime


@contextlib.contextmanager
def captured_native_output(show: bool) -> Iterator[None]:
    """Hide what onnxruntime prints while providers are tried, unless ``show``.

    onnxruntime-gpu on a machine without CUDA prints errors about missing
    libraries from C++ and from its Python wrapper, on both stdout and stderr.
    Those lines are noise for users who get the CPU anyway; with ``show``
    (``RuntimeConfig.verbose``) they are replayed on stderr.
    """
    if show:
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as sink, open(os.devnull, "w") as python_sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            # The Python wrapper prints its fallback notice through sys.stdout,
            # which need not be fd 1 (pytest, GIMP, notebooks replace it).
            with contextlib.redirect_stdout(python_sink), contextlib.redirect_stderr(python_sink):
                yield
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def provider_options(name: str, config: RuntimeConfig) -> dict[str, str]:
    """Options for one execution provider."""
    if name == "TensorrtExecutionProvider":
        cache = config.trt_cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kdsharp" / "trt"
        return {
            "trt_fp16_enable": "1" if config.fp16 else "0",
            "trt_engine_cache_enable": "1",
            "trt_engine_cache_path": str(cache),
            "trt_timing_cache_enable": "1",
            "trt_timing_cache_path": str(cache),
        }
    if name == "CUDAExecutionProvider":
        return {"cudnn_conv_algo_search": "HEURISTIC", "do_copy_in_default_stream": "1"}
    return {}


def create_session(data: bytes, config: RuntimeConfig, where: Path) -> Any:
    """Create an ``InferenceSession`` from model bytes.

    Args:
        data: the ONNX file's bytes.
        config: providers, threads and verbosity.
        where: the file's path, for messages.

    Returns:
        The session; ``session.get_providers()`` says what really runs.

    Raises:
        ModelError: the bytes are not a loadable ONNX model.
        RuntimeFailure: no requested provider exists in this onnxruntime build.
    """
    ort = import_ort()
    available = set(ort.get_available_providers())
    wanted = [p for p in config.providers if p in available]
    if not wanted:
        raise RuntimeFailure(
            f"none of the requested providers {list(config.providers)} exists in this onnxruntime "
            f"(it has {sorted(available)})"
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = config.intra_op_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 0 if config.verbose else 3
    if not config.spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = [(p, provider_options(p, config)) for p in wanted]
    try:
        with captured_native_output(config.verbose):
            return ort.InferenceSession(data, sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors here
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if any(word in text for word in ("Protobuf", "protobuf", "INVALID_GRAPH", "parse", "Load model")):
            raise ModelError(f"{where}: not a valid ONNX model ({text[:200]})") from None
        raise ModelError(f"{where}: onnxruntime cannot load this model ({text[:200]})") from None


def uses_gpu(session: Any) -> bool:
    """True when the session really runs on CUDA or TensorRT."""
    return any(p in GPU_PROVIDERS for p in session.get_providers())
