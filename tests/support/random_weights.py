"""Seeded random weights for a test network, so that no path through it is zero."""

from __future__ import annotations

import torch


def randomise(net: torch.nn.Module, std: float, seed: int = 0) -> torch.nn.Module:
    """Overwrite every parameter of ``net`` with seeded normal noise of ``std`` (in its own dtype); ``net`` in eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * std)
    return net.eval()
