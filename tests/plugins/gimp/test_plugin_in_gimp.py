"""plug-in-kdsharp in real GIMP 3.0 (Debian 13 root), compared with the core on the host.

All GIMP work happens once per session in the ``gimp_run`` fixture
(``conftest.py``); each test checks one outcome against
``kdsharp.Sharpener`` run here on the same pixels with the same tiny model.
"""

from __future__ import annotations

import json
import stat
from typing import Any

import numpy as np
import pytest

from kdsharp import ModelError, Sharpener, ladder, shipped

pytestmark = pytest.mark.gimp


def _core(gimp_run: Any, image: np.ndarray, strength: float = 1.0) -> np.ndarray:
    return Sharpener(gimp_run.inp("tiny.onnx")).sharpen(image, strength=strength)


def _to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB-encoded 0–255 → linear 0–1."""
    v = values / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear 0–1 → sRGB-encoded 0–255."""
    return 255.0 * np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.abs(linear) ** (1 / 2.4) - 0.055)


def _succeeded(gimp_run: Any, case: str) -> None:
    outcome = gimp_run.results[case]
    assert outcome["status"] == "success", outcome["message"]


def _failed_with(gimp_run: Any, case: str, status: str, text: str) -> str:
    outcome = gimp_run.results[case]
    assert outcome["status"] == status, outcome
    assert text in outcome["message"], outcome["message"]
    return outcome["message"]


def test_installer_put_plugin_and_settings_in_the_gimp_profile(gimp_run: Any) -> None:
    folder = gimp_run.root / "root/.config/GIMP/3.0/plug-ins/kdsharp"
    script = folder / "kdsharp.py"
    assert script.stat().st_mode & stat.S_IXUSR
    assert json.loads((folder / "kdsharp.json").read_text())["python"].startswith("/opt/kdsharp/bin/python")


def test_rgb8_in_small_tiles_equals_the_core_exactly(gimp_run: Any) -> None:
    _succeeded(gimp_run, "rgb8")
    out = gimp_run.png("rgb8.png")
    expected = _core(gimp_run, gimp_run.photos["rgb"])
    assert out.shape == expected.shape and out.dtype == np.uint8
    assert not np.array_equal(expected, gimp_run.photos["rgb"])
    np.testing.assert_array_equal(out, expected)


def test_rgba8_equals_the_core_and_keeps_alpha(gimp_run: Any) -> None:
    _succeeded(gimp_run, "rgba8")
    out = gimp_run.png("rgba8.png")
    source = gimp_run.photos["rgba"]
    np.testing.assert_array_equal(out[:, :, 3], source[:, :, 3])
    np.testing.assert_array_equal(out, _core(gimp_run, source, strength=0.6))


def test_gray8_equals_the_core(gimp_run: Any) -> None:
    _succeeded(gimp_run, "gray8")
    out = gimp_run.png("gray8.png")
    assert out.ndim == 2
    np.testing.assert_array_equal(out, _core(gimp_run, gimp_run.photos["gray"]))


def test_rgb16_stays_16_bit_and_equals_the_core(gimp_run: Any) -> None:
    _succeeded(gimp_run, "rgb16")
    assert gimp_run.results["rgb16"]["precision"] == "u16-non-linear"
    out = gimp_run.png("rgb16.png")
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, _core(gimp_run, gimp_run.photos["rgb16"], strength=1.3))


def test_float_linear_image_is_sharpened_in_perceptual_values(gimp_run: Any) -> None:
    _succeeded(gimp_run, "float_linear")
    assert gimp_run.results["float_linear"]["precision"] == "float-linear"
    h, w = gimp_run.photos["rgb"].shape[:2]
    before = np.fromfile(gimp_run.out("float_linear_before.f32"), dtype=np.float32).reshape(h, w, 3)
    after = np.fromfile(gimp_run.out("float_linear_after.f32"), dtype=np.float32).reshape(h, w, 3)
    np.testing.assert_allclose(before, gimp_run.photos["rgb"] / 255.0, atol=1e-5)
    # The only difference left is float rounding through GIMP's linear storage.
    np.testing.assert_allclose(after, _core(gimp_run, before), atol=1e-5)


def test_half_float_gray_with_alpha_equals_the_core_exactly(gimp_run: Any) -> None:
    _succeeded(gimp_run, "half_gray_alpha")
    assert gimp_run.results["half_gray_alpha"]["precision"] == "half-non-linear"
    h, w = gimp_run.photos["gray"].shape
    before = np.fromfile(gimp_run.out("half_gray_alpha_before.f16"), dtype=np.float16).reshape(h, w, 2)
    after = np.fromfile(gimp_run.out("half_gray_alpha_after.f16"), dtype=np.float16).reshape(h, w, 2)
    np.testing.assert_array_equal(before[:, :, 1], 1.0)
    np.testing.assert_array_equal(after, _core(gimp_run, before))


def test_32_bit_integer_image_goes_through_float(gimp_run: Any) -> None:
    _succeeded(gimp_run, "u32")
    assert gimp_run.results["u32"]["precision"] == "u32-non-linear"
    h, w = gimp_run.photos["rgb"].shape[:2]
    before = np.fromfile(gimp_run.out("u32_before.f32"), dtype=np.float32).reshape(h, w, 3)
    after = np.fromfile(gimp_run.out("u32_after.f32"), dtype=np.float32).reshape(h, w, 3)
    np.testing.assert_allclose(before, gimp_run.photos["rgb"] / 255.0, atol=1e-6)
    np.testing.assert_allclose(after, _core(gimp_run, before), atol=1e-6)


def test_selection_changes_only_selected_pixels_blended_by_the_mask(gimp_run: Any) -> None:
    _succeeded(gimp_run, "selection")
    source = gimp_run.photos["rgb"]
    h, w = source.shape[:2]
    mask = np.fromfile(gimp_run.out("selection_mask.f32"), dtype=np.float32).reshape(h, w)
    out = gimp_run.png("selection.png").astype(np.float64)
    sharp = _core(gimp_run, source, strength=1.5).astype(np.float64)
    outside, inside = mask == 0.0, mask == 1.0
    partial = ~(outside | inside)
    assert outside.sum() > 1000 and inside.sum() > 1000 and partial.sum() > 1000
    np.testing.assert_array_equal(out[outside], source[outside])
    np.testing.assert_array_equal(out[inside], sharp[inside])
    # GIMP merges the shadow buffer through the selection in linear light.
    blend = _to_srgb(_to_linear(source) + mask[:, :, None] * (_to_linear(sharp) - _to_linear(source)))
    assert np.abs(out - blend)[partial].max() <= 1.0


def test_strength_zero_leaves_the_image_as_it_was(gimp_run: Any) -> None:
    _succeeded(gimp_run, "strength0")
    np.testing.assert_array_equal(gimp_run.png("strength0.png"), gimp_run.photos["rgb"])


def test_default_model_is_the_stills_rung_or_a_clear_error(gimp_run: Any) -> None:
    rung = str(ladder.stills_model(None))  # `quality` since issue 16's fourth session
    try:
        sharpener = Sharpener(rung)
    except ModelError as exc:
        assert "is not installed" in str(exc)
        _failed_with(gimp_run, "default_model", "execution-error", f"shipped model '{rung}' is not installed")
        return
    _succeeded(gimp_run, "default_model")
    np.testing.assert_array_equal(gimp_run.png("default_model.png"), sharpener.sharpen(gimp_run.photos["rgb"]))


def test_corrupt_model_fails_with_a_message_and_leaves_the_image(gimp_run: Any) -> None:
    message = _failed_with(gimp_run, "corrupt_model", "execution-error", "not a valid ONNX model")
    assert message.startswith("kdsharp: ") and "photo.png" in message and "\n" not in message
    np.testing.assert_array_equal(gimp_run.png("corrupt_model.png"), gimp_run.photos["rgb"])


def test_missing_model_file_is_refused_by_gimp(gimp_run: Any) -> None:
    _failed_with(gimp_run, "missing_model", "calling-error", "model-file")


def test_file_choice_without_a_file_fails_with_a_message(gimp_run: Any) -> None:
    _failed_with(gimp_run, "no_model_file", "execution-error", "no model file was chosen")


def test_dead_worker_is_reported_not_hung(gimp_run: Any) -> None:
    message = _failed_with(gimp_run, "worker_dies", "execution-error", "stopped unexpectedly (exit status 1)")
    assert "No module named 'kdsharp_gimp'" in message
    np.testing.assert_array_equal(gimp_run.png("worker_dies.png"), gimp_run.photos["rgb"])


def test_hung_worker_is_stopped_after_its_timeout(gimp_run: Any) -> None:
    _failed_with(gimp_run, "worker_hangs", "execution-error", "did not answer within 2 s")


def test_every_batch_case_ran(gimp_run: Any) -> None:
    crashed = {name: r["message"] for name, r in gimp_run.results.items() if r["status"] == "crashed"}
    assert not crashed
    assert len(gimp_run.results) == 15


def test_one_undo_restores_every_layer_and_redo_sharpens_again(gimp_run: Any) -> None:
    gui = gimp_run.gui
    assert "error" not in gui, gui.get("error")
    assert gui["status"] == "success"
    assert gui["both_changed"]
    assert gui["one_undo_restores_both"]
    assert gui["redo_sharpens_again"]


def test_offset_layer_is_sharpened_in_its_own_coordinates(gimp_run: Any) -> None:
    source = gimp_run.photos["rgb"]
    moved = np.fromfile(gimp_run.out("gui_moved_layer.u8"), dtype=np.uint8).reshape(source.shape)
    np.testing.assert_array_equal(moved, _core(gimp_run, source))


def test_dialog_opens_and_escape_cancels(gimp_run: Any) -> None:
    assert gimp_run.gui["dialog_status"] == "cancel"
    assert gimp_run.gui["cancel_changes_nothing"]


def test_dialog_preview_draws_and_follows_strength_on_screen(gimp_run: Any) -> None:
    gui = gimp_run.gui
    assert "preview_error" not in gui, gui.get("preview_error")
    assert gui["preview_drawn"], "the dialog's preview never drew"
    # A real click on the strength control: the setting moved, and the preview area's screen pixels changed.
    assert gui["preview_strength"] > 1.2
    assert gui["preview_pixels_changed"], f"preview area {gui.get('preview_area')} kept its pixels"
    # The expected time of the chosen model, from its measured speed, for the whole selection (two 222×301 layers).
    assert "tiny.onnx ≈ " in gui["preview_label"] and " s for these 0.13 MP (measured on the preview)" in gui["preview_label"]
    assert gimp_run.out("dialog.ppm").stat().st_size > 10_000


def test_the_default_dialog_previews_the_stills_rung(gimp_run: Any) -> None:
    gui = gimp_run.gui
    assert "default_preview_error" not in gui, gui.get("default_preview_error")
    assert gui["default_dialog_status"] == "cancel"
    expected = shipped.SHIPPED_MODELS[str(ladder.stills_model(None))]
    assert gui["default_preview_model"] == expected.rsplit("/", 1)[-1]
    assert gimp_run.out("dialog-default.ppm").stat().st_size > 10_000
