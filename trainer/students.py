"""Tiny student networks for real-time sharpening, and their registry.

All students are fully convolutional with a global residual (``output = input +
correction``), take ``N×C×H×W`` float32 in 0–1 with ``C = in_channels`` (3 for
RGB, 1 for luma), and declare:

* ``size_multiple``: H and W of the *exported* graph must be multiples of it
  (the kdsharp core pads); the torch ``forward`` pads and crops by itself;
* ``receptive_radius``: pixels of context per side the output depends on
  (the core overlaps tiles by at least this much).

``forward_aligned`` is the graph that gets exported: it assumes aligned sizes, so
no padding or shape arithmetic ends up in ONNX. The ``fast`` student avoids
``pixel_unshuffle``/``pixel_shuffle`` (a 6-D transpose and DepthToSpace are slow
in onnxruntime): a strided conv head (kernel 3r, stride r, padding r) replaces
the unshuffle and a ``ConvTranspose2d(k=r, stride=r)`` tail replaces the
shuffle. Its optional detail path (an adaptive unsharp mask) goes through the
same tail.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
import torch.nn.functional as F
from kdsharp_train.padding import run_padded
from kdsharp_train.receptive import unet_radius
from kdsharp_train.reparam import EDGE_MASKS, RepConv3x3
from torch import nn


class _Student(nn.Module):
    """Common padding logic: ``forward`` = pad to ``size_multiple`` → ``forward_aligned`` → crop."""

    architecture = ""
    size_multiple = 1
    receptive_radius = 0
    in_channels = 3
    stage_channels: dict[str, int]
    arch_args: dict[str, Any]

    def forward_aligned(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError  # each architecture defines its graph

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Run on any H×W; returns the ``N×C×H×W`` output and the stage features."""
        return run_padded(self.forward_aligned, x, self.size_multiple)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Sharpen ``N×C×H×W`` float32 0–1; same shape out (not clamped)."""
        return self.forward_features(x)[0]


def _high_pass(size: int, sigma: float) -> torch.Tensor:
    """``size×size`` kernel δ − Gaussian(σ) (sums to 0): an unsharp mask's detail filter."""
    a = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(a[:, None] ** 2 + a[None, :] ** 2) / (2 * sigma * sigma))
    k = -g / g.sum()
    k[size // 2, size // 2] += 1.0
    return k


def _block_channels(c: int, k: int, r: int) -> itertools.product:
    """``(channel, filter, i, j)`` of each detail- or kpn-path channel, in channel order (space-to-depth)."""
    return itertools.product(range(c), range(k), range(r), range(r))


def _strided_high_passes(c: int, k: int, r: int, size: int, kernel: int, padding: int) -> nn.Conv2d:
    """A bias-free stride-r conv (``kernel``, ``padding``, one group per channel) whose ``c·k·r²`` outputs are
    ``k`` full-resolution filters of each channel evaluated at each of the ``r×r`` pixels of a block
    (space-to-depth order ``(c, k, i, j)``), starting as ``size×size`` unsharp-mask high-passes of
    σ = 0.5, 1, 1.5, … centred on their pixel. The detail and kpn paths' filters."""
    conv = nn.Conv2d(c, c * k * r * r, kernel, stride=r, padding=padding, groups=c, bias=False)
    filters = [_high_pass(size, 0.5 + 0.5 * n) for n in range(k)]
    with torch.no_grad():
        conv.weight.zero_()
        for o, (_, n, i, j) in enumerate(_block_channels(c, k, r)):
            top, left = padding + i - size // 2, padding + j - size // 2
            conv.weight[o, 0, top : top + size, left : left + size] = filters[n]
    return conv


def _detail_path(c: int, channels: int, r: int, k: int, size: int) -> tuple[nn.Conv2d, nn.Conv2d]:
    """The adaptive unsharp mask of ``FastStudent``, computed at 1/r resolution.

    ``detail`` is a strided linear conv whose ``c·k·r²`` outputs are ``k`` full-resolution
    detail filters evaluated at each of the ``r×r`` pixels of a block (space-to-depth
    order ``(c, k, i, j)``); they start as ``size×size`` unsharp-mask high-passes of
    σ = 0.5, 1, 1.5, … ``gain`` predicts one gain per detail value from the body's
    features (zero at start). Products go through the tail's depth-to-space, so the
    only full-resolution work is the tail, as without the path.
    """
    if size > r + 1 or size % 2 == 0:
        raise ValueError(f"detail_kernel must be odd and at most stride + 1 = {r + 1}, not {size}")
    detail = _strided_high_passes(c, k, r, size, kernel=2 * r, padding=r // 2)
    gain = nn.Conv2d(channels, c * k * r * r, 1)
    nn.init.zeros_(gain.weight)
    nn.init.zeros_(gain.bias)
    return detail, gain


def _linear_path(c: int, c_in: int, channels: int, r: int, linear: int) -> tuple[nn.Conv2d, nn.Conv2d]:
    """``FastStudent``'s linear path: a bias-free stride-r head of kernel 3r and its per-block gate.

    The first ``c·r²`` of its ``linear`` channels start as exact space-to-depth of the image
    (channel ``(ch, i, j)`` reads pixel ``(i, j)`` of its block); any more start at zero.
    """
    if linear < c * r * r:
        raise ValueError(f"linear must be at least in_channels × stride² = {c * r * r} (a lossless stem), not {linear}")
    head = nn.Conv2d(c_in, linear, 3 * r, stride=r, padding=r, bias=False)
    with torch.no_grad():
        head.weight.zero_()
        for o, (ch, i, j) in enumerate(itertools.product(range(c), range(r), range(r))):
            head.weight[o, ch, r + i, r + j] = 1.0
    gate = nn.Conv2d(channels, linear, 1)
    nn.init.zeros_(gate.weight)
    nn.init.zeros_(gate.bias)
    return head, gate


def _bilinear_weights(r: int) -> torch.Tensor:
    """``r×3`` weights of bilinear ×r upsampling (half-pixel centres, as ``F.interpolate``'s
    ``align_corners=False``): row ``i`` weighs the low-resolution pixels before, at and after the
    block for the block's ``i``-th fine pixel."""
    rows = []
    for i in range(r):
        t = (i + 0.5) / r - 0.5
        rows.append([max(-t, 0.0), 1.0 - abs(t), max(t, 0.0)])
    return torch.tensor(rows)


def _bilinear_space_to_depth(r: int) -> torch.Tensor:
    """``r²×3×3``: bilinear ×r upsampling of a plane at low resolution, kernel ``(i, j)`` giving the upsampled
    plane's pixel ``(i, j)`` of every r×r block from the 3×3 low-resolution pixels around it."""
    a = _bilinear_weights(r)
    return (a[:, None, :, None] * a[None, :, None, :]).reshape(r * r, 3, 3)


def _kpn_path(c: int, channels: int, r: int, k: int, size: int) -> tuple[nn.Conv2d, nn.Conv2d]:
    """``FastStudent``'s kernel-prediction path, all of it at 1/r resolution.

    ``filters`` is a strided linear conv whose ``c·k·r²`` outputs are ``k`` learned ``size×size``
    filters of the full-resolution image evaluated at each of the ``r×r`` pixels of a block
    (space-to-depth order ``(c, k, i, j)``; they start as unsharp-mask high-passes of σ = 0.5, 1, …
    and each pixel position then learns its own). ``mix`` predicts ``k`` coefficients per channel and
    low-resolution pixel (zero at start); the student upsamples them bilinearly, so the mixing varies
    smoothly from pixel to pixel instead of block by block, and multiplies. Products go through the
    tail's depth-to-space: the only full-resolution work stays the tail's.
    """
    if size % 2 == 0:
        raise ValueError(f"kpn_kernel must be odd, not {size}")
    filters = _strided_high_passes(c, k, r, size, kernel=r + size - 1, padding=size // 2)
    mix = nn.Conv2d(channels, c * k, 1)
    nn.init.zeros_(mix.weight)
    nn.init.zeros_(mix.bias)
    return filters, mix


def _stats_filters(c: int, r: int, stats: int) -> nn.Conv2d:
    """``FastStudent``'s local degradation estimate, its filters: a bias-free stride-r conv of kernel
    r + 2 whose ``stats`` outputs start as Sobel x, Sobel y and Laplacian detectors (in turn) at
    successive pixels of each r×r block, summed over the colour channels; learned from there."""
    conv = nn.Conv2d(c, stats, r + 2, stride=r, padding=1, bias=False)
    masks = list(EDGE_MASKS.values())
    with torch.no_grad():
        conv.weight.zero_()
        for s in range(stats):
            i, j = divmod((s // len(masks)) * (r + 1) % (r * r), r)
            conv.weight[s, :, i : i + 3, j : j + 3] = torch.tensor(masks[s % len(masks)]) / 4.0
    return conv


def _check_whole(name: str, value: object, lowest: int) -> None:
    """Refuse a constructor argument that is not a whole number ≥ ``lowest`` (from JSON: 1.5, "8", true)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        raise ValueError(f"{name} must be a whole number >= {lowest}, not {value!r}")


def _depth_to_space_weight(c: int, r: int, k: int) -> torch.Tensor:
    """ConvTranspose weight ``(c·k·r²)×c×r×r`` summing the ``k`` products of each pixel into place."""
    w = torch.zeros(c * k * r * r, c, r, r)
    for o, (ch, _, i, j) in enumerate(_block_channels(c, k, r)):
        w[o, ch, i, j] = 1.0
    return w


class FastStudent(_Student):
    """The real-time student: works at 1/stride resolution with a global residual.

    Args:
        channels: feature channels at low resolution. Keep it a multiple of 16:
            onnxruntime's NCHWc kernels work in blocks of 16 channels on AVX-512,
            so 24 channels cost as much as 32 (57 ms vs 25 ms for 16 at 1080p here).
        convs: 3×3 conv + ReLU layers in the low-resolution body.
        stride: downsampling factor r of the head (the size multiple).
        in_channels: 3 (RGB) or 1 (luma).
        detail: number of detail filters of the adaptive unsharp mask (0 = none). The
            low-resolution body alone cannot place corrections with pixel precision
            (``channels`` ReLU features per ``stride×stride`` block), so it under-sharpens
            mild blur that a tuned unsharp mask handles well. With ``detail = k`` the
            output adds, at every pixel, ``k`` learned full-resolution high-pass filters
            of the input, each scaled by a gain the body predicts for that pixel; see
            ``_detail_path`` for how this stays at low resolution.
        detail_kernel: side of the detail filters at the start (odd, ≤ stride + 1).
        linear: channels of a linear path beside the ReLU body (0 = none): a second stride-r
            head without ReLU, started as exact space-to-depth (each channel one pixel of the
            r×r block, so nothing is lost), scaled per block by gains the body predicts
            (``1 + gate(body)``, the gate starting at zero) and fed to the tail with the body.
            The ReLU body alone cannot pass a block's detail through (16 ReLU channels cannot
            even form a fixed 16-pixel linear filter); this path can form any linear filter
            of radius ≤ r up to 2r, and the gains make it adapt per block: kernel prediction
            at 1/r resolution, whose only full-resolution work is the tail's.
        dilation: dilation of the last body conv (1 = plain). A wider window at the same cost,
            for judging how blurred or noisy a region is (issue 15's local degradation estimate):
            with ``dilation = d`` the body sees ``(convs - 1 + d)`` low-resolution pixels each side.
        kpn: number of learned filters of the kernel-prediction path (0 = none): ``kpn`` filters of
            the full-resolution image, mixed at every pixel by coefficients the body predicts at
            1/stride resolution and upsampled bilinearly (RAISR/HDRNet-style; issue 15). Unlike
            ``detail``, the mixing varies smoothly across block borders; see ``_kpn_path``.
        kpn_kernel: side of those filters (odd).
        stats: channels of a local degradation estimate (0 = none): learned gradient and Laplacian
            filters (starting as Sobel x/y and Laplacian), their absolute values averaged over a
            ``stats_window``² window of low-resolution pixels and taken in log, fed to the head
            through a 1×1 conv (zero at start). A window large enough to judge blur and noise, and
            local, so tiles still equal the whole (it widens the receptive radius).
        stats_window: that window's side in low-resolution pixels (odd).
        rep: train each body conv as ECBSR's branches (``reparam.RepConv3x3``: 3×3, 1×1, 1×1→3×3,
            Sobel and Laplacian), folded into one plain conv at export: free at inference.
        condition: extra constant input planes after the image: the true degradation
            (``conditions.CONDITION_NAMES``) for issue 15's diagnostic, a student told what
            happened to its input. 0 (every shipped student) = blind.

    Shape:
        ``N×(in_channels + condition)×H×W`` → ``N×in_channels×H×W``; H, W multiples of ``stride``
        for ``forward_aligned``.
    """

    architecture = "fast"

    def __init__(
        self,
        channels: int = 16,
        convs: int = 2,
        stride: int = 4,
        in_channels: int = 3,
        detail: int = 0,
        detail_kernel: int = 5,
        condition: int = 0,
        linear: int = 0,
        dilation: int = 1,
        kpn: int = 0,
        kpn_kernel: int = 5,
        stats: int = 0,
        stats_window: int = 7,
        rep: bool = False,
    ) -> None:
        super().__init__()
        for name, value, lowest in (("channels", channels, 1), ("convs", convs, 0), ("stride", stride, 1),
                                    ("in_channels", in_channels, 1), ("detail", detail, 0),
                                    ("detail_kernel", detail_kernel, 0), ("condition", condition, 0),
                                    ("linear", linear, 0), ("dilation", dilation, 1), ("kpn", kpn, 0),
                                    ("kpn_kernel", kpn_kernel, 1), ("stats", stats, 0),
                                    ("stats_window", stats_window, 1)):
            _check_whole(name, value, lowest)
        if not isinstance(rep, bool):
            raise ValueError(f"rep must be true or false, not {rep!r}")
        if stats and stats_window % 2 == 0:
            raise ValueError(f"stats_window must be odd, not {stats_window}")
        self.arch_args = {"channels": channels, "convs": convs, "stride": stride, "in_channels": in_channels}
        if detail:
            self.arch_args |= {"detail": detail, "detail_kernel": detail_kernel}
        if condition:
            self.arch_args["condition"] = condition
        if linear:
            self.arch_args["linear"] = linear
        if dilation != 1:
            self.arch_args["dilation"] = dilation
        if kpn:
            self.arch_args |= {"kpn": kpn, "kpn_kernel": kpn_kernel}
        if stats:
            self.arch_args |= {"stats": stats, "stats_window": stats_window}
        if rep:
            self.arch_args["rep"] = True
        self.in_channels = in_channels
        self.condition = condition
        r = stride
        self.head = nn.Conv2d(in_channels + condition, channels, 3 * r, stride=r, padding=r)
        last = convs - 1

        def body_conv(d: int) -> nn.Module:
            return RepConv3x3(channels, dilation=d) if rep else nn.Conv2d(channels, channels, 3, padding=d, dilation=d)

        self.body = nn.ModuleList(body_conv(dilation if i == last else 1) for i in range(convs))
        self.size_multiple = r
        body_reach = convs + 2 + (dilation - 1 if convs else 0)  # low-resolution pixels, head and tail included
        self.stats: nn.Conv2d | None = None
        self.stats_window = stats_window
        if stats:
            self.stats = _stats_filters(in_channels, r, stats)
            self.stats_in = nn.Conv2d(stats, channels, 1)
            nn.init.zeros_(self.stats_in.weight)
            nn.init.zeros_(self.stats_in.bias)
            body_reach += stats_window // 2
        self.detail: nn.Conv2d | None = None
        self.linear: nn.Conv2d | None = None
        self.kpn: nn.Conv2d | None = None
        tail_in = channels
        if linear:
            self.linear, self.gate = _linear_path(in_channels, in_channels + condition, channels, r, linear)
            tail_in += linear
        if detail:
            self.detail, self.gain = _detail_path(in_channels, channels, r, detail, detail_kernel)
            tail_in += self.gain.out_channels
        if kpn:
            self.kpn, self.mix = _kpn_path(in_channels, channels, r, kpn, kpn_kernel)
            self.register_buffer("upsample", _bilinear_space_to_depth(r), persistent=False)
            tail_in += self.kpn.out_channels
        # The bilinear coefficients read one more low-resolution pixel each side; a kpn filter wider
        # than a block reaches past the head's window.
        self.receptive_radius = (body_reach + (1 if kpn else 0)) * r + (max(0, kpn_kernel // 2 - r) if kpn else 0)
        self.tail = nn.ConvTranspose2d(tail_in, in_channels, r, stride=r)
        nn.init.zeros_(self.tail.weight[: channels + linear])
        nn.init.zeros_(self.tail.bias)
        with torch.no_grad():  # the detail and kpn channels start as a plain depth-to-space
            start = channels + linear
            for k in (detail, kpn):
                if k:
                    self.tail.weight[start : start + in_channels * k * r * r] = _depth_to_space_weight(in_channels, r, k)
                    start += in_channels * k * r * r
        self.stage_channels = {"head": channels, "body": channels}

    def local_statistics(self, image: torch.Tensor) -> torch.Tensor:
        """The local degradation estimate: ``N×stats×H/r×W/r`` log mean absolute filter responses
        over ``stats_window``² low-resolution pixels (the image's own borders count only real pixels)."""
        assert self.stats is not None
        w = self.stats_window
        pooled = F.avg_pool2d(self.stats(image).abs(), w, stride=1, padding=w // 2, count_include_pad=False)
        return torch.log(pooled + 1e-3)

    def kpn_products(self, image: torch.Tensor, body: torch.Tensor) -> torch.Tensor:
        """``N×(c·k·r²)×H/r×W/r``: each filter's response times its bilinearly upsampled coefficient,
        at every pixel of each r×r block (space-to-depth order ``(c, k, i, j)``).

        The 1×1 ``mix`` and the bilinear upsampling are one 3×3 conv of the body's features (their
        composition, built here from ``mix``'s weights, so the exported graph holds one dense conv).
        Outside the picture the body's features count as zero, so there the coefficient is ``mix``'s
        bias: the same as upsampling ``mix(body)`` bilinearly everywhere but the outermost blocks.
        """
        assert self.kpn is not None
        m, r2 = self.mix.out_channels, self.upsample.shape[0]
        weight = self.upsample.view(1, r2, 1, 3, 3) * self.mix.weight.view(m, 1, -1, 1, 1)
        bias = (self.mix.bias.view(m, 1) * self.upsample.new_ones(1, r2)).reshape(m * r2)
        coef = F.conv2d(body, weight.reshape(m * r2, -1, 3, 3), bias, padding=1)
        return coef * self.kpn(image)

    def forward_aligned(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Aligned forward: ``N×C×H×W`` (H, W multiples of stride) → output, features at 1/stride."""
        image = x[:, : self.in_channels] if self.condition else x
        y = self.head(x)
        if self.stats is not None:
            y = y + self.stats_in(self.local_statistics(image))
        y = F.relu(y)
        feats = {"head": y}
        for conv in self.body:
            y = F.relu(conv(y))
        feats["body"] = y
        parts = [y]
        if self.linear is not None:
            parts.append(self.linear(x) * (1.0 + self.gate(y)))
        if self.detail is not None:
            parts.append(self.gain(y) * self.detail(image))
        if self.kpn is not None:
            parts.append(self.kpn_products(image, y))
        return image + self.tail(torch.cat(parts, 1) if len(parts) > 1 else y), feats


class LocalChannelAttention(nn.Module):
    """Channel attention from a 3×3 local mean (no global pooling, so tiling stays exact)."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(4, channels // reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(a))))


class DSBlock(nn.Module):
    """Depthwise 3×3 → pointwise 1×1 → ReLU → local channel attention, residual."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.pw = nn.Conv2d(channels, channels, 1)
        self.ca = LocalChannelAttention(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.ca(F.relu(self.pw(self.dw(x))))


class DSConvStudent(_Student):
    """Depthwise-separable student with channel attention, at 1/stride resolution.

    Args:
        channels: feature channels.
        blocks: ``DSBlock`` count.
        stride: head stride (1 = full resolution).
        in_channels: 3 (RGB) or 1 (luma).
    """

    architecture = "dsconv"

    def __init__(self, channels: int = 32, blocks: int = 4, stride: int = 2, in_channels: int = 3) -> None:
        super().__init__()
        self.arch_args = {"channels": channels, "blocks": blocks, "stride": stride, "in_channels": in_channels}
        self.in_channels = in_channels
        r = stride
        self.head = nn.Conv2d(in_channels, channels, 3 * r, stride=r, padding=r)
        self.blocks = nn.ModuleList(DSBlock(channels) for _ in range(blocks))
        self.tail = nn.ConvTranspose2d(channels, in_channels, r, stride=r)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)
        self.size_multiple = r
        self.receptive_radius = (2 * blocks + 2) * r
        self.stage_channels = {"head": channels, "body": channels}

    def forward_aligned(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Aligned forward; features ``head`` and ``body`` at 1/stride."""
        y = F.relu(self.head(x))
        feats = {"head": y}
        for b in self.blocks:
            y = b(y)
        feats["body"] = y
        return x + self.tail(y), feats


class UNetLiteStudent(_Student):
    """A two-level U-Net: 3×3 convs, strided-conv downs, transposed-conv ups, global residual.

    Args:
        channels: channels at full resolution (doubled per level).
        in_channels: 3 (RGB) or 1 (luma).
    """

    architecture = "unet_lite"

    def __init__(self, channels: int = 12, in_channels: int = 3) -> None:
        super().__init__()
        self.arch_args = {"channels": channels, "in_channels": in_channels}
        self.in_channels = in_channels
        c = channels
        self.enc0 = nn.Conv2d(in_channels, c, 3, padding=1)
        self.down1 = nn.Conv2d(c, 2 * c, 2, stride=2)
        self.enc1 = nn.Conv2d(2 * c, 2 * c, 3, padding=1)
        self.down2 = nn.Conv2d(2 * c, 4 * c, 2, stride=2)
        self.mid = nn.Conv2d(4 * c, 4 * c, 3, padding=1)
        self.up2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, stride=2)
        self.dec1 = nn.Conv2d(2 * c, 2 * c, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(2 * c, c, 2, stride=2)
        self.dec0 = nn.Conv2d(c, c, 3, padding=1)
        self.out = nn.Conv2d(c, in_channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.size_multiple = 4
        self.receptive_radius = 1 + 2 + 2 * 1 + 2 + 4 * 1 + 2 + 2 * 1 + 1 + 1 + 4
        self.stage_channels = {"enc0": c, "enc1": 2 * c, "mid": 4 * c, "dec0": c}

    def forward_aligned(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Aligned forward (H, W multiples of 4); features at 1, 1/2, 1/4, 1."""
        e0 = F.relu(self.enc0(x))
        e1 = F.relu(self.enc1(F.relu(self.down1(e0))))
        m = F.relu(self.mid(F.relu(self.down2(e1))))
        d1 = F.relu(self.dec1(F.relu(self.up2(m)) + e1))
        d0 = F.relu(self.dec0(F.relu(self.up1(d1)) + e0))
        return x + self.out(d0), {"enc0": e0, "enc1": e1, "mid": m, "dec0": d0}


class UNetStudent(_Student):
    """A plain-conv U-Net for the ``quality`` rung: residual 3×3 conv + ReLU blocks at each level.

    Plain dense 3×3 convs are what onnxruntime's CPU kernels run fastest (about 120 GFLOP/s on
    this project's 2 cores, against about 20 for NAF blocks of the same width), so this
    architecture spends its FLOPs there. Each level halves the resolution with a 2×2 stride-2
    conv and doubles the channels; the decoder goes back up with 2×2 transposed convs and adds
    the encoder's features; global residual, zero-initialised output conv.

    Args:
        channels: channels at full resolution (doubled per level).
        enc_blocks: residual conv blocks per encoder level (0 allowed: the level only resamples).
        middle_blocks: residual conv blocks at the lowest resolution.
        dec_blocks: residual conv blocks per decoder level (same length as ``enc_blocks``,
            finest level last).
        in_channels: 3 (RGB) or 1 (luma).
    """

    architecture = "unet"

    def __init__(
        self,
        channels: int = 16,
        enc_blocks: tuple[int, ...] = (1, 1),
        middle_blocks: int = 4,
        dec_blocks: tuple[int, ...] = (1, 1),
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        for name, value, lowest in (("channels", channels, 1), ("middle_blocks", middle_blocks, 0),
                                    ("in_channels", in_channels, 1)):
            _check_whole(name, value, lowest)
        for name, counts in (("enc_blocks", enc_blocks), ("dec_blocks", dec_blocks)):
            if not isinstance(counts, (list, tuple)):
                raise ValueError(f"{name} must be a list of whole numbers >= 0, not {counts!r}")
            for n in counts:
                _check_whole(f"each of {name}", n, 0)
        enc_blocks, dec_blocks = tuple(enc_blocks), tuple(dec_blocks)
        if len(enc_blocks) != len(dec_blocks) or not enc_blocks:
            raise ValueError("enc_blocks and dec_blocks must have the same length, at least 1")
        self.arch_args = {"channels": channels, "enc_blocks": list(enc_blocks), "middle_blocks": middle_blocks,
                          "dec_blocks": list(dec_blocks), "in_channels": in_channels}
        self.in_channels = in_channels

        def convs(c: int, n: int) -> nn.ModuleList:
            return nn.ModuleList(nn.Conv2d(c, c, 3, padding=1) for _ in range(n))

        c = channels
        self.intro = nn.Conv2d(in_channels, c, 3, padding=1)
        self.encoders, self.downs, self.ups, self.decoders = nn.ModuleList(), nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        self.stage_channels = {}
        for level, n in enumerate(enc_blocks):
            self.encoders.append(convs(c, n))
            self.stage_channels[f"enc{level}"] = c
            self.downs.append(nn.Conv2d(c, 2 * c, 2, stride=2))
            c *= 2
        self.middle = convs(c, middle_blocks)
        self.stage_channels["middle"] = c
        for i, n in enumerate(dec_blocks):
            self.ups.append(nn.ConvTranspose2d(c, c // 2, 2, stride=2))
            c //= 2
            self.decoders.append(convs(c, n))
            self.stage_channels[f"dec{len(dec_blocks) - 1 - i}"] = c
        self.out = nn.Conv2d(channels, in_channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.size_multiple = 2 ** len(enc_blocks)
        self.receptive_radius = unet_radius(enc_blocks, middle_blocks, dec_blocks)

    def forward_aligned(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Aligned forward (H, W multiples of ``size_multiple``); features ``enc*``, ``middle``, ``dec*``."""
        feats: dict[str, torch.Tensor] = {}
        y = F.relu(self.intro(x))
        skips = []
        for level, (blocks, down) in enumerate(zip(self.encoders, self.downs)):
            for conv in blocks:
                y = y + F.relu(conv(y))
            feats[f"enc{level}"] = y
            skips.append(y)
            y = F.relu(down(y))
        for conv in self.middle:
            y = y + F.relu(conv(y))
        feats["middle"] = y
        n = len(self.decoders)
        for i, (up, blocks, skip) in enumerate(zip(self.ups, self.decoders, reversed(skips))):
            y = F.relu(up(y)) + skip
            for conv in blocks:
                y = y + F.relu(conv(y))
            feats[f"dec{n - 1 - i}"] = y
        return x + self.out(y), feats


class DilatedStudent(_Student):
    """Residual dilated CNN at full resolution.

    Args:
        channels: feature channels.
        dilations: dilation of each 3×3 conv in the body (residual connections between them).
        in_channels: 3 (RGB) or 1 (luma).
    """

    architecture = "dilated"

    def __init__(self, channels: int = 12, dilations: tuple[int, ...] = (1, 2, 4, 2, 1), in_channels: int = 3) -> None:
        super().__init__()
        dilations = tuple(int(d) for d in dilations)
        self.arch_args = {"channels": channels, "dilations": list(dilations), "in_channels": in_channels}
        self.in_channels = in_channels
        self.head = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.body = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=d, dilation=d) for d in dilations)
        self.tail = nn.Conv2d(channels, in_channels, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)
        self.size_multiple = 1
        self.receptive_radius = 2 + sum(dilations)
        self.stage_channels = {"head": channels, "body": channels}

    def forward_aligned(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Forward at full resolution; features ``head`` and ``body``."""
        y = F.relu(self.head(x))
        feats = {"head": y}
        for conv in self.body:
            y = y + F.relu(conv(y))
        feats["body"] = y
        return x + self.tail(y), feats


#: Student registry: name → constructor. ``fast`` is the real-time default.
STUDENTS: dict[str, type[nn.Module]] = {
    "fast": FastStudent,
    "dsconv": DSConvStudent,
    "unet_lite": UNetLiteStudent,
    "unet": UNetStudent,
    "dilated": DilatedStudent,
}
DEFAULT_STUDENT = "fast"
