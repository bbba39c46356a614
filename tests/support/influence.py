"""How far an output pixel of a network reaches into its input: what a declared receptive radius must cover."""

from __future__ import annotations

import torch

from random_weights import randomise


def farthest_influence(net: torch.nn.Module) -> int:
    """Largest distance (per axis) from an output pixel to an input pixel its value depends on.

    The network gets seeded random weights (std 0.3, float64), so that no path is zero; the distance is taken
    over every position of the output pixel within one cell of the coarsest grid (``size_multiple``), on an
    input wide enough for its declared ``receptive_radius`` to show any overreach.
    """
    net = randomise(net.double(), std=0.3)
    g = torch.Generator().manual_seed(1)
    r, m = net.receptive_radius, net.size_multiple
    side = (2 * r + 3 * m + 8) // m * m
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
