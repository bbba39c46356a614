"""Tiny constructor arguments of every trainer registry entry (seconds to train on 1 thread)."""

from __future__ import annotations

#: Tiny constructor arguments for every registry entry.
TINY_ARGS: dict[tuple[str, str], dict] = {
    ("teacher", "nafnet"): {"width": 4, "enc_blocks": [1, 1], "middle_blocks": 1, "dec_blocks": [1, 1]},
    ("teacher", "edsr"): {"width": 4, "blocks": 2},
    ("student", "fast"): {"channels": 4, "convs": 1, "stride": 4},
    ("student", "dsconv"): {"channels": 4, "blocks": 1, "stride": 2},
    ("student", "unet_lite"): {"channels": 4},
    ("student", "unet"): {"channels": 4, "enc_blocks": [1, 0], "middle_blocks": 1, "dec_blocks": [0, 1]},
    ("student", "dilated"): {"channels": 4, "dilations": [1, 2]},
}
