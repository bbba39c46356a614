"""unet_radius is exact: the farthest input pixel that moves an output pixel, over every alignment."""

from __future__ import annotations

import pytest
import torch
from kdsharp_train.models import build_model
from kdsharp_train.receptive import unet_radius

UNETS = [
    ("student", "unet", {"channels": 4, "enc_blocks": [0, 1], "middle_blocks": 1, "dec_blocks": [1, 1], "in_channels": 3}),
    ("student", "unet", {"channels": 4, "enc_blocks": [1, 0, 2], "middle_blocks": 0, "dec_blocks": [0, 2, 1], "in_channels": 1}),
    ("teacher", "nafnet", {"width": 4, "enc_blocks": [1, 0], "middle_blocks": 1, "dec_blocks": [0, 1]}),
]


def farthest_influence(net: torch.nn.Module) -> int:
    """Largest distance (per axis) from an output pixel to an input pixel its value depends on, taken over
    every position of the output pixel within one cell of the coarsest grid."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.3)
    r, m = net.receptive_radius, net.size_multiple
    side = (2 * r + 3 * m) // m * m
    centre = r + m
    x = torch.rand(1, net.in_channels, side, side, dtype=torch.float64, generator=g, requires_grad=True)
    worst = 0
    for dy in range(m):
        for dx in range(m):
            cy, cx = centre + dy, centre + dx
            net.forward_aligned(x)[0][0, 0, cy, cx].backward()
            ys, xs = torch.nonzero(x.grad[0].abs().sum(0) > 0, as_tuple=True)
            worst = max(worst, int((ys - cy).abs().max()), int((xs - cx).abs().max()))
            x.grad = None
    return worst


@pytest.mark.parametrize("kind,name,args", UNETS, ids=["unet-rgb", "unet-luma-empty-levels", "nafnet"])
def test_declared_radius_is_the_farthest_influence(kind: str, name: str, args: dict) -> None:
    net = build_model(kind, name, args).double()
    assert net.receptive_radius == unet_radius(args["enc_blocks"], args["middle_blocks"], args["dec_blocks"])
    assert farthest_influence(net) == net.receptive_radius


def test_shipped_quality_layout() -> None:
    # The shipped `quality` (channels 16, enc (0, 1, 2), middle 3, dec (1, 1, 1)): 2 + 17 + 24 + 7.
    assert unet_radius([0, 1, 2], 3, [1, 1, 1]) == 50
