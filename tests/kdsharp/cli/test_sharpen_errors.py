"""``kdsharp sharpen``: bad inputs give one line and a non-zero exit; batches go on; outputs are atomic."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kdsharp.cli import main

KDSHARP = Path(sys.executable).with_name("kdsharp")


def good_png(path: Path, size: tuple[int, int] = (20, 24), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return path


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("kdsharp: error:")]


def only_error(result) -> str:  # type: ignore[no-untyped-def]
    """The single error line of a one-file run (no traceback, no other noise)."""
    assert "Traceback" not in result.err
    lines = error_lines(result.err)
    assert len(lines) == 1, result.err
    return lines[0]


class TestBadInputs:
    def test_nonexistent(self, cli, model_args, tmp_path: Path) -> None:
        missing = tmp_path / "missing.png"
        result = cli("sharpen", missing, "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        assert only_error(result) == f"kdsharp: error: {missing}: no such file or directory"

    def test_empty(self, cli, model_args, tmp_path: Path) -> None:
        empty = tmp_path / "empty.png"
        empty.write_bytes(b"")
        result = cli("sharpen", empty, "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        assert only_error(result) == f"kdsharp: error: {empty}: empty file"

    def test_not_an_image(self, cli, model_args, tmp_path: Path) -> None:
        text = tmp_path / "photo.jpg"
        text.write_text("this is not a photo\n")
        result = cli("sharpen", text, "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        assert only_error(result) == f"kdsharp: error: {text}: not an image (cannot identify image file)"

    @pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp"])
    def test_truncated(self, cli, model_args, tmp_path: Path, suffix: str) -> None:
        whole = tmp_path / f"whole{suffix}"
        rng = np.random.default_rng(1)
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(whole)
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        result = cli("sharpen", cut, "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        line = only_error(result)
        assert line.startswith(f"kdsharp: error: {cut}: ")
        assert "truncated or corrupt" in line or "not an image" in line
        assert not (tmp_path / "out" / cut.name).exists()

    def test_corrupt_data(self, cli, model_args, tmp_path: Path) -> None:
        path = good_png(tmp_path / "corrupt.png", (64, 64))
        data = bytearray(path.read_bytes())
        start = data.index(b"IDAT") + 8
        data[start : start + 200] = bytes(range(200))
        path.write_bytes(bytes(data))
        result = cli("sharpen", path, "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        assert f"kdsharp: error: {path}: truncated or corrupt image" in only_error(result)

    def test_dangling_link_is_unreadable(self, cli, model_args, tmp_path: Path) -> None:
        link = tmp_path / "link.png"
        link.symlink_to(tmp_path / "gone.png")
        result = cli("sharpen", link, "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        assert only_error(result) == f"kdsharp: error: {link}: cannot read (no such file or directory)"

    def test_unsupported_format(self, cli, model_args, tmp_path: Path) -> None:
        ppm = tmp_path / "a.png"
        Image.new("RGB", (4, 4)).save(ppm, format="PPM")
        result = cli("sharpen", ppm, "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        assert "unsupported image format PPM" in only_error(result)

    def test_corrupt_exif_is_a_one_line_warning(self, cli, model_args, tmp_path: Path) -> None:
        src = tmp_path / "badexif.jpg"
        Image.new("RGB", (8, 8)).save(src, exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00\x0f\x01\x02\x00")
        result = cli("sharpen", src, "-o", tmp_path / "out.jpg", *model_args)
        assert result.code == 0, result.err
        assert result.err.strip().splitlines() == [
            f"kdsharp: warning: {src}: Corrupt EXIF data. Expecting to read 12 bytes but only got 4."
        ]
        assert (tmp_path / "out.jpg").is_file()

    def test_animation_is_refused(self, cli, model_args, tmp_path: Path) -> None:
        frames = [Image.new("RGB", (8, 8), (i * 60, 0, 0)) for i in range(3)]
        anim = tmp_path / "anim.png"
        frames[0].save(anim, save_all=True, append_images=frames[1:])
        result = cli("sharpen", anim, "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        assert only_error(result) == (
            f"kdsharp: error: {anim}: has 3 frames; kdsharp sharpens still images (use `kdsharp video` for movies)"
        )

    def test_output_folder_below_a_file(self, cli, model_args, tmp_path: Path) -> None:
        src = good_png(tmp_path / "a.png")
        blocker = tmp_path / "blocker"
        blocker.write_text("a file, not a folder")
        result = cli("sharpen", src, "-o", blocker / "out", *model_args)
        assert result.code == 1
        assert only_error(result).startswith(f"kdsharp: error: {blocker / 'out'}: cannot create output folder")

    def test_bad_model_is_one_line(self, cli, tmp_path: Path) -> None:
        src = good_png(tmp_path / "a.png")
        fake = tmp_path / "model.onnx"
        fake.write_bytes(b"not onnx at all")
        result = cli("sharpen", src, "-o", tmp_path / "out", "--model", fake, "--providers", "cpu")
        assert result.code == 1
        assert only_error(result).startswith(f"kdsharp: error: {fake}: ")

    def test_debug_shows_the_traceback(self, tmp_path: Path) -> None:
        from kdsharp import ModelError

        with pytest.raises(ModelError):
            main(
                ["sharpen", str(good_png(tmp_path / "a.png")), "-o", str(tmp_path / "out"), "--model", str(tmp_path / "no.onnx"), "--debug"]
            )


class TestUsage:
    @pytest.mark.parametrize(
        "args",
        [
            ("sharpen", "a.png"),  # nowhere to write
            ("sharpen", "a.png", "-o", "out", "--in-place"),
            ("sharpen", "a.png", "-o", "out", "--strength", "3"),
            ("sharpen", "a.png", "-o", "out.ppm"),
            ("sharpen", "a.png", "a.png", "-o", "out.png"),
            ("sharpen", "a.png", "-o", "out", "--tile", "-1"),
            ("frobnicate",),
        ],
    )
    def test_usage_errors_exit_2(self, cli, model_args, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]) -> None:
        good_png(tmp_path / "a.png")
        monkeypatch.chdir(tmp_path)
        result = cli(*args, *(model_args if args[0] == "sharpen" else ()))
        assert result.code == 2
        assert "Traceback" not in result.err
        assert not (tmp_path / "out").exists()


class TestBatch:
    def test_goes_on_past_bad_files_and_lists_them(self, cli, model_args, tmp_path: Path) -> None:
        folder = tmp_path / "in"
        folder.mkdir()
        good_png(folder / "a.png", seed=1)
        (folder / "b.png").write_bytes(b"")
        (folder / "c.jpg").write_text("nope")
        good_png(folder / "d.png", seed=2)
        missing = tmp_path / "missing.png"
        result = cli("sharpen", folder, missing, "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        assert "Traceback" not in result.err
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "d.png"]
        assert "kdsharp: 3 of 5 inputs failed:" in result.err
        summary = result.err.split("inputs failed:")[1]
        for bad in (folder / "b.png", folder / "c.jpg", missing):
            assert f"  {bad}: " in summary

    def test_all_good_exits_0(self, cli, model_args, tmp_path: Path) -> None:
        srcs = [good_png(tmp_path / f"{i}.png", seed=i) for i in range(3)]
        result = cli("sharpen", *srcs, "-o", tmp_path / "out", *model_args)
        assert result.code == 0, result.err
        assert len(list((tmp_path / "out").iterdir())) == 3


def _without_root_file_powers() -> None:
    """Drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH before exec, so even root meets file permissions."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def shared_dir(tmp_path: Path, tiny_model: Path) -> Path:
    """A folder holding a copy of the tiny model, for the console-script runs."""
    shutil.copy(tiny_model, tmp_path / "tiny.onnx")
    return tmp_path


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "HOME": "/tmp", "OMP_NUM_THREADS": "1"}
    return subprocess.run([str(KDSHARP), *args], capture_output=True, text=True, timeout=120, env=env, **kwargs)


class TestPermissionsAndAtomicity:
    """Real failures of the real console script: permissions (as an unprivileged user) and a write cut off midway."""

    def _user(self) -> dict:
        return {"preexec_fn": _without_root_file_powers} if os.geteuid() == 0 else {}

    def test_unreadable_input_and_unwritable_output(self, shared_dir: Path) -> None:
        secret = good_png(shared_dir / "secret.png")
        secret.chmod(0o000)
        readable = good_png(shared_dir / "open.png")
        readable.chmod(0o644)
        locked = shared_dir / "locked"
        locked.mkdir(mode=0o555)
        locked.chmod(0o555)
        model = ["--model", str(shared_dir / "tiny.onnx"), "--providers", "cpu"]
        a = _run(["sharpen", str(secret), "-o", str(shared_dir / "out.png"), *model], **self._user())
        assert a.returncode == 1, a.stderr
        assert error_lines(a.stderr) == [f"kdsharp: error: {secret}: cannot read (permission denied)"]
        b = _run(["sharpen", str(readable), "-o", str(locked / "out.png"), *model], **self._user())
        assert b.returncode == 1, b.stderr
        assert error_lines(b.stderr) == [f"kdsharp: error: {locked / 'out.png'}: cannot write output (permission denied)"]
        assert "Traceback" not in a.stderr + b.stderr
        assert list(locked.iterdir()) == []

    @staticmethod
    def _limit_file_size() -> None:
        # Writes past 20 kB fail with EFBIG (Python ignores SIGXFSZ), midway through Pillow's encoder.
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    def test_write_failing_midway_leaves_no_partial_file(self, shared_dir: Path) -> None:
        src = good_png(shared_dir / "big.png", (256, 256))
        before = src.read_bytes()
        out = shared_dir / "out"
        out.mkdir()
        result = _run(
            ["sharpen", str(src), "-o", str(out / "big.png"), "--model", str(shared_dir / "tiny.onnx"), "--providers", "cpu"],
            preexec_fn=self._limit_file_size,
        )
        assert result.returncode == 1
        assert error_lines(result.stderr) == [f"kdsharp: error: {out / 'big.png'}: cannot write output (file too large)"]
        assert list(out.iterdir()) == []
        assert src.read_bytes() == before

    def test_in_place_failing_midway_keeps_the_input(self, shared_dir: Path) -> None:
        src = good_png(shared_dir / "keep.png", (256, 256))
        before = src.read_bytes()
        result = _run(
            ["sharpen", str(src), "--in-place", "--model", str(shared_dir / "tiny.onnx"), "--providers", "cpu"],
            preexec_fn=self._limit_file_size,
        )
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert src.read_bytes() == before
        assert sorted(p.name for p in shared_dir.iterdir()) == ["keep.png", "tiny.onnx"]
