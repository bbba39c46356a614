"""What an output file carries over from its input: the one piece the image readers and writers share.

``images`` (Pillow), ``deep_color`` (16-bit colour PNG through OpenCV) and ``tiff``
(float and 16-bit colour TIFF through tifffile) all read and write it, so it lives
here and the imports run one way: ``images`` → the others → ``metadata``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Textual TIFF tags carried over: description, make, model, software, date, artist, copyright.
TIFF_TEXT_TAGS = (270, 271, 272, 305, 306, 315, 33432)


@dataclass(frozen=True)
class Metadata:
    """What is carried from an input file to its output.

    Attributes:
        icc_profile: the embedded ICC profile (an sRGB one after a CMYK conversion).
        exif: EXIF bytes with the orientation tag removed (the pixels are upright).
        xmp: XMP packet bytes.
        dpi: resolution in dots per inch.
        text: PNG text chunks.
        tiff_tags: textual TIFF tags (tag number -> value).
        tiff_compression: the TIFF compression to write back.
        jpeg_qtables: quantisation tables of a JPEG source (keeps its quality).
        jpeg_subsampling: chroma subsampling of a JPEG source (-1 unknown).
        webp_lossless: the WebP source was lossless.
    """

    icc_profile: bytes | None = None
    exif: bytes | None = None
    xmp: bytes | None = None
    dpi: tuple[float, float] | None = None
    text: dict[str, str] = field(default_factory=dict)
    tiff_tags: dict[int, Any] = field(default_factory=dict)
    tiff_compression: str | None = None
    jpeg_qtables: Any = None
    jpeg_subsampling: int = -1
    webp_lossless: bool = False
