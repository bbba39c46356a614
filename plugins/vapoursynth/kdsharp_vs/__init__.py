"""kdsharp for VapourSynth: ``clip = kdsharp_vs.sharpen(clip, strength=1.0, model=None, ...)``.

Install into a Python >= 3.12 environment with ``pip install kdsharp[vs]``
(the PyPI ``vapoursynth`` wheel includes the core and ``vspipe``), then in a
``.vpy`` script:

    import vapoursynth as vs
    import kdsharp_vs
    clip = vs.core.bs.VideoSource("input.mkv")
    kdsharp_vs.sharpen(clip, strength=1.0).set_output()

Importing this package does no work; models load when ``sharpen`` is called.
"""

from kdsharp_vs.filter import DEFAULT_MODE, MODES, sharpen

__all__ = ["DEFAULT_MODE", "MODES", "sharpen"]
