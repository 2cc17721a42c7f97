"""Routes: /u/{token} (a unit's page), /admin/{token} (the coordinator's board),
/board (password login, then /board/{plan}: the same board), /ics/{token}.ics (a unit's
calendar feed), /static (CSS served from the package).

GET never changes anything: mail gateways and the WeCom in-app browser open links on their
own. Every POST carries the page's CSRF token and is rate-limited; a token that is tampered
with, expired, of another kind or for another unit gets 403 and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from reminder.answerback.links import Grant, LinkError
from reminder.web.site import RateLimit, Site

if TYPE_CHECKING:
    from reminder.plan.cache import PlanCache

HERE = Path(__file__).resolve().parent
log = logging.getLogger("reminder.web")
templates = Jinja2Templates(directory=str(HERE / "templates"))
REFUSED = {"invalid": "链接无效", "expired": "链接已过期", "kind": "链接类型不符"}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    # The token is in the URL: keep it out of Referer headers and shared caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def grant_of(request: Request, kind: str) -> Grant:
    site: Site = request.app.state.site
    token = request.path_params["token"]
    try:
        grant = site.links.verify(token, kind, now=site.now())
    except LinkError as err:
        log.warning("拒绝链接 %s：%s（%s %s）", err.link_id, REFUSED[err.reason], request.method,
                    request.url.path.split("/")[1])
        raise Refused(403, REFUSED[err.reason] + "，请使用最新一封提醒中的链接，"
                      "或联系牵头处室重新获取。") from None
    return grant


async def checked_form(request: Request, grant: Grant) -> dict[str, Any]:
    """The POSTed form, after the rate limit and the CSRF check."""
    site: Site = request.app.state.site
    client = request.client.host if request.client else "-"
    if not site.rate.allow(f"{client}|{grant.link_id}"):
        log.warning("提交过于频繁：链接 %s，来自 %s", grant.link_id, client)
        raise Refused(429, "提交过于频繁，请稍后再试。")
    form = await request.form()
    if not site.links.check_csrf(str(form.get("csrf", "")), grant):
        log.warning("表单校验失败：链接 %s", grant.link_id)
        raise Refused(403, "表单已失效，请重新打开链接后再提交。")
    return {"_multi": form, **{k: v for k, v in form.items() if isinstance(v, str)}}


async def refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return page(request, "error.html", {"message": exc.message}, status=exc.status)


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app(config: Any, store: Any, *, links: Any, plans: PlanCache,
               channels: Callable[[], dict[str, Any]], clock: Any = None,
               rate: RateLimit | None = None, login_rate: RateLimit | None = None) -> Starlette:
    """The pages over one deployment's parts, built by ``reminder.wiring``: the link signer,
    the shared plan cache and the channels (built when a page first sends)."""
    from reminder.web import board, calendar_feed, login, unit

    site = Site(config, store, links, plans=plans, channels=channels, clock=clock, rate=rate,
                login_rate=login_rate)
    # The board's password session: signed with a key derived from the server secret, so
    # rotating the secret ends every session as it voids every link. SameSite=Lax keeps it
    # off cross-site POSTs (the forms' CSRF tokens check them too) yet lets a bookmark or a
    # link in WeCom open the board without logging in again.
    session = Middleware(SessionMiddleware, secret_key=links.derived("board-session"),
                         session_cookie="reminder_board", max_age=login.SESSION_SECONDS,
                         same_site="lax", https_only=config.web.url.startswith("https:"))
    app = Starlette(routes=[
        Route("/u/{token}", unit.show, methods=["GET"]),
        Route("/u/{token}", unit.act, methods=["POST"]),
        Route("/admin/{token}", board.show, methods=["GET"]),
        Route("/admin/{token}", board.act, methods=["POST"]),
        Route("/admin/{token}/ledger.xlsx", board.ledger, methods=["GET"]),
        Route("/board", login.show, methods=["GET"]),
        Route("/board", login.act, methods=["POST"]),
        Route("/board/{plan}", board.show, methods=["GET"]),
        Route("/board/{plan}", board.act, methods=["POST"]),
        Route("/board/{plan}/ledger.xlsx", board.ledger, methods=["GET"]),
        Route("/ics/{token}.ics", calendar_feed.feed, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ], middleware=[session], exception_handlers={Refused: refused})
    app.state.site = site
    return app
