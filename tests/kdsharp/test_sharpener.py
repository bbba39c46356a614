"""Sharpener: shapes, dtypes, channels, padding, tiling, strength, threads, errors."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import onnx
import pytest

from kdsharp import InputError, KdsharpError, ModelError, RuntimeConfig, RuntimeFailure, Sharpener
from onnx_models import write_int8_sibling, write_model

FULL = {np.uint8: 255, np.uint16: 65535, np.float32: 1.0, np.float16: 1.0}


def random_image(shape: tuple[int, ...], dtype: type, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.random(shape) * FULL[dtype]
    return values.astype(dtype)


def smooth_image(h: int, w: int, seed: int = 1) -> np.ndarray:
    """A photo-like uint8 RGB image: smooth gradients plus soft blobs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([np.sin(x / 17 + k) * np.cos(y / 23 - k) for k in range(3)], axis=-1)
    img += rng.normal(0, 0.05, img.shape)
    return np.clip((img + 1) * 127.5, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def sharpener(tiny_model: Path) -> Sharpener:
    return Sharpener(tiny_model, config=RuntimeConfig(threads=1))


class TestShapesAndDtypes:
    @pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float16])
    @pytest.mark.parametrize("shape", [(1, 1, 3), (1, 9, 3), (7, 1, 1), (5, 7, 4), (37, 53, 1), (33, 17, 2), (6, 5)])
    def test_same_shape_and_dtype(self, sharpener: Sharpener, shape: tuple[int, ...], dtype: type) -> None:
        img = random_image(shape, dtype)
        out = sharpener.sharpen(img)
        assert out.shape == img.shape
        assert out.dtype == img.dtype
        assert np.isfinite(out.astype(np.float64)).all()

    def test_input_is_not_modified(self, sharpener: Sharpener) -> None:
        img = random_image((40, 50, 4), np.uint8)
        before = img.copy()
        sharpener.sharpen(img, strength=1.5)
        np.testing.assert_array_equal(img, before)

    def test_non_contiguous_input(self, sharpener: Sharpener) -> None:
        img = random_image((80, 90, 3), np.uint8)
        view = img[::2, 1::2]
        np.testing.assert_array_equal(sharpener.sharpen(view), sharpener.sharpen(np.ascontiguousarray(view)))

    def test_model_changes_the_image(self, sharpener: Sharpener) -> None:
        img = smooth_image(64, 80)
        out = sharpener.sharpen(img)
        assert np.abs(out.astype(int) - img).mean() > 1.0


class TestChannels:
    def test_alpha_passes_through(self, sharpener: Sharpener) -> None:
        img = random_image((30, 40, 4), np.uint16)
        out = sharpener.sharpen(img)
        np.testing.assert_array_equal(out[..., 3], img[..., 3])
        np.testing.assert_array_equal(out[..., :3], sharpener.sharpen(img[..., :3]))

    def test_gray_alpha_passes_through(self, sharpener: Sharpener) -> None:
        img = random_image((30, 40, 2), np.uint8)
        out = sharpener.sharpen(img)
        np.testing.assert_array_equal(out[..., 1], img[..., 1])
        np.testing.assert_array_equal(out[..., :1], sharpener.sharpen(img[..., :1]))

    def test_gray_on_rgb_model_equals_mean_of_rgb_result(self, sharpener: Sharpener) -> None:
        gray = random_image((24, 28, 1), np.float32) * 0.2 + 0.4  # nothing clamps
        out = sharpener.sharpen(gray)
        rgb = sharpener.sharpen(np.repeat(gray, 3, axis=2))
        np.testing.assert_allclose(out[..., 0], rgb.mean(axis=2), atol=1e-5)

    def test_two_dimensional_gray(self, sharpener: Sharpener) -> None:
        gray = random_image((24, 28), np.uint8)
        np.testing.assert_array_equal(sharpener.sharpen(gray), sharpener.sharpen(gray[..., None])[..., 0])

    def test_luma_model_on_rgb_keeps_chroma(self, tiny_luma_model: Path) -> None:
        s = Sharpener(tiny_luma_model, config=RuntimeConfig(threads=1))
        img = smooth_image(48, 64).astype(np.float32) / 255
        out = s.sharpen(img)
        delta = out - img
        inside = (out > 0.01).all(axis=2) & (out < 0.99).all(axis=2)
        # The same luma change lands on every channel (where nothing clamps).
        np.testing.assert_allclose(delta[inside][:, 0], delta[inside][:, 1], atol=1e-5)
        np.testing.assert_allclose(delta[inside][:, 0], delta[inside][:, 2], atol=1e-5)
        assert np.abs(delta).max() > 1e-3

    def test_luma_model_on_gray(self, tiny_luma_model: Path) -> None:
        s = Sharpener(tiny_luma_model, config=RuntimeConfig(threads=1))
        gray = random_image((20, 30, 1), np.uint8)
        assert s.sharpen(gray).shape == gray.shape


class TestStrength:
    @pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float16])
    def test_zero_is_identity(self, sharpener: Sharpener, dtype: type) -> None:
        img = random_image((31, 45, 4), dtype)
        np.testing.assert_array_equal(sharpener.sharpen(img, strength=0), img)

    def test_blend_is_linear(self, sharpener: Sharpener) -> None:
        img = smooth_image(40, 48).astype(np.float32) / 255 * 0.5 + 0.25
        full = sharpener.sharpen(img, strength=1.0)
        half = sharpener.sharpen(img, strength=0.5)
        np.testing.assert_allclose(half, img + 0.5 * (full - img), atol=1e-5)

    def test_extrapolation_is_clamped(self, tiny_model: Path) -> None:
        s = Sharpener(tiny_model, config=RuntimeConfig(threads=1))
        img = random_image((40, 40, 3), np.float32)
        out = s.sharpen(img, strength=2.0)
        assert out.min() >= 0.0 and out.max() <= 1.0
        out8 = s.sharpen((img * 255).astype(np.uint8), strength=2.0)
        assert out8.dtype == np.uint8

    @pytest.mark.parametrize("bad", [-0.1, 2.01, float("nan"), float("inf"), "1"])
    def test_bad_strength(self, sharpener: Sharpener, bad: object) -> None:
        with pytest.raises(InputError, match="strength"):
            sharpener.sharpen(random_image((4, 4, 3), np.uint8), strength=bad)  # type: ignore[arg-type]


class TestTiling:
    @pytest.mark.parametrize("tile", [48, 64, 100, 256])
    def test_tiled_equals_untiled(self, tiny_model: Path, tile: int) -> None:
        img = smooth_image(203, 317)
        whole = Sharpener(tiny_model, config=RuntimeConfig(tile=0, threads=1)).sharpen(img)
        tiled = Sharpener(tiny_model, config=RuntimeConfig(tile=tile, threads=1)).sharpen(img)
        assert np.abs(whole.astype(int) - tiled).max() <= 1

    def test_tiled_equals_untiled_float_and_strength(self, tiny_model: Path) -> None:
        img = smooth_image(130, 170).astype(np.float32) / 255
        whole = Sharpener(tiny_model, config=RuntimeConfig(tile=0)).sharpen(img, strength=1.7)
        tiled = Sharpener(tiny_model, config=RuntimeConfig(tile=64)).sharpen(img, strength=1.7)
        np.testing.assert_allclose(whole, tiled, atol=1e-5)

    def test_overlap_beyond_the_reflect_margin_stays_seamless(self, tiny_model: Path) -> None:
        # A wide-context model (overlap 48 > MAX_BORDER 32): the margin stops at 32, tiles still match.
        img = smooth_image(203, 317)
        whole = Sharpener(tiny_model, config=RuntimeConfig(tile=0, overlap=48, threads=1))
        tiled = Sharpener(tiny_model, config=RuntimeConfig(tile=160, overlap=48, threads=1))
        np.testing.assert_array_equal(whole.sharpen(img), tiled.sharpen(img))
        luma = smooth_image(203, 317).astype(np.float32) / 255
        np.testing.assert_array_equal(whole.sharpen(luma, strength=1.5), tiled.sharpen(luma, strength=1.5))

    def test_too_small_overlap_shows_seams(self, tiny_model: Path) -> None:
        # The check above can fail: without enough context the tiles differ.
        img = smooth_image(203, 317)
        whole = Sharpener(tiny_model, config=RuntimeConfig(tile=0)).sharpen(img)
        tiled = Sharpener(tiny_model, config=RuntimeConfig(tile=48, overlap=0)).sharpen(img)
        assert np.abs(whole.astype(int) - tiled).max() > 1

    def test_tile_too_small_for_overlap(self, tiny_model: Path) -> None:
        with pytest.raises(InputError, match="tile"):
            Sharpener(tiny_model, config=RuntimeConfig(tile=16))

    def test_negative_tile(self, tiny_model: Path) -> None:
        with pytest.raises(InputError, match="tile"):
            Sharpener(tiny_model, config=RuntimeConfig(tile=-1))


class TestInputErrors:
    @pytest.mark.parametrize(
        "image, words",
        [
            ([[1, 2], [3, 4]], "numpy array"),
            (np.zeros((4, 4, 3), np.int32), "dtype"),
            (np.zeros((4, 4, 3), np.float64), "dtype"),
            (np.zeros((4, 4, 5), np.uint8), "channels"),
            (np.zeros((0, 4, 3), np.uint8), "at least 1×1"),
            (np.zeros((2, 4, 4, 3), np.uint8), "H×W×C"),
            (np.full((4, 4, 3), np.nan, np.float32), "NaN"),
        ],
    )
    def test_rejected(self, sharpener: Sharpener, image: object, words: str) -> None:
        with pytest.raises(InputError, match=words):
            sharpener.sharpen(image)  # type: ignore[arg-type]

    def test_errors_share_one_root(self) -> None:
        for cls in (InputError, RuntimeFailure):
            assert issubclass(cls, KdsharpError)


class TestProvidersAndThreads:
    def test_providers_reported_from_session(self, sharpener: Sharpener) -> None:
        assert sharpener.providers == sharpener.session.get_providers()
        # No GPU here: whatever was preferred, the CPU is what runs.
        assert sharpener.providers[-1] == "CPUExecutionProvider"

    def test_cpu_only_request(self, tiny_model: Path) -> None:
        s = Sharpener(tiny_model, config=RuntimeConfig(providers=("CPUExecutionProvider",)))
        assert s.providers == ["CPUExecutionProvider"]

    def test_unknown_provider_only(self, tiny_model: Path) -> None:
        with pytest.raises(RuntimeFailure, match="providers"):
            Sharpener(tiny_model, config=RuntimeConfig(providers=("NoSuchExecutionProvider",)))

    def test_gpu_fallback_is_quiet(self, tiny_model: Path, capfd: pytest.CaptureFixture[str]) -> None:
        Sharpener(tiny_model)
        out, err = capfd.readouterr()
        assert "CUDA" not in err + out and "TensorRT" not in err + out

    def test_no_spinning_same_result(self, tiny_model: Path) -> None:
        img = smooth_image(50, 70)
        a = Sharpener(tiny_model).sharpen(img)
        b = Sharpener(tiny_model, config=RuntimeConfig(spin=False)).sharpen(img)
        np.testing.assert_array_equal(a, b)

    def test_without_io_binding_same_result(self, tiny_model: Path) -> None:
        img = smooth_image(50, 70)
        a = Sharpener(tiny_model, config=RuntimeConfig(io_binding=True)).sharpen(img)
        b = Sharpener(tiny_model, config=RuntimeConfig(io_binding=False)).sharpen(img)
        np.testing.assert_array_equal(a, b)

    def test_threads_from_config_and_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OMP_NUM_THREADS", "3")
        assert RuntimeConfig().intra_op_threads() == 3
        assert RuntimeConfig(threads=1).intra_op_threads() == 1
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert RuntimeConfig().intra_op_threads() == 0

    def test_concurrent_calls(self, sharpener: Sharpener) -> None:
        images = [smooth_image(60 + 8 * i, 70 + 4 * i, seed=i) for i in range(4)]
        expected = [sharpener.sharpen(img) for img in images]
        results: dict[int, np.ndarray] = {}

        def work(i: int) -> None:
            for _ in range(3):
                results[i] = sharpener.sharpen(images[i])

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i in range(4):
            np.testing.assert_array_equal(results[i], expected[i])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_parallel_conversion_equals_serial(tiny_model: Path, dtype: type) -> None:
    img = random_image((700, 900, 4), dtype, seed=3)
    serial = Sharpener(tiny_model, config=RuntimeConfig(conversion_threads=1)).sharpen(img, strength=1.3)
    parallel = Sharpener(tiny_model, config=RuntimeConfig(conversion_threads=3, tile=512)).sharpen(img, strength=1.3)
    assert np.abs(serial.astype(np.float64) - parallel).max() <= (1 if dtype != np.float32 else 1e-5)


class TestFloat16Model:
    def test_fp16_graph_runs(self, tmp_path: Path) -> None:
        path = write_model(tmp_path / "half.onnx", dtype="float16")
        s = Sharpener(path)
        assert s.info.dtype == "float16"
        img = smooth_image(20, 24)
        assert s.sharpen(img).dtype == np.uint8


def test_run_network_is_bare(sharpener: Sharpener) -> None:
    batch = np.random.default_rng(0).random((1, 3, 16, 24), dtype=np.float32)
    out = sharpener.run_network(batch)
    assert out.shape == batch.shape
    with pytest.raises(RuntimeFailure):
        sharpener.run_network(np.zeros((1, 3, 15, 24), np.float32))


def test_verbose_shows_provider_fallback(tiny_model: Path, capfd: pytest.CaptureFixture[str]) -> None:
    Sharpener(tiny_model, config=RuntimeConfig(verbose=True))
    out, err = capfd.readouterr()
    assert "CUDA" in out + err or "TensorRT" in out + err


def test_fp16_sibling_is_picked_for_gpu_sessions(tmp_path: Path) -> None:
    # The swap itself only happens when CUDA runs; here its choice of file is checked.
    path = write_model(tmp_path / "m.onnx")
    s = Sharpener(path)
    assert s._sibling_session(path, s.session, "fp16") is s.session  # no sibling: keep fp32
    write_model(tmp_path / "m.fp16.onnx", dtype="float16")
    half = s._sibling_session(path, s.session, "fp16")
    assert half.get_inputs()[0].type == "tensor(float16)"
    write_model(tmp_path / "m.fp16.onnx", dtype="float16", multiple=8)
    with pytest.raises(Exception, match="does not match"):
        s._sibling_session(path, s.session, "fp16")


class TestInt8Sibling:
    """On the CPU the core runs a model's ``.int8.onnx`` sibling when there is one."""

    def test_runs_on_the_cpu_close_to_float32_and_tiles_exactly(self, tmp_path: Path) -> None:
        path = write_model(tmp_path / "m.onnx", multiple=4)
        fp32 = Sharpener(path, config=RuntimeConfig(providers=("CPUExecutionProvider",), int8=False))
        assert fp32.weights_path == path
        sibling = write_int8_sibling(path)
        int8 = Sharpener(path, config=RuntimeConfig(providers=("CPUExecutionProvider",), tile=0))
        assert int8.weights_path == sibling and int8.model_path == path
        assert any(node.op_type == "QuantizeLinear" for node in onnx.load(str(sibling)).graph.node)
        img = smooth_image(150, 170)
        full = int8.sharpen(img)
        assert np.abs(full.astype(int) - fp32.sharpen(img)).max() <= 8  # int8 steps, not a different model
        tiled = Sharpener(path, config=RuntimeConfig(providers=("CPUExecutionProvider",), tile=64)).sharpen(img)
        np.testing.assert_array_equal(tiled, full)

    def test_a_sibling_of_another_layout_is_refused(self, tmp_path: Path) -> None:
        path = write_model(tmp_path / "m.onnx", multiple=4)
        write_int8_sibling(write_model(tmp_path / "other" / "m.onnx", multiple=8)).rename(tmp_path / "m.int8.onnx")
        with pytest.raises(ModelError, match="int8 variant does not match"):
            Sharpener(path, config=RuntimeConfig(providers=("CPUExecutionProvider",)))

    def test_a_modified_sibling_is_refused(self, tmp_path: Path) -> None:
        path = write_model(tmp_path / "m.onnx")
        sibling = write_int8_sibling(path)
        data = bytearray(sibling.read_bytes())
        data[-20] ^= 1
        sibling.write_bytes(bytes(data))
        with pytest.raises(ModelError, match="m.int8.onnx: checksum mismatch"):
            Sharpener(path, config=RuntimeConfig(providers=("CPUExecutionProvider",)))


def test_buffers_are_reused_per_os_thread(sharpener: Sharpener) -> None:
    runner = sharpener._runner
    shape = (1, 3, 32, 32)
    first = runner.buffers(shape)
    assert runner.buffers(shape) is first
    other: list[object] = []
    t = threading.Thread(target=lambda: other.append(runner.buffers(shape)))
    t.start()
    t.join()
    assert other[0] is not first


class TestPlanes:
    @pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float16])
    def test_planes_equal_interleaved(self, sharpener: Sharpener, dtype: type) -> None:
        img = random_image((45, 61, 3), dtype, seed=5)
        planes = sharpener.sharpen_planes([img[:, :, k] for k in range(3)], strength=1.4)
        np.testing.assert_array_equal(np.stack(planes, axis=2), sharpener.sharpen(img, strength=1.4))

    def test_gray_plane_and_array_input(self, sharpener: Sharpener) -> None:
        gray = random_image((20, 30), np.uint8)
        (out,) = sharpener.sharpen_planes([gray])
        np.testing.assert_array_equal(out, sharpener.sharpen(gray))
        rgb = random_image((3, 20, 30), np.uint16)
        assert len(sharpener.sharpen_planes(rgb)) == 3

    def test_strength_zero_copies(self, sharpener: Sharpener) -> None:
        planes = [random_image((9, 7), np.float16, seed=k) for k in range(3)]
        out = sharpener.sharpen_planes(planes, strength=0)
        for a, b in zip(out, planes):
            np.testing.assert_array_equal(a, b)
            assert a is not b

    def test_limited_range_plane_is_sharpened_in_full_range(self, tiny_luma_model: Path) -> None:
        s = Sharpener(tiny_luma_model, config=RuntimeConfig(threads=1))
        full = smooth_image(48, 64)[:, :, 0]
        (expected,) = s.sharpen_planes([full.astype(np.float32) / 255], strength=1.3)
        limited = np.round(16 + full.astype(np.float64) * 219 / 255).astype(np.uint8)
        (out,) = s.sharpen_planes([limited], strength=1.3, limited_range=True)
        want = np.floor(16 + expected.astype(np.float64) * 219 + 0.5)
        inside = (expected > 0) & (expected < 1)  # full range clips there; video levels keep the over/undershoot
        assert inside.mean() > 0.8
        # the only difference is the 8-bit rounding of the limited-range input
        assert np.abs(out.astype(np.int16) - want)[inside].max() <= 1
        assert (out[~inside] > 235).any() or (out[~inside] < 16).any()
        assert np.abs(out.astype(np.int16) - limited).max() > 3  # it really sharpened

    @pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
    def test_limited_range_round_trip_keeps_foot_and_headroom(self, dtype: type, tmp_path: Path) -> None:
        plane = np.linspace(0, np.iinfo(dtype).max, 40 * 52).reshape(40, 52).astype(dtype)
        identity = Sharpener(write_model(tmp_path / "id.onnx", channels=1, gain=0.0), config=RuntimeConfig(threads=1))
        (out,) = identity.sharpen_planes([plane], strength=1.0, limited_range=True)
        np.testing.assert_array_equal(out, plane)

    def test_limited_range_needs_integer_samples(self, sharpener: Sharpener) -> None:
        with pytest.raises(InputError, match="limited range applies to integer samples"):
            sharpener.sharpen_planes([np.zeros((8, 8), np.float32)], limited_range=True)

    @pytest.mark.parametrize("bits", [8, 9, 10, 12, 14, 16])
    @pytest.mark.parametrize("limited", [False, True])
    def test_every_code_of_every_depth_comes_back(self, bits: int, limited: bool, tmp_path: Path) -> None:
        # 9-15-bit video sits in uint16 (VapourSynth, 10-bit camera planes): an identity model must
        # return every code exactly, at either range, including limited range's foot- and headroom.
        dtype = np.uint8 if bits == 8 else np.uint16
        codes = np.arange(1 << bits, dtype=dtype).reshape(1 << (bits // 2), -1)
        identity = Sharpener(write_model(tmp_path / "id.onnx", channels=1, gain=0.0), config=RuntimeConfig(threads=1))
        (out,) = identity.sharpen_planes([codes], limited_range=limited, bits=np.int64(bits))
        np.testing.assert_array_equal(out, codes)

    def test_bits_set_where_white_is(self, tiny_luma_model: Path) -> None:
        # 10-bit codes in uint16: 1023 is white, so a result is clamped there, not at 65535.
        s = Sharpener(tiny_luma_model, config=RuntimeConfig(threads=1))
        ten = (smooth_image(48, 64)[:, :, 0].astype(np.int32) * 1023 // 255).astype(np.uint16)
        (out,) = s.sharpen_planes([ten], strength=2.0, bits=10)
        (as_float,) = s.sharpen_planes([ten.astype(np.float32) / 1023], strength=2.0)
        assert out.max() <= 1023 and out.max() == 1023
        np.testing.assert_array_equal(out, np.floor(np.clip(as_float, 0, 1) * 1023 + 0.5).astype(np.uint16))

    @pytest.mark.parametrize(
        "dtype, bits, words",
        [
            (np.uint8, 7, "bits must be 8 for uint8 samples, not 7"),
            (np.uint16, 8, "from 9 to 16 for uint16 samples, not 8"),
            (np.uint16, 17, "not 17"),
            (np.uint16, 10.0, "not 10.0"),
            (np.float32, 10, "bits applies to integer samples"),
        ],
    )
    def test_bad_bits(self, sharpener: Sharpener, dtype: type, bits: object, words: str) -> None:
        with pytest.raises(InputError, match=words):
            sharpener.sharpen_planes([np.zeros((8, 8), dtype)], bits=bits)

    @pytest.mark.parametrize(
        "planes, words",
        [
            ([], "1 \\(gray\\) or 3"),
            ([np.zeros((4, 4), np.uint8)] * 2, "1 \\(gray\\) or 3"),
            ([np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8), np.zeros((4, 4), np.uint8)], "share one shape"),
            ([np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint16), np.zeros((4, 4), np.uint8)], "share one shape"),
            ([np.zeros((4, 4, 3), np.uint8)], "H×W"),
        ],
    )
    def test_bad_planes(self, sharpener: Sharpener, planes: list, words: str) -> None:
        with pytest.raises(InputError, match=words):
            sharpener.sharpen_planes(planes)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("strength", [0.4, 1.0, 2.0])
def test_luma_on_integer_rgb_matches_float_path(tiny_luma_model: Path, dtype: type, strength: float) -> None:
    s = Sharpener(tiny_luma_model, config=RuntimeConfig(threads=1))
    img = random_image((57, 83, 3), dtype, seed=9)
    full = FULL[dtype]
    as_float = s.sharpen(img.astype(np.float32) / np.float32(full), strength=strength)
    expected = np.floor(as_float.astype(np.float64) * full + 0.5)
    got = s.sharpen(img, strength=strength)
    assert np.abs(got.astype(np.float64) - expected).max() <= 1
    assert (got != img).any()


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (1, 40), (203, 317)])
@pytest.mark.parametrize("tile", [0, 64])
def test_luma_on_integer_rgb_tiled_equals_the_float_path_at_any_size(tiny_luma_model: Path, shape: tuple[int, int], tile: int) -> None:
    # The integer-RGB path builds the padded luma in place and adds the change only where kept.
    img = random_image((*shape, 3), np.uint8, seed=4)
    s = Sharpener(tiny_luma_model, config=RuntimeConfig(threads=1, tile=tile, conversion_threads=2))
    whole = Sharpener(tiny_luma_model, config=RuntimeConfig(threads=1, tile=0)).sharpen(img, strength=1.3)
    as_float = s.sharpen(img.astype(np.float32) / np.float32(255), strength=1.3)
    expected = np.floor(as_float.astype(np.float64) * 255 + 0.5)
    got = s.sharpen(img, strength=1.3)
    assert np.abs(got.astype(np.float64) - expected).max() <= 1
    np.testing.assert_array_equal(got, whole)
