"""The fast student's detail and kernel-prediction paths (adaptive unsharp masks at 1/stride resolution), its local
degradation estimate, and the students' argument checks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from kdsharp_train.students import FastStudent, UNetStudent


def _unsharp_details(x: torch.Tensor, k: int, size: int) -> torch.Tensor:
    """Sum of the ``k`` starting detail filters (δ − Gaussian σ = 0.5, 1, …) applied at full resolution."""
    a = torch.arange(size, dtype=torch.float64) - size // 2
    out = torch.zeros_like(x)
    for n in range(k):
        sigma = 0.5 + 0.5 * n
        g = torch.exp(-(a[:, None] ** 2 + a[None, :] ** 2) / (2 * sigma**2))
        hp = -g / g.sum()
        hp[size // 2, size // 2] += 1.0
        c = x.shape[1]
        out += F.conv2d(F.pad(x, [size // 2] * 4), hp[None, None].repeat(c, 1, 1, 1), groups=c)
    return out


@pytest.mark.parametrize(
    "path,c,stride,k,size",
    [("detail", 1, 4, 1, 5), ("detail", 1, 4, 2, 5), ("detail", 3, 4, 2, 3), ("detail", 1, 2, 3, 3),
     ("kpn", 1, 4, 1, 5), ("kpn", 1, 4, 2, 7), ("kpn", 3, 4, 2, 3), ("kpn", 1, 2, 3, 5)],
)
def test_adaptive_paths_with_unit_gains_are_an_unsharp_mask(path: str, c: int, stride: int, k: int, size: int) -> None:
    # Strided filters + per-pixel gains + the tail's depth-to-space must equal full-resolution high-pass
    # filters at every pixel, whatever its position in the stride×stride block. The kpn path's constant
    # coefficients stay constant through its bilinear upsampling, borders included.
    net = FastStudent(channels=4, convs=1, stride=stride, in_channels=c, **{path: k, f"{path}_kernel": size}).double()
    with torch.no_grad():
        (net.gain if path == "detail" else net.mix).bias.fill_(1.0)
    x = torch.rand(2, c, 8 * stride, 6 * stride, dtype=torch.float64)
    with torch.no_grad():
        got = net.forward_aligned(x)[0]
    # (the filters were built in float32)
    assert torch.allclose(got, x + _unsharp_details(x, k, size), atol=1e-6)


def test_gains_follow_the_body_features() -> None:
    # Zero gains pass the input through; the gains are a function of the picture, not constants.
    net = FastStudent(channels=4, convs=1, stride=4, in_channels=1, detail=1)
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(net(x), x)
        net.gain.weight.normal_()
        flat, busy = torch.full_like(x, 0.5), x
        assert not torch.equal(net(busy), busy)
        inner = (..., slice(4, -4), slice(4, -4))  # borders see the convs' zero padding
        assert torch.allclose(net(flat)[inner], flat[inner], atol=1e-6)  # a flat picture has no detail


@pytest.mark.parametrize("size", [4, 7])
def test_detail_kernel_must_fit_the_stride(size: int) -> None:
    with pytest.raises(ValueError, match="detail_kernel"):
        FastStudent(stride=4, in_channels=1, detail=1, detail_kernel=size)


@pytest.mark.parametrize(
    "args, words",
    [
        ({"detail": -1}, "detail must be a whole number >= 0, not -1"),
        ({"detail": "two"}, "detail must be a whole number >= 0"),
        ({"detail": 1.5}, "detail must be a whole number >= 0"),
        ({"detail": 1, "detail_kernel": "5"}, "detail_kernel must be a whole number >= 0"),
        ({"channels": -1}, "channels must be a whole number >= 1, not -1"),
        ({"stride": 0}, "stride must be a whole number >= 1"),
        ({"convs": -2}, "convs must be a whole number >= 0"),
        ({"dilation": 0}, "dilation must be a whole number >= 1, not 0"),
    ],
)
def test_arguments_must_be_whole_numbers(args: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        FastStudent(**{"stride": 4, "in_channels": 1, **args})


@pytest.mark.parametrize(
    "args,words",
    [
        ({"enc_blocks": [1, 1], "dec_blocks": [1]}, "same length"),
        ({"enc_blocks": [], "dec_blocks": []}, "at least 1"),
        ({"middle_blocks": -1}, "middle_blocks must be a whole number >= 0, not -1"),
        ({"channels": 0}, "channels must be a whole number >= 1, not 0"),
        ({"channels": "8"}, "channels must be a whole number >= 1, not '8'"),
        ({"enc_blocks": [1.5], "dec_blocks": [1]}, r"each of enc_blocks must be a whole number >= 0, not 1\.5"),
        ({"enc_blocks": ["x"], "dec_blocks": [1]}, "each of enc_blocks must be a whole number >= 0, not 'x'"),
        ({"dec_blocks": -1}, "dec_blocks must be a list of whole numbers >= 0, not -1"),
    ],
)
def test_unet_refuses_inconsistent_levels(args: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        UNetStudent(**args)


def test_unet_levels_double_channels_and_set_the_size_multiple() -> None:
    net = UNetStudent(channels=8, enc_blocks=(0, 1, 2), middle_blocks=1, dec_blocks=(1, 1, 1), in_channels=1)
    assert net.size_multiple == 8
    assert net.stage_channels == {"enc0": 8, "enc1": 16, "enc2": 32, "middle": 64, "dec2": 32, "dec1": 16, "dec0": 8}
    _, feats = net.forward_features(torch.rand(1, 1, 24, 40))
    assert feats["middle"].shape == (1, 64, 3, 5) and feats["dec0"].shape == (1, 8, 24, 40)


@pytest.mark.parametrize("stride", [2, 4])
def test_kpn_coefficients_are_bilinearly_upsampled(stride: int) -> None:
    # The low-resolution upsampling equals F.interpolate's bilinear (half-pixel centres), in space-to-depth
    # order, away from the outermost blocks (outside the picture the body's features count as zero).
    net = FastStudent(channels=4, convs=1, stride=stride, in_channels=1, kpn=3).double()
    body = torch.rand(1, 4, 7, 6, dtype=torch.float64)
    with torch.no_grad():
        net.mix.weight.normal_()
        net.mix.bias.normal_()
        net.kpn.weight.zero_()
        for o in range(net.kpn.out_channels):  # every filter the identity, at its own pixel of the block
            i, j = divmod(o % stride**2, stride)
            net.kpn.weight[o, 0, i + 2, j + 2] = 1.0
        ones = torch.ones(1, 1, 7 * stride, 6 * stride, dtype=torch.float64)
        got = net.kpn_products(ones, body)
        ref = F.pixel_unshuffle(F.interpolate(net.mix(body), scale_factor=stride, mode="bilinear", align_corners=False), stride)
    assert torch.allclose(got[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1], atol=1e-12)


def test_local_statistics_tell_a_blurred_picture_from_a_sharp_one() -> None:
    # The degradation estimate starts as pooled Sobel/Laplacian magnitudes: lower on a blurred copy,
    # and the student starts as the identity whatever they are (the 1×1 conv into the head is zero).
    net = FastStudent(channels=4, convs=1, stride=4, in_channels=1, stats=6, stats_window=5)
    g = torch.Generator().manual_seed(0)
    sharp = torch.rand(1, 1, 64, 64, generator=g)
    blurred = F.avg_pool2d(F.pad(sharp, [2] * 4, mode="reflect"), 5, stride=1)
    with torch.no_grad():
        s_sharp, s_blur = net.local_statistics(sharp), net.local_statistics(blurred)
        assert s_sharp.shape == (1, 6, 16, 16)
        assert bool((s_blur < s_sharp).all())
        assert torch.equal(net(sharp), sharp)


@pytest.mark.parametrize(
    "args, words",
    [
        ({"kpn": 2, "kpn_kernel": 4}, "kpn_kernel must be odd, not 4"),
        ({"kpn": -1}, "kpn must be a whole number >= 0, not -1"),
        ({"stats": 4, "stats_window": 6}, "stats_window must be odd, not 6"),
        ({"stats": 2.5}, "stats must be a whole number >= 0"),
        ({"rep": "yes"}, "rep must be true or false, not 'yes'"),
    ],
)
def test_new_lever_arguments_are_checked(args: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        FastStudent(**{"stride": 4, "in_channels": 1, **args})
