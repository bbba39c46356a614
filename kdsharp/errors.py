"""The one error hierarchy of kdsharp.

Every host translates these into its own form: the CLI into a one-line
message and an exit code, VapourSynth into ``vs.Error``, GIMP into an
``EXECUTION_ERROR`` return status.
"""

from __future__ import annotations


class KdsharpError(Exception):
    """Root of every error kdsharp raises on purpose."""


class ModelError(KdsharpError):
    """A model file is missing, corrupt, tampered with, or breaks the contract."""


class InputError(KdsharpError):
    """An image or argument handed to kdsharp is unusable (shape, dtype, range)."""


class RuntimeFailure(KdsharpError):
    """onnxruntime failed while creating a session or running the network."""
