"""The units' pages and the coordinator's board: a thin Starlette app over the same plan
folders, store and completion functions the CLI uses.

    app = create_app(config, store)     # served by `reminder serve` or inside `reminder run`

Import only from those commands: it pulls in Starlette and itsdangerous.
"""

from __future__ import annotations

from reminder.web.app import create_app

__all__ = ["create_app"]
