"""unet_radius is exact: the farthest input pixel that moves an output pixel, over every alignment."""

from __future__ import annotations

import pytest
from kdsharp_train.models import build_model
from kdsharp_train.receptive import unet_radius

from influence import farthest_influence

UNETS = [
    ("student", "unet", {"channels": 4, "enc_blocks": [0, 1], "middle_blocks": 1, "dec_blocks": [1, 1], "in_channels": 3}),
    ("student", "unet", {"channels": 4, "enc_blocks": [1, 0, 2], "middle_blocks": 0, "dec_blocks": [0, 2, 1], "in_channels": 1}),
    ("teacher", "nafnet", {"width": 4, "enc_blocks": [1, 0], "middle_blocks": 1, "dec_blocks": [0, 1]}),
]


@pytest.mark.parametrize("kind,name,args", UNETS, ids=["unet-rgb", "unet-luma-empty-levels", "nafnet"])
def test_declared_radius_is_the_farthest_influence(kind: str, name: str, args: dict) -> None:
    net = build_model(kind, name, args).double()
    assert net.receptive_radius == unet_radius(args["enc_blocks"], args["middle_blocks"], args["dec_blocks"])
    assert farthest_influence(net) == net.receptive_radius


def test_shipped_quality_layout() -> None:
    # The shipped `quality` (channels 16, enc (0, 1, 2), middle 3, dec (1, 1, 1)): 2 + 17 + 24 + 7.
    assert unet_radius([0, 1, 2], 3, [1, 1, 1]) == 50
