"""ECBSR-style re-parameterisable convs: the branches fold into one plain conv, exactly, borders included."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import onnx
import pytest
import torch
from kdsharp_train.checkpoint import save_checkpoint
from kdsharp_train.export import ExportConfig, export_checkpoint
from kdsharp_train.models import arch_of
from kdsharp_train.reparam import RepConv3x3, fold_reparam
from kdsharp_train.students import FastStudent
from torch import nn

from random_weights import randomise


@pytest.mark.parametrize("dilation", [1, 2])
def test_folded_conv_equals_the_branches(dilation: int) -> None:
    block = randomise(RepConv3x3(6, dilation=dilation).double(), std=0.3)
    x = torch.rand(2, 6, 9, 14, dtype=torch.float64)
    plain = block.folded()
    assert isinstance(plain, nn.Conv2d) and plain.weight.dtype == torch.float64
    with torch.no_grad():
        assert torch.allclose(block(x), plain(x), atol=1e-12)  # edges too: a 1×1 branch pads with its bias


def test_the_identity_is_a_fixed_branch() -> None:
    # With every learned branch silenced the block passes its input through (its plain conv then adds to it).
    block = RepConv3x3(4)
    with torch.no_grad():
        for m in (block.conv3, block.conv1, block.expand_out):
            m.weight.zero_()
            m.bias.zero_()
        block.edge_scale.zero_()
        x = torch.rand(1, 4, 8, 8)
        assert torch.allclose(block(x), x, atol=1e-6)
        assert torch.allclose(block.folded()(x), x, atol=1e-6)


def test_fold_reparam_swaps_every_block_of_a_copy() -> None:
    net = randomise(FastStudent(channels=4, convs=3, stride=4, in_channels=1, rep=True, dilation=2).double(), std=0.3)
    folded = fold_reparam(net)
    assert sum(isinstance(m, RepConv3x3) for m in net.modules()) == 3  # the original keeps its branches
    assert not any(isinstance(m, RepConv3x3) for m in folded.modules())
    assert sum(p.numel() for p in folded.parameters()) == sum(
        p.numel() for p in FastStudent(channels=4, convs=3, stride=4, in_channels=1, dilation=2).parameters()
    )
    x = torch.rand(1, 1, 40, 36, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(net(x), folded(x), atol=1e-10)


def test_the_exported_graph_has_plain_convs_only(tmp_path: Path) -> None:
    # What ships costs what a plain conv costs: the export holds one Conv per body conv, no branches.
    ops = {}
    for rep in (False, True):
        net = randomise(FastStudent(channels=4, convs=2, stride=4, in_channels=1, rep=rep), std=0.3)
        tensors = {f"model.{k}": v for k, v in net.state_dict().items()}
        ck = save_checkpoint(tmp_path / f"ck{rep}", "best", tensors, {"step": 1, "arch": arch_of(net, "student"), "config": {}})
        out = tmp_path / f"rep{rep}.onnx"
        export_checkpoint(ExportConfig(checkpoint=str(ck), out=str(out)))  # parity with the branches checked there
        ops[rep] = Counter(n.op_type for n in onnx.load(str(out)).graph.node)
    assert ops[True] == ops[False]
