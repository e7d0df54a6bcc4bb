"""v3vision: the image adapter of v3 (digit identity as content, ink colour as style).

Strips of real handwritten digits (scikit-learn's ``load_digits``), one colour
per strip; V3 learns the ten digits as codebook atoms and the colour as style.

Examples
--------
Draw a strip of three handwritten digits (7, 3, 1) in blue and read it with
the shipped ``digits`` checkpoint:

>>> import v3vision
>>> from v3vision.data import draw_strip
>>> blue = draw_strip("731", "blue")  # handwriting no model was trained on: RGB [24, 72, 3]
>>> v3vision.read_digits(blue)
'731'
"""

from __future__ import annotations

from .adapter import VisionAdapter, VisionConfig
from .api import DigitReader, embed, read_digits, recolor, recolor_file
from .data import OOD_COLOURS, TRAIN_COLOURS, StripSpec, cut_cells, load_image, make_digit_strips

__all__ = [
    "OOD_COLOURS",
    "TRAIN_COLOURS",
    "DigitReader",
    "StripSpec",
    "VisionAdapter",
    "VisionConfig",
    "cut_cells",
    "embed",
    "load_image",
    "make_digit_strips",
    "read_digits",
    "recolor",
    "recolor_file",
]
