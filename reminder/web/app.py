"""Routes: /u/{token} (a unit's page), /l/{token} (a leader's escalated tasks across plans,
with 批示), /admin/{token} (the coordinator's board),
/board (password login, then /board/{plan}: the same board), /ics/{token}.ics (a unit's
calendar feed), /static (CSS served from the package).

GET never changes anything: mail gateways and the WeCom in-app browser open links on their
own. Every POST carries the page's CSRF token and is rate-limited; a token that is tampered
with, expired, of another kind or for another unit gets 403 and changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from reminder.web.bodylimit import BodyLimit
from reminder.web.pages import Refused, refused
from reminder.web.site import RateLimit, Site

if TYPE_CHECKING:
    from reminder.config import Config
    from reminder.plan.cache import PlanCache
    from reminder.store import Store

HERE = Path(__file__).resolve().parent


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def home(request: Request) -> Response:
    """The site root says what this server is (it said Not Found) and where people go."""
    from reminder.web.pages import page

    config = request.app.state.site.config
    office = config.sender_name or (config.email.sender_name if config.email else "") or "政务公开"
    return page(request, "home.html", {"office": office})


def create_app(config: Config, store: Store, *, links: Any, plans: PlanCache,
               channels: Callable[[], dict[str, Any]], clock: Any = None,
               rate: RateLimit | None = None, login_rate: RateLimit | None = None,
               body_limits: Mapping[str, int] | None = None) -> Starlette:
    """The pages over one deployment's parts, built by ``reminder.wiring``: the link signer,
    the shared plan cache and the channels (built when a page first sends).
    ``body_limits`` raises the body ceiling (64 KB) for the paths matching each pattern;
    multipart uploads (佐证材料) on the unit page have their own."""
    from reminder.web import board, calendar_feed, evidence, leader, login, stats, unit

    site = Site(config, store, links, plans=plans, channels=channels, clock=clock, rate=rate,
                login_rate=login_rate)
    # The board's password session: signed with a key derived from the server secret, so
    # rotating the secret ends every session as it voids every link. SameSite=Lax keeps it
    # off cross-site POSTs (the forms' CSRF tokens check them too) yet lets a bookmark or a
    # link in WeCom open the board without logging in again.
    session = Middleware(SessionMiddleware, secret_key=links.derived("board-session"),
                         session_cookie="reminder_board", max_age=login.SESSION_SECONDS,
                         same_site="lax", https_only=config.web.url.startswith("https:"))
    middleware = [session]
    if config.web.trusted_proxies:
        # Only then does X-Forwarded-For name the client (for the rate limits and the logs);
        # the server itself is started with proxy_headers off (cli/web.py server_config).
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        middleware.insert(0, Middleware(ProxyHeadersMiddleware,
                                        trusted_hosts=list(config.web.trusted_proxies)))
    # Outermost: a body over its route's limit is refused before anything reads it.
    # The unit page takes 佐证材料 uploads: a multipart body of a file at the library's
    # limit and its form; its url-encoded forms keep the form limit.
    middleware.insert(0, Middleware(BodyLimit, limits=body_limits,
                                    uploads={r"/u/[^/]+": evidence.MAX_BODY}))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # A long-running `reminder serve` sweeps 佐证材料 as it did at start, periodically.
        sweeping = asyncio.create_task(evidence.sweep_periodically(site))
        try:
            yield
        finally:
            sweeping.cancel()

    app = Starlette(routes=[
        Route("/u/{token}", unit.show, methods=["GET"]),
        Route("/u/{token}", unit.act, methods=["POST"]),
        Route("/l/{token}", leader.show, methods=["GET"]),
        Route("/l/{token}", leader.act, methods=["POST"]),
        Route("/admin/{token}", board.show, methods=["GET"]),
        Route("/admin/{token}", board.act, methods=["POST"]),
        Route("/admin/{token}/ledger.xlsx", board.ledger, methods=["GET"]),
        Route("/board", login.show, methods=["GET"]),
        Route("/board", login.act, methods=["POST"]),
        Route("/board/{plan}", board.show, methods=["GET"]),
        Route("/board/{plan}", board.act, methods=["POST"]),
        Route("/board/{plan}/ledger.xlsx", board.ledger, methods=["GET"]),
        Route("/admin/{token}/stats", stats.show, methods=["GET"]),
        Route("/board/{plan}/stats", stats.show, methods=["GET"]),
        Route("/l/{token}/stats/{plan}", stats.leader_show, methods=["GET"]),
        Route("/f/{token}", evidence.serve, methods=["GET"]),
        Route("/ics/{token}.ics", calendar_feed.feed, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/", home, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ], middleware=middleware, exception_handlers={Refused: refused}, lifespan=lifespan)
    app.state.site = site
    evidence.sweep_orphans(site)  # retention: [web] evidence_keep_days
    return app
