"""Run an aligned-size graph on any H×W: replicate-pad to the size multiple, run, crop back."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Graph = Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]]


def run_padded(graph: Graph, x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run ``graph`` on ``x`` padded at the bottom/right to multiples of ``multiple``.

    Args:
        graph: returns ``(N×C×H'×W' output, stage features)`` for aligned inputs.
        x: ``N×C×H×W`` float, any H, W.
        multiple: the graph's size multiple.

    Returns:
        The output cropped back to ``H×W``, and the features of the padded input.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    xp = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
    out, feats = graph(xp)
    return out[..., :h, :w], feats
