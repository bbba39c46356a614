"""``kdsharp sharpen``: where outputs go (folders, suffixes, in place, side by side) and what is never overwritten."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kdsharp import Sharpener


def png(path: Path, seed: int = 0, size: tuple[int, int] = (16, 20)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return path


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


def tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


class TestFolders:
    def test_recursive_structure_is_kept(self, cli, model_args, tmp_path: Path) -> None:
        src = tmp_path / "photos"
        png(src / "a.png", 1)
        png(src / "trip" / "b.png", 2)
        png(src / "trip" / "day2" / "c.PNG", 3)
        (src / "notes.txt").write_text("not an image, not a candidate")
        png(src / ".hidden" / "d.png", 4)
        result = cli("sharpen", src, "-o", tmp_path / "out", *model_args)
        assert result.code == 0, result.err
        assert tree(tmp_path / "out") == ["a.png", "trip/b.png", "trip/day2/c.PNG"]

    def test_output_inside_the_input_folder_is_not_rescanned(self, cli, model_args, tmp_path: Path) -> None:
        src = tmp_path / "photos"
        png(src / "a.png")
        png(src / "sharp" / "a.png", 5)  # the result of an earlier run
        result = cli("sharpen", src, "-o", src / "sharp", *model_args)
        assert result.code == 0, result.err
        assert tree(src) == ["a.png", "sharp/a.png"]

    def test_empty_folder_is_reported(self, cli, model_args, tmp_path: Path) -> None:
        (tmp_path / "nothing").mkdir()
        result = cli("sharpen", tmp_path / "nothing", "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        assert "folder holds no PNG, JPEG, TIFF, WebP or BMP files" in result.err

    def test_colliding_outputs_are_reported_not_overwritten(self, cli, model_args, tmp_path: Path) -> None:
        first, second = png(tmp_path / "x" / "a.png", 1), png(tmp_path / "y" / "a.png", 2)
        result = cli("sharpen", first, second, "-o", tmp_path / "out", *model_args)
        assert result.code == 1
        assert f"{second}: its output {tmp_path / 'out' / 'a.png'} is also the output of {first}" in result.err
        assert tree(tmp_path / "out") == ["a.png"]


class TestNames:
    def test_suffix_beside_the_inputs(self, cli, model_args, tmp_path: Path) -> None:
        src = png(tmp_path / "a.png")
        result = cli("sharpen", src, "--suffix", "_sharp", *model_args)
        assert result.code == 0, result.err
        assert (tmp_path / "a_sharp.png").is_file()

    def test_never_overwrites_the_input_without_in_place(self, cli, model_args, tmp_path: Path) -> None:
        src = png(tmp_path / "a.png")
        before = src.read_bytes()
        for args in (("-o", tmp_path), ("-o", src)):
            result = cli("sharpen", src, *args, *model_args)
            assert result.code == 1
            assert f"kdsharp: error: {src}: the output would overwrite the input (use --in-place to replace inputs)" in result.err
        assert src.read_bytes() == before

    def test_in_place_replaces_atomically_and_keeps_mode(self, cli, model_args, core: Sharpener, tmp_path: Path) -> None:
        src = png(tmp_path / "a.png")
        src.chmod(0o640)
        expected = core.sharpen(pixels(src))
        inode = src.stat().st_ino
        result = cli("sharpen", src, "--in-place", *model_args)
        assert result.code == 0, result.err
        np.testing.assert_array_equal(pixels(src), expected)
        assert oct(src.stat().st_mode & 0o777) == oct(0o640)
        assert src.stat().st_ino != inode  # a new file was renamed over it, not rewritten in place
        assert tree(tmp_path) == ["a.png"]

    def test_new_outputs_follow_the_umask(self, cli, model_args, tmp_path: Path) -> None:
        src = png(tmp_path / "a.png")
        old = os.umask(0o022)
        try:
            assert cli("sharpen", src, "-o", tmp_path / "b.png", *model_args).code == 0
        finally:
            os.umask(old)
        assert oct((tmp_path / "b.png").stat().st_mode & 0o777) == oct(0o644)


class TestSideBySide:
    def test_writes_input_then_output(self, cli, model_args, core: Sharpener, tmp_path: Path) -> None:
        src = png(tmp_path / "a.png", size=(12, 18))
        result = cli("sharpen", src, "-o", tmp_path / "out", "--side-by-side", *model_args)
        assert result.code == 0, result.err
        both = pixels(tmp_path / "out" / "a-side-by-side.png")
        assert both.shape == (12, 36, 3)
        np.testing.assert_array_equal(both[:, :18], pixels(src))
        np.testing.assert_array_equal(both[:, 18:], core.sharpen(pixels(src)))
        np.testing.assert_array_equal(pixels(tmp_path / "out" / "a.png"), core.sharpen(pixels(src)))


@pytest.mark.parametrize("strength", ["0", "0.5", "2"])
def test_strength_is_passed_to_the_core(cli, model_args, core: Sharpener, tmp_path: Path, strength: str) -> None:
    src = png(tmp_path / "a.png")
    result = cli("sharpen", src, "-o", tmp_path / "b.png", "--strength", strength, *model_args)
    assert result.code == 0, result.err
    np.testing.assert_array_equal(pixels(tmp_path / "b.png"), core.sharpen(pixels(src), strength=float(strength)))


def test_tile_option_gives_the_same_pixels(cli, model_args, core: Sharpener, tmp_path: Path) -> None:
    src = png(tmp_path / "a.png", size=(70, 90))
    result = cli("sharpen", src, "-o", tmp_path / "b.png", "--tile", "48", *model_args)
    assert result.code == 0, result.err
    np.testing.assert_allclose(pixels(tmp_path / "b.png").astype(int), core.sharpen(pixels(src)).astype(int), atol=1)


def test_a_symlink_loop_is_one_ordinary_error(cli, model_args, tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    result = cli("sharpen", loop, "-o", tmp_path / "out.png", *model_args)
    assert result.code == 1
    assert result.err.strip().splitlines() == [f"kdsharp: error: {loop}: a symbolic link loop (the link leads back to itself)"]
    assert not (tmp_path / "out.png").exists()
    # an output path that is a loop is refused the same way, before anything is written
    src = tmp_path / "a.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(src)
    out_loop = tmp_path / "o.png"
    out_loop.symlink_to("o.png")
    result = cli("sharpen", src, "-o", out_loop, *model_args)
    assert result.code == 1 and "o.png: a symbolic link loop" in result.err and "unexpected" not in result.err
