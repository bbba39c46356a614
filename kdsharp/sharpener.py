"""``Sharpener``: one loaded model, one session, any image in and out."""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from kdsharp import model_file, pixels, tiling
from kdsharp.config import RuntimeConfig
from kdsharp.contract import ModelInfo
from kdsharp.errors import InputError, KdsharpError, ModelError, RuntimeFailure
from kdsharp.session import create_session, uses_gpu

MAX_STRENGTH = 2.0
#: Below this many pixels per window, conversions stay on the calling thread.
_PARALLEL_MIN_PIXELS = 256 * 1024
#: Pixels per conversion band: a band's float32 plane (256 KiB) and its temporaries stay in cache.
_BAND_PIXELS = 64 * 1024


def _check_strength(strength: object) -> None:
    ok = isinstance(strength, (int, float)) and not isinstance(strength, bool)
    if not ok or not math.isfinite(strength) or not 0 <= strength <= MAX_STRENGTH:  # type: ignore[arg-type]
        raise InputError(f"strength must be a number from 0 to {MAX_STRENGTH:g}, got {strength!r}")


#: Per-thread buffer sets kept at most; the least recently used goes first.
_MAX_THREAD_STATES = 16


class _Runner:
    """Runs the network on one ``1×C×h×w`` buffer with IO binding, per OS thread.

    ``buffers`` hands out one input/output set per thread and shape,
    so steady-state video frames reuse the same memory and bindings. State is
    keyed by the OS thread id, not ``threading.local``: hosts such as
    VapourSynth call Python from native threads with a fresh thread state for
    every callback, which would rebuild the buffers on every frame.
    """

    def __init__(self, session: Any, dtype: np.dtype, on_gpu: bool, io_binding: bool) -> None:
        self._session = session
        self._dtype = dtype
        self._on_gpu = on_gpu
        self._io_binding = io_binding
        self._states: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def _state(self) -> dict[str, Any] | None:
        key = threading.get_ident()
        with self._lock:
            state = self._states.get(key)
            if state is not None:
                self._states.move_to_end(key)
            return state

    def buffers(self, shape: tuple[int, int, int, int]) -> dict[str, Any]:
        """This thread's buffer set for ``shape``: ``state["input"]`` is filled, then ``run(state)``."""
        state = self._state()
        if state is None or state["shape"] != shape:
            state = {
                "shape": shape,
                "input": np.empty(shape, dtype=self._dtype),
                "output": np.empty(shape, dtype=self._dtype),
                "binding": None,
            }
            with self._lock:
                self._states[threading.get_ident()] = state
                while len(self._states) > _MAX_THREAD_STATES:
                    self._states.popitem(last=False)
        return state

    def run(self, state: dict[str, Any]) -> np.ndarray:
        """Run the network on ``state["input"]``; returns the output (a reused buffer on the CPU)."""
        batch = state["input"]
        if not self._io_binding:
            return self._session.run(["output"], {"input": batch})[0]
        if state["binding"] is None:
            state["binding"] = self._bind(state)
        binding = state["binding"]
        if self._on_gpu:
            state["device_input"].update_inplace(batch)
            self._session.run_with_iobinding(binding)
            return state["device_output"].numpy()
        self._session.run_with_iobinding(binding)
        return state["output"]

    def _bind(self, state: dict[str, Any]) -> Any:
        from onnxruntime import OrtValue

        binding = self._session.io_binding()
        shape, dtype = state["shape"], self._dtype
        if self._on_gpu:
            # Device-resident buffers: one upload and one download per call, no allocations.
            state["device_input"] = OrtValue.ortvalue_from_shape_and_type(shape, dtype, "cuda", 0)
            state["device_output"] = OrtValue.ortvalue_from_shape_and_type(shape, dtype, "cuda", 0)
            binding.bind_ortvalue_input("input", state["device_input"])
            binding.bind_ortvalue_output("output", state["device_output"])
        else:
            binding.bind_cpu_input("input", state["input"])
            out = state["output"]
            binding.bind_output("output", "cpu", 0, dtype, list(shape), out.ctypes.data)
        return binding


class Sharpener:
    """A sharpening model ready to run on images of any size.

    Args:
        model: ``None`` for the default shipped model, a shipped name
            (``"fast"``, ``"nokd"``), or a path to a kdsharp ``.onnx``.
        config: runtime settings (providers, threads, tiles).

    Raises:
        ModelError: missing, corrupt, tampered or contract-breaking model.
        RuntimeFailure: onnxruntime cannot run it here.

    ``sharpen`` may be called from several threads at once: the session is
    shared (onnxruntime's ``run`` is thread-safe) and buffers are per thread.

    Example:
        >>> s = Sharpener(model_path)                          # doctest: +SKIP
        >>> out = s.sharpen(rgb_uint8, strength=1.0)            # doctest: +SKIP
    """

    def __init__(self, model: str | Path | None = None, *, config: RuntimeConfig = RuntimeConfig()) -> None:
        if config.tile < 0:
            raise InputError(f"tile must be >= 0 (0 disables tiling), got {config.tile}")
        if config.overlap is not None and config.overlap < 0:
            raise InputError(f"overlap must be >= 0, got {config.overlap}")
        self.config = config
        source = model_file.read_verified(model)
        session = create_session(source.data, config, source.path)
        self.info: ModelInfo = model_file.check_contract(source, session)
        self.model_path: Path = source.path
        on_gpu = uses_gpu(session)
        self.weights_path: Path = source.path
        if on_gpu and config.fp16 and "TensorrtExecutionProvider" not in session.get_providers():
            session = self._sibling_session(source.path, session, "fp16")
        elif not on_gpu and config.int8:
            session = self._sibling_session(source.path, session, "int8")
        self._session = session
        self.providers: list[str] = list(session.get_providers())
        dtype = np.dtype(np.float16 if session.get_inputs()[0].type == "tensor(float16)" else np.float32)
        self._runner = _Runner(session, dtype, on_gpu, config.io_binding)
        self._conversion_threads = max(1, min(4, config.conversion_threads or config.intra_op_threads() or os.cpu_count() or 1))
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        radius = self.info.receptive_radius if config.overlap is None else config.overlap
        self.overlap = tiling.round_up(radius, self.info.size_multiple)
        if config.tile and config.tile < 2 * self.overlap + self.info.size_multiple:
            raise InputError(
                f"tile {config.tile} is too small: it needs at least {2 * self.overlap + self.info.size_multiple} "
                f"pixels for overlap {self.overlap} and size multiple {self.info.size_multiple}"
            )

    def _sibling_session(self, path: Path, fp32_session: Any, variant: str) -> Any:
        """Swap in the ``.<variant>.onnx`` sibling (fp16 on CUDA, int8 on the CPU) when there is one.

        The sibling is verified like the model itself and must share its contract; ``weights_path``
        then names it.
        """
        sibling = path.with_name(path.name[: -len(".onnx")] + f".{variant}.onnx") if path.name.endswith(".onnx") else None
        if sibling is None or not sibling.is_file():
            return fp32_session
        source = model_file.read_verified(sibling)
        session = create_session(source.data, self.config, sibling)
        info = model_file.check_contract(source, session)
        if (info.channels, info.size_multiple) != (self.info.channels, self.info.size_multiple):
            raise ModelError(f"{sibling}: {variant} variant does not match {path}")
        self.weights_path = sibling
        return session

    @property
    def session(self) -> Any:
        """The onnxruntime session (for benchmarks and evaluation)."""
        return self._session

    def run_network(self, batch: np.ndarray) -> np.ndarray:
        """Run the bare network on an ``N×C×H×W`` float array (sizes multiples of ``size_multiple``).

        Returns a new array of the same shape. No padding, tiling or conversion:
        this is what benchmarks call "network alone".
        """
        try:
            return self._session.run(["output"], {"input": batch.astype(self._runner._dtype, copy=False)})[0]
        except Exception as exc:
            raise RuntimeFailure(f"onnxruntime failed: {str(exc).splitlines()[0][:300]}") from None

    def sharpen(self, image: np.ndarray, *, strength: float = 1.0) -> np.ndarray:
        """Sharpen one image.

        Args:
            image: ``H×W`` or ``H×W×C`` with C = 1 (gray), 2 (gray+alpha),
                3 (RGB) or 4 (RGBA); dtype uint8, uint16, float32 or float16
                (floats in 0–1). Alpha passes through untouched.
            strength: 0 returns the input, 1 the model's result, up to 2
                extrapolates; results are clamped to the dtype's range.

        Returns:
            A new array of the input's shape and dtype.

        Raises:
            InputError: bad array or strength.
            RuntimeFailure: onnxruntime failed.
        """
        original_ndim = image.ndim if isinstance(image, np.ndarray) else 3
        image = pixels.check_image(image)
        _check_strength(strength)
        result = self._sharpen_checked(image, float(strength))
        return result if original_ndim == 3 else result[:, :, 0]

    def sharpen_planes(
        self,
        planes: Sequence[np.ndarray],
        *,
        strength: float = 1.0,
        limited_range: bool = False,
        bits: int | None = None,
    ) -> list[np.ndarray]:
        """Sharpen an image given as separate planes (VapourSynth's layout, or a video frame's Y' plane).

        Args:
            planes: 1 (gray, or the Y' plane of a Y'CbCr frame) or 3 (R, G, B)
                ``H×W`` arrays of one shape and dtype (uint8, uint16, float32 or
                float16; floats in 0–1). Alpha is not a plane here: it needs no work.
            strength: as in ``sharpen``.
            limited_range: integer samples in video levels (black 16, white 235
                on 8 bits; ×256 on 16 bits), as camera and codec Y' planes are.
                They are expanded to the network's 0–1 and compressed back; values
                outside 16–235 survive the round trip when unchanged.
            bits: significant bits of integer samples (``None``: 8 for uint8, 16
                for uint16); e.g. 10 for 10-bit video in uint16. Results are
                clamped to ``0..2**bits - 1``.

        Returns:
            New planes of the same shapes and dtype.

        Raises:
            InputError: bad planes, strength or bits.
            RuntimeFailure: onnxruntime failed.
        """
        if isinstance(planes, np.ndarray) and planes.ndim == 3:
            planes = list(planes)
        if not isinstance(planes, (list, tuple)) or len(planes) not in (1, 3):
            raise InputError("planes must be a list of 1 (gray) or 3 (RGB) H×W arrays")
        checked = [pixels.check_image(p) for p in planes]
        if any(p.shape[2] != 1 for p in checked):
            raise InputError(f"each plane must be H×W, got shapes {[p.shape for p in planes]}")
        if len({p.shape for p in checked}) != 1 or len({p.dtype for p in checked}) != 1:
            raise InputError(f"planes must share one shape and dtype, got {[(p.shape, str(p.dtype)) for p in planes]}")
        _check_strength(strength)
        scale = pixels.levels(checked[0].dtype, bool(limited_range), bits)
        result = [np.empty_like(p[:, :, 0]) for p in checked]
        self._sharpen_planes([p[:, :, 0] for p in checked], result, float(strength), scale)
        return result

    def _sharpen_checked(self, image: np.ndarray, strength: float) -> np.ndarray:
        color = 3 if image.shape[2] >= 3 else 1
        result = np.empty_like(image)
        if image.shape[2] in (2, 4):
            result[:, :, color] = image[:, :, color]
        planes = [image[:, :, k] for k in range(color)]
        self._sharpen_planes(planes, [result[:, :, k] for k in range(color)], strength, pixels.levels(image.dtype))
        return result

    def _sharpen_planes(
        self, source: list[np.ndarray], target: list[np.ndarray], strength: float, scale: pixels.Levels
    ) -> None:
        """Sharpen ``source`` planes (H×W views, samples in ``scale`` levels) into ``target`` planes (H×W views)."""
        if strength == 0.0:
            for src, dst in zip(source, target):
                dst[...] = src
            return
        h, w = source[0].shape
        layout = tiling.plan(h, w, tile=self.config.tile, overlap=self.overlap, multiple=self.info.size_multiple)
        try:
            if self.info.channels == 1 and len(source) == 3 and target[0].dtype.kind == "u":
                self._luma_of_integer_rgb(source, target, strength, scale, layout)
                return
            # Padding also makes every plane contiguous, so the conversions below read whole rows.
            padded = [tiling.pad(src, layout) for src in source]
            m = layout.margin
            for row in layout.rows:
                for col in layout.cols:
                    window = [p[row.start : row.stop, col.start : col.stop] for p in padded]
                    keep = (
                        slice(row.keep_start - row.start, row.keep_stop - row.start),
                        slice(col.keep_start - col.start, col.keep_stop - col.start),
                    )
                    out = [t[row.keep_start - m : row.keep_stop - m, col.keep_start - m : col.keep_stop - m] for t in target]
                    self._window(window, keep, strength, out, scale)
        except KdsharpError:
            raise
        except Exception as exc:
            text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            raise RuntimeFailure(f"onnxruntime failed: {text}") from None

    def _luma_of_integer_rgb(
        self, source: list[np.ndarray], target: list[np.ndarray], strength: float, scale: pixels.Levels,
        layout: tiling.Layout,
    ) -> None:
        """A luma model on integer R, G, B planes (every webcam and video frame): fewer passes.

        The luma plane is computed once from the source planes straight into the padded
        network input (the input buffer itself when the image is one window), its borders
        mirrored in place; the rounded luma change is added to the source planes only where
        pixels are kept. The same numbers as padding the three planes first, in fewer passes.
        """
        h, w = source[0].shape
        m = layout.margin
        whole = len(layout.rows) == 1 and len(layout.cols) == 1
        state = self._runner.buffers((1, 1, layout.padded_height, layout.padded_width)) if whole else None
        luma = state["input"][0, 0] if state is not None else np.empty((layout.padded_height, layout.padded_width), np.float32)
        inner = luma[m : m + h, m : m + w]
        self._in_bands(0, h, w, lambda rows: self._luma([p[rows] for p in source], inner[rows], scale))
        tiling.reflect_in_place(luma, layout, h, w)
        for row in layout.rows:
            for col in layout.cols:
                if not whole:
                    state = self._runner.buffers((1, 1, row.stop - row.start, col.stop - col.start))
                    state["input"][0, 0] = luma[row.start : row.stop, col.start : col.stop]
                assert state is not None
                before = state["input"][0, 0]
                output = self._runner.run(state)[0, 0]
                xs = slice(col.keep_start - col.start, col.keep_stop - col.start)
                ox = slice(col.keep_start - m, col.keep_stop - m)
                shift = row.start - m  # window row + shift = source row

                def finish(rows: slice, output: np.ndarray = output, before: np.ndarray = before,
                           xs: slice = xs, ox: slice = ox, shift: int = shift) -> None:
                    orows = slice(rows.start + shift, rows.stop + shift)
                    self._add_luma_change(output[rows, xs], before[rows, xs], [p[orows, ox] for p in source],
                                          strength, [t[orows, ox] for t in target], scale)

                self._in_bands(row.keep_start - row.start, row.keep_stop - row.start, xs.stop - xs.start, finish)

    def _window(
        self, window: list[np.ndarray], keep: tuple[slice, slice], strength: float, target: list[np.ndarray],
        scale: pixels.Levels,
    ) -> None:
        """Run one padded window (``color`` planes of h×w) and write its kept region into ``target`` planes.

        Conversions run in horizontal bands on the conversion threads (numpy
        releases the GIL), and every elementwise pass works on whole rows of
        contiguous planes; only the final copy into ``target`` crops columns.
        """
        wh, ww = window[0].shape
        state = self._runner.buffers((1, self.info.channels, wh, ww))
        batch = state["input"]
        self._in_bands(0, wh, ww, lambda rows: self._fill([p[rows] for p in window], batch[0, :, rows], scale))
        output = self._runner.run(state)[0]
        ys, xs = keep

        def finish(rows: slice) -> None:
            out_rows = slice(rows.start - ys.start, rows.stop - ys.start)
            values = self._blend(output[:, rows], batch[0, :, rows], [p[rows] for p in window], strength, scale)
            planes = pixels.quantize(values, target[0].dtype, scale)
            for k, plane in enumerate(target):
                plane[out_rows] = planes[k, :, xs]

        self._in_bands(ys.start, ys.stop, ww, finish)

    @staticmethod
    def _add_luma_change(
        output: np.ndarray, before: np.ndarray, window: list[np.ndarray], strength: float,
        target: list[np.ndarray], scale: pixels.Levels,
    ) -> None:
        """Luma model on integer RGB: add the rounded luma change to each plane in integers.

        ``floor(p + d·span + 0.5) == p + floor(d·span + 0.5)`` for integer ``p``,
        so this equals the float path exactly while moving half the bytes. All
        arrays cover the same kept pixels.
        """
        dtype = window[0].dtype
        full = scale.full
        wide = np.int16 if dtype == np.uint8 else np.int32
        delta = np.subtract(output, before, dtype=np.float32)
        delta *= np.float32(strength * scale.span)
        delta += np.float32(0.5)
        np.floor(delta, out=delta)
        change = delta.astype(wide)
        values = np.empty(change.shape, dtype=wide)
        for plane, out in zip(window, target):
            np.add(plane, change, out=values)
            np.clip(values, 0, int(full), out=values)
            out[...] = values

    def _in_bands(self, start: int, stop: int, width: int, work: Callable[[slice], None]) -> None:
        """Call ``work(rows)`` on bands of ``[start, stop)``, in parallel when worth it.

        Bands hold about ``_BAND_PIXELS`` pixels, so the several passes ``work`` makes over
        a band find it in the CPU's cache instead of reading the frame from memory again
        each time; the conversion threads take bands in turn.
        """
        rows = max(1, _BAND_PIXELS // max(1, width))
        bands = [slice(a, min(a + rows, stop)) for a in range(start, stop, rows)]
        if self._conversion_threads == 1 or (stop - start) * width < _PARALLEL_MIN_PIXELS or len(bands) == 1:
            for band in bands:
                work(band)
            return
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._conversion_threads, thread_name_prefix="kdsharp-convert")
        for future in [self._pool.submit(work, band) for band in bands]:
            future.result()

    def _fill(self, window: list[np.ndarray], planes: np.ndarray, levels: pixels.Levels) -> None:
        """Write ``window`` planes (h×w, samples in ``levels``) into the network's ``planes`` (channels×h×w, 0–1)."""
        channels, color = planes.shape[0], len(window)
        scale = np.float32(1.0 / levels.span)
        shift = np.float32(levels.offset / levels.span)
        if channels == color:
            for k in range(color):
                planes[k] = window[k]
            planes *= scale
            if shift:
                planes -= shift
        elif channels == 3:  # gray image, RGB model
            planes[0] = window[0]
            planes[0] *= scale
            if shift:
                planes[0] -= shift
            planes[1] = planes[0]
            planes[2] = planes[0]
        else:  # RGB image, luma model
            self._luma(window, planes[0], levels)

    @staticmethod
    def _luma(window: list[np.ndarray], plane: np.ndarray, levels: pixels.Levels) -> None:
        """BT.601 luma of R, G, B ``window`` planes (samples in ``levels``) into ``plane`` (0–1 float32).

        The weights sum to 1, so the levels' offset is taken off once.
        """
        weights = pixels.LUMA_WEIGHTS * np.float32(1.0 / levels.span)
        np.multiply(window[0], weights[0], out=plane, casting="unsafe")
        plane += window[1] * weights[1]
        plane += window[2] * weights[2]
        shift = np.float32(levels.offset / levels.span)
        if shift:
            plane -= shift

    def _blend(
        self, output: np.ndarray, before: np.ndarray, window: list[np.ndarray], strength: float, levels: pixels.Levels
    ) -> np.ndarray:
        """Mix the network's ``output`` planes with the input by ``strength``.

        Returns ``color×h×w`` float32 planes in 0–1 (unclamped); may reuse ``output``.
        """
        channels, color = output.shape[0], len(window)
        values = output if output.dtype == np.float32 else output.astype(np.float32)
        s = np.float32(strength)
        if channels == color:
            if strength != 1.0:
                values -= before
                values *= s
                values += before
            return values
        before32 = before[0].astype(np.float32, copy=False)
        if channels == 3:  # back to gray: the mean of the three restored planes
            return (before32 + s * (values.mean(axis=0) - before32))[None]
        # luma model on RGB: the luma change added to every plane keeps the chroma
        delta = s * (values[0] - before32)
        scale, shift = np.float32(1.0 / levels.span), np.float32(levels.offset / levels.span)
        return np.stack([plane * scale - shift + delta for plane in window])
