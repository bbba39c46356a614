"""Re-parameterisable convs: several branches while training, one plain conv when deployed.

``RepConv3x3`` is ECBSR's edge-oriented block (Zhang et al., 2021) for a square
``c → c`` 3×3 conv: a 3×3 conv, a 1×1 conv, a 1×1 expansion followed by a 3×3
conv, three fixed edge detectors (Sobel x, Sobel y, Laplacian) each behind a 1×1
conv with learned per-channel scales, and the identity. Every branch is linear, so
their sum is one 3×3 conv: ``folded()`` computes it, and ``fold_reparam`` swaps
every block of a network for its folded conv. The exporter calls it, so a
deployed model costs what a plain conv costs. The branches are padded so that the
fold is exact at the borders too: a 1×1 conv's output is padded with its own bias
(what the 1×1 conv gives on the zero padding of the input) before the 3×3 that
follows it.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

#: The fixed edge detectors of ECBSR's branches, 3×3 each.
EDGE_MASKS = {
    "sobel_x": ((1.0, 0.0, -1.0), (2.0, 0.0, -2.0), (1.0, 0.0, -1.0)),
    "sobel_y": ((1.0, 2.0, 1.0), (0.0, 0.0, 0.0), (-1.0, -2.0, -1.0)),
    "laplacian": ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0)),
}


def _pad_with_bias(y: torch.Tensor, bias: torch.Tensor, pad: int) -> torch.Tensor:
    """Pad ``N×C×H×W`` by ``pad`` with each channel's ``bias`` value (a 1×1 conv's output on zero padding)."""
    b = bias.view(1, -1, 1, 1)
    return F.pad(y - b, [pad] * 4) + b


class RepConv3x3(nn.Module):
    """A ``channels → channels`` 3×3 conv (dilation ``dilation``, same-size output) trained as branches.

    Args:
        channels: input and output channels.
        expand: channels of the 1×1 → 3×3 branch, as a multiple of ``channels``.
        dilation: dilation of every 3×3 branch (and of the folded conv).

    Shape:
        ``N×channels×H×W`` → ``N×channels×H×W``.
    """

    def __init__(self, channels: int, expand: int = 2, dilation: int = 1) -> None:
        super().__init__()
        c, d = channels, dilation
        self.channels, self.dilation = c, d
        self.conv3 = nn.Conv2d(c, c, 3, padding=d, dilation=d)
        self.conv1 = nn.Conv2d(c, c, 1)
        self.expand_in = nn.Conv2d(c, expand * c, 1)
        self.expand_out = nn.Conv2d(expand * c, c, 3, dilation=d)
        self.edge_in = nn.ModuleList(nn.Conv2d(c, c, 1) for _ in EDGE_MASKS)
        self.edge_scale = nn.Parameter(torch.randn(len(EDGE_MASKS), c) * 1e-3)
        self.edge_bias = nn.Parameter(torch.zeros(len(EDGE_MASKS), c))
        self.register_buffer("edge_masks", torch.tensor(list(EDGE_MASKS.values())), persistent=False)

    def _edge_kernels(self) -> torch.Tensor:
        """``E×c×1×3×3`` depthwise kernels: each edge mask times its per-channel scale."""
        return self.edge_scale[:, :, None, None, None] * self.edge_masks[:, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The sum of the branches (training form); equals ``folded()(x)``."""
        d = self.dilation
        out = self.conv3(x) + self.conv1(x) + x
        out = out + self.expand_out(_pad_with_bias(self.expand_in(x), self.expand_in.bias, d))
        for conv, kernel, bias in zip(self.edge_in, self._edge_kernels(), self.edge_bias):
            out = out + F.conv2d(_pad_with_bias(conv(x), conv.bias, d), kernel, bias, dilation=d, groups=self.channels)
        return out

    @torch.no_grad()
    def folded(self) -> nn.Conv2d:
        """One plain 3×3 conv equal to the branches (float64 sums, cast back to the block's dtype)."""
        c, d = self.channels, self.dilation
        dt = torch.float64
        w = self.conv3.weight.to(dt) + F.pad(self.conv1.weight.to(dt), [1, 1, 1, 1])
        b = self.conv3.bias.to(dt) + self.conv1.bias.to(dt)
        w[:, :, 1, 1] += torch.eye(c, dtype=dt)
        e_in, e_out = self.expand_in.weight.to(dt)[:, :, 0, 0], self.expand_out.weight.to(dt)
        w += torch.einsum("omhw,mi->oihw", e_out, e_in)
        b += self.expand_out.bias.to(dt) + torch.einsum("omhw,m->o", e_out, self.expand_in.bias.to(dt))
        for conv, kernel, bias in zip(self.edge_in, self._edge_kernels().to(dt), self.edge_bias.to(dt)):
            k = kernel[:, 0]  # c×3×3, one kernel per output channel
            w += k[:, None] * conv.weight.to(dt)[:, :, 0, 0][:, :, None, None]
            b += bias + k.sum((1, 2)) * conv.bias.to(dt)
        ref = self.conv3.weight
        plain = nn.Conv2d(c, c, 3, padding=d, dilation=d).to(device=ref.device, dtype=ref.dtype)
        plain.weight.copy_(w)
        plain.bias.copy_(b)
        return plain


def fold_reparam(net: nn.Module) -> nn.Module:
    """A copy of ``net`` with every ``RepConv3x3`` replaced by its folded conv (``net`` itself unchanged)."""
    net = copy.deepcopy(net)
    for module in list(net.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, RepConv3x3):
                setattr(module, name, child.folded())
    return net
