"""kdsharp: real-time image and video sharpening by knowledge distillation.

The core is ``Sharpener``: load a kdsharp ONNX model once, then ``sharpen``
images of any size. It depends on numpy and onnxruntime only; importing
this package does no work (onnxruntime loads when a model does).

Example:
    >>> from kdsharp import Sharpener, RuntimeConfig      # doctest: +SKIP
    >>> sharp = Sharpener(config=RuntimeConfig(threads=2)).sharpen(photo)  # doctest: +SKIP
"""

from kdsharp.config import RuntimeConfig
from kdsharp.contract import ModelInfo
from kdsharp.errors import InputError, KdsharpError, ModelError, RuntimeFailure
from kdsharp.sharpener import Sharpener

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "KdsharpError",
    "ModelError",
    "ModelInfo",
    "RuntimeConfig",
    "RuntimeFailure",
    "Sharpener",
    "__version__",
]
