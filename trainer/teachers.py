"""Deep teacher networks: a NAFNet-style U-Net (default) and an EDSR-style residual net.

Every network here maps ``N×3×H×W`` float32 RGB in 0–1 to the same shape and
range (a global residual over the input), accepts any H and W (it pads to its
size multiple internally and crops back), and exposes ``forward_features``,
which also returns named intermediate feature maps for feature distillation and
for the perceptual loss in the teacher's own encoder space.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from kdsharp_train.padding import run_padded
from kdsharp_train.receptive import unet_radius
from torch import nn


class LayerNorm2d(nn.Module):
    """Layer norm over the channel axis of an ``N×C×H×W`` tensor."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export():
            # ONNX's fused LayerNormalization normalises the last axis: channels last for it, then back.
            # One kernel instead of nine elementwise ops: the `max` rung ran 10 % faster (same output to 3e-7).
            y = F.layer_norm(x.permute(0, 2, 3, 1), (int(self.weight.shape[0]),), self.weight, self.bias, self.eps)
            return y.permute(0, 3, 1, 2)
        # Statistics in float32 even under bf16/fp16 autocast; the next conv casts again.
        x = x.float()
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        y = (x - mu) / torch.sqrt(var + self.eps)
        return self.weight.view(1, -1, 1, 1) * y + self.bias.view(1, -1, 1, 1)


class SimpleGate(nn.Module):
    """Split channels in two halves and multiply them (NAFNet's activation)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


class NAFBlock(nn.Module):
    """NAFNet block: LN → 1×1 → depthwise 3×3 → gate → channel attention → 1×1, then a gated FFN.

    Args:
        channels: feature channels C (input and output ``N×C×H×W``).
        sca: use simplified channel attention (global average pool). It makes the
            output depend on the whole image, so it is off by default: training
            crops and full frames then see the same statistics.
    """

    def __init__(self, channels: int, sca: bool = False) -> None:
        super().__init__()
        dw = channels * 2
        self.norm1 = LayerNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, dw, 1)
        self.conv2 = nn.Conv2d(dw, dw, 3, padding=1, groups=dw)
        self.gate = SimpleGate()
        self.sca = (
            nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dw // 2, dw // 2, 1)) if sca else None
        )
        self.conv3 = nn.Conv2d(dw // 2, channels, 1)
        self.norm2 = LayerNorm2d(channels)
        self.conv4 = nn.Conv2d(channels, channels * 2, 1)
        self.conv5 = nn.Conv2d(channels, channels, 1)
        # Zero-initialised residual scales: every block starts as the identity.
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.gate(self.conv2(self.conv1(self.norm1(x))))
        if self.sca is not None:
            y = y * self.sca(y)
        x = x + self.conv3(y) * self.beta
        y = self.conv5(self.gate(self.conv4(self.norm2(x))))
        return x + y * self.gamma


class NAFNetTeacher(nn.Module):
    """NAFNet-style U-Net teacher.

    Args:
        width: channels at full resolution; each encoder level doubles it.
        enc_blocks: NAF blocks per encoder level (one 2× downsampling per level).
        middle_blocks: NAF blocks at the lowest resolution.
        dec_blocks: NAF blocks per decoder level (same length as ``enc_blocks``).
        sca: use global channel attention in the blocks (see ``NAFBlock``).

    Shape:
        input ``N×3×H×W`` float32 0–1, any H, W ≥ 1; output the same.
    """

    architecture = "nafnet"
    in_channels = 3

    def __init__(
        self,
        width: int = 24,
        enc_blocks: tuple[int, ...] = (1, 2, 4, 8),
        middle_blocks: int = 6,
        dec_blocks: tuple[int, ...] = (1, 1, 1, 1),
        sca: bool = False,
    ) -> None:
        super().__init__()
        enc_blocks, dec_blocks = tuple(enc_blocks), tuple(dec_blocks)
        if len(enc_blocks) != len(dec_blocks):
            raise ValueError("enc_blocks and dec_blocks must have the same length")
        self.arch_args: dict[str, Any] = {
            "width": width,
            "enc_blocks": list(enc_blocks),
            "middle_blocks": middle_blocks,
            "dec_blocks": list(dec_blocks),
            "sca": sca,
        }
        self.intro = nn.Conv2d(3, width, 3, padding=1)
        self.ending = nn.Conv2d(width, 3, 3, padding=1)
        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        self.decoders = nn.ModuleList()
        self.ups = nn.ModuleList()
        c = width
        self.stage_channels: dict[str, int] = {}
        for i, n in enumerate(enc_blocks):
            self.encoders.append(nn.Sequential(*[NAFBlock(c, sca) for _ in range(n)]))
            self.stage_channels[f"enc{i}"] = c
            self.downs.append(nn.Conv2d(c, 2 * c, 2, stride=2))
            c *= 2
        self.middle = nn.Sequential(*[NAFBlock(c, sca) for _ in range(middle_blocks)])
        self.stage_channels["middle"] = c
        for i, n in enumerate(dec_blocks):
            self.ups.append(nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.PixelShuffle(2)))
            c //= 2
            self.decoders.append(nn.Sequential(*[NAFBlock(c, sca) for _ in range(n)]))
            self.stage_channels[f"dec{len(dec_blocks) - 1 - i}"] = c
        # Zero-initialised output conv: the untrained network is exactly the identity.
        nn.init.zeros_(self.ending.weight)
        nn.init.zeros_(self.ending.bias)
        self.size_multiple = 2 ** len(enc_blocks)
        self.receptive_radius = unet_radius(enc_blocks, middle_blocks, dec_blocks)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Run the network and collect stage features.

        Args:
            x: ``N×3×H×W`` float32, 0–1, any H, W (padded to ``size_multiple`` internally).

        Returns:
            The restored ``N×3×H×W`` image and a dict of feature maps keyed by
            stage (``enc0`` at full resolution, ``enc1`` at 1/2, ..., ``middle``,
            ``dec*``), computed on the padded input.
        """
        return run_padded(self.forward_aligned, x, self.size_multiple)

    def forward_aligned(self, xp: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The graph on an input whose H and W are multiples of ``size_multiple`` (what gets exported)."""
        feats: dict[str, torch.Tensor] = {}
        y = self.intro(xp)
        skips = []
        for i, (enc, down) in enumerate(zip(self.encoders, self.downs)):
            y = enc(y)
            feats[f"enc{i}"] = y
            skips.append(y)
            y = down(y)
        y = self.middle(y)
        feats["middle"] = y
        n = len(self.decoders)
        for i, (dec, up, skip) in enumerate(zip(self.decoders, self.ups, reversed(skips))):
            y = dec(up(y) + skip)
            feats[f"dec{n - 1 - i}"] = y
        return self.ending(y) + xp, feats

    def encode(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Encoder features only (``enc*`` and ``middle``), for the perceptual loss."""
        h, w = x.shape[-2:]
        m = self.size_multiple
        ph, pw = (-h) % m, (-w) % m
        y = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        y = self.intro(y)
        feats: dict[str, torch.Tensor] = {}
        for i, (enc, down) in enumerate(zip(self.encoders, self.downs)):
            y = enc(y)
            feats[f"enc{i}"] = y
            y = down(y)
        feats["middle"] = self.middle(y)
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Restore ``N×3×H×W`` float32 0–1 to the same shape."""
        return self.forward_features(x)[0]


class ResBlock(nn.Module):
    """EDSR residual block: conv → ReLU → conv, scaled, plus the input."""

    def __init__(self, channels: int, res_scale: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) * self.res_scale


class EDSRTeacher(nn.Module):
    """EDSR-style residual network at full resolution (no upsampling tail).

    Args:
        width: feature channels.
        blocks: residual blocks; features after each quarter are exposed as
            ``enc0``..``enc3`` for feature distillation.
        res_scale: residual scaling inside each block.

    Shape:
        input ``N×3×H×W`` float32 0–1, any H, W ≥ 1; output the same.
    """

    architecture = "edsr"
    in_channels = 3
    size_multiple = 1

    def __init__(self, width: int = 64, blocks: int = 16, res_scale: float = 0.1) -> None:
        super().__init__()
        self.arch_args: dict[str, Any] = {"width": width, "blocks": blocks, "res_scale": res_scale}
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.ModuleList(ResBlock(width, res_scale) for _ in range(blocks))
        self.body_end = nn.Conv2d(width, width, 3, padding=1)
        self.tail = nn.Conv2d(width, 3, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)
        self.receptive_radius = 2 * blocks + 3
        self._taps = {max(1, round(blocks * q / 4)) - 1: f"enc{q - 1}" for q in range(1, 5)}
        self.stage_channels = {name: width for name in self._taps.values()}

    def forward_aligned(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Same as ``forward_features`` (EDSR needs no alignment)."""
        return self.forward_features(x)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return the restored image and features after each quarter of the body."""
        y = h = self.head(x)
        feats: dict[str, torch.Tensor] = {}
        for i, block in enumerate(self.body):
            y = block(y)
            if i in self._taps:
                feats[self._taps[i]] = y
        y = self.body_end(y) + h
        return self.tail(y) + x, feats

    def encode(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Body features (for the perceptual loss)."""
        return self.forward_features(x)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Restore ``N×3×H×W`` float32 0–1 to the same shape."""
        return self.forward_features(x)[0]


#: Teacher registry: name → constructor. ``nafnet`` is the default.
TEACHERS: dict[str, type[nn.Module]] = {
    "nafnet": NAFNetTeacher,
    "edsr": EDSRTeacher,
}
DEFAULT_TEACHER = "nafnet"
