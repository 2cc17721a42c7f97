"""Where the shipped rules and templates live.

In a wheel they are copied into ``reminder/_data``; in a source checkout (and an editable
install) they are the top-level ``rules/`` and ``templates/`` folders next to the package.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_dir(name: str) -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data" / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"reminder is installed without its {name}/ folder")
