"""``v3 vision ...`` commands (digits and colours). Work in progress."""

from __future__ import annotations

import click


@click.group("vision")
def vision_group() -> None:
    """Vision tools: digit strips from real handwriting (content = digit, style = colour)."""
