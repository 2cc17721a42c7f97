"""The ``regex`` package's C engine, loaded without the package.

``import regex`` runs the package's pure-Python parser module (``_regex_core``), about 9 ms
of every start; a run whose patterns are all in the rules cache only hands their stored
programs to the C engine (programs.py). So the engine is loaded alone, from the installed
package's folder, and the package itself is imported when a pattern must be compiled. The
package then finds the same engine in ``sys.modules`` and uses it (one engine per process).
Any doubt — an engine not found as expected — loads the package as usual.
"""

from __future__ import annotations

import sys
from importlib.machinery import ExtensionFileLoader, PathFinder
from typing import Any

NAME = "regex._regex"


def c_engine() -> Any:
    """The ``_regex`` C extension module of the installed ``regex``."""
    loaded = sys.modules.get(NAME)
    if loaded is not None:
        return loaded
    package = PathFinder.find_spec("regex")
    spec = (PathFinder.find_spec(NAME, list(package.submodule_search_locations))
            if package is not None and package.submodule_search_locations else None)
    if spec is None or not isinstance(spec.loader, ExtensionFileLoader):
        import regex

        return regex._main._regex  # type: ignore[attr-defined]
    module = spec.loader.create_module(spec)
    spec.loader.exec_module(module)  # type: ignore[arg-type]
    module.__spec__ = spec  # type: ignore[union-attr]
    sys.modules[NAME] = module  # type: ignore[assignment]
    return module


def identity() -> str:
    """Names the engine for the rules cache, whose stored programs only this engine takes:
    its file (size and modification time change with every install of a release) and its
    program format (``MAGIC``)."""
    engine = c_engine()
    from pathlib import Path

    st = Path(engine.__file__).stat()
    return f"{engine.MAGIC}|{Path(engine.__file__).name}|{st.st_size}|{st.st_mtime_ns}"
