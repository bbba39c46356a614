"""Model loading: checksums, SHA256SUMS, the contract, shipped names."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kdsharp import ModelError, Sharpener, contract, shipped
from onnx_models import build_model, write_model


def test_valid_model_loads_with_metadata(tiny_model: Path) -> None:
    s = Sharpener(tiny_model)
    assert s.info.architecture == "test_tiny"
    assert s.info.size_multiple == 4
    assert s.info.color_space == "rgb" and s.info.channels == 3
    assert s.info.receptive_radius == 8
    assert len(s.info.sha256) == 64
    assert s.info.arch_args["features"] == 8
    assert "note" in s.info.training


def test_seal_and_digest_round_trip() -> None:
    data = build_model()
    digest = contract.file_digest(data, _embedded(data))
    assert digest == _embedded(data)


def _embedded(data: bytes) -> str:
    key = contract.KEY_SHA256.encode() + b"\x12\x40"
    i = data.index(key) + len(key)
    return data[i : i + 64].decode()


def test_flipped_weight_byte_is_refused(tmp_path: Path) -> None:
    data = bytearray(build_model())
    data[len(data) // 2] ^= 0x01
    path = tmp_path / "tampered.onnx"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum mismatch"):
        Sharpener(path)


def test_sha256sums_mismatch_is_refused(tmp_path: Path) -> None:
    path = write_model(tmp_path / "m.onnx")
    (tmp_path / "SHA256SUMS").write_text("0" * 63 + "1  m.onnx\n")
    with pytest.raises(ModelError, match="SHA256SUMS"):
        Sharpener(path)


def test_sha256sums_match_loads(tmp_path: Path) -> None:
    path = write_model(tmp_path / "sub" / "m.onnx")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "SHA256SUMS").write_text(f"{digest}  sub/m.onnx\n")
    Sharpener(path)


def test_unsealed_model_is_refused(tmp_path: Path) -> None:
    path = write_model(tmp_path / "u.onnx", metadata={contract.KEY_SHA256: "ab" * 32})
    # A digest that is not the file's own.
    with pytest.raises(ModelError, match="checksum mismatch"):
        Sharpener(path)


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "empty"),
        (b"this is not an onnx model at all", "not a valid ONNX model|cannot load"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not a valid ONNX model|cannot load"),
    ],
)
def test_not_a_model(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=words):
        Sharpener(path)


def test_truncated_model(tmp_path: Path) -> None:
    path = tmp_path / "cut.onnx"
    path.write_bytes(build_model()[:-100])
    with pytest.raises(ModelError):
        Sharpener(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        Sharpener(tmp_path / "nope.onnx")


def test_directory_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a file"):
        Sharpener(tmp_path)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"input_name": "x"}, "input named 'input'"),
        ({"output_name": "y"}, "output named 'output'"),
        ({"drop_keys": (contract.KEY_SIZE_MULTIPLE,)}, "lacks kdsharp.size_multiple"),
        ({"drop_keys": (contract.KEY_SHA256,)}, "lacks kdsharp.sha256"),
        ({"metadata": {contract.KEY_COLOR_SPACE: "cmyk"}}, "colour space"),
        ({"metadata": {contract.KEY_COLOR_SPACE: "luma"}}, "does not fit"),
        ({"metadata": {contract.KEY_SIZE_MULTIPLE: "0"}}, "must be >= 1"),
        ({"metadata": {contract.KEY_SIZE_MULTIPLE: "four"}}, "integer"),
        ({"metadata": {contract.KEY_METRICS: "[1, 2]"}}, "JSON object"),
        ({"metadata": {contract.KEY_TRAINING: "{oops"}}, "not valid JSON"),
        ({"metadata": {contract.KEY_FORMAT: "99"}}, "format version"),
    ],
)
def test_contract_refusals(tmp_path: Path, kwargs: dict, words: str) -> None:
    path = write_model(tmp_path / "c.onnx", **kwargs)
    with pytest.raises(ModelError, match=words):
        Sharpener(path)


def test_static_size_is_refused(tmp_path: Path) -> None:
    import onnx

    model = onnx.load_from_string(build_model())
    for dim, value in zip(model.graph.input[0].type.tensor_type.shape.dim, (1, 3, 64, 64)):
        dim.dim_value = value
    for entry in model.metadata_props:
        if entry.key == contract.KEY_SHA256:
            entry.value = contract.SHA256_PLACEHOLDER
    path = tmp_path / "static.onnx"
    path.write_bytes(contract.seal(model.SerializeToString()))
    with pytest.raises(ModelError, match="dynamic"):
        Sharpener(path)


def test_unknown_shipped_name_lists_names() -> None:
    with pytest.raises(ModelError, match="shipped names are"):
        Sharpener("no-such-model-name")


def test_shipped_names_resolve_inside_weights() -> None:
    for name in shipped.SHIPPED_MODELS:
        path = shipped.shipped_path(name)
        assert shipped.weights_dir() in path.parents
    assert shipped.DEFAULT_MODEL in shipped.SHIPPED_MODELS


def test_read_sums_parses_and_ignores_comments(tmp_path: Path) -> None:
    (tmp_path / "SHA256SUMS").write_text("# comment\n" + "AB" * 32 + "  a/b.onnx\n\n" + "cd" * 32 + " *c.onnx\n")
    assert shipped.read_sums(tmp_path) == {"a/b.onnx": "ab" * 32, "c.onnx": "cd" * 32}
