"""v3vision: the image adapter of v3 (digit identity as content, colour as style).

Not implemented yet (see the vision issue); the package exists so the layout
and the packaging are in place.
"""

from __future__ import annotations

__all__: list[str] = []
