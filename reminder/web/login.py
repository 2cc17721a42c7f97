"""The board by password: /board shows a login form (or, once logged in, the plans), and
/board/{plan} is the same board as /admin/{token}, its grant taken from the session.

Only the password's salted scrypt hash is kept, in the secrets file ([web] password_hash,
written by `reminder web-password`). Logins are rate-limited per client; a wrong password
gets 403 and a plain Chinese message; the password itself is never logged or echoed. A
session lasts SESSION_SECONDS and ends when the password or the server secret changes, and at
any logout: the cookie names the store's session generation it was opened in, and a logout
(or `reminder web-password`) moves it on, so a cookie copied before the logout is refused.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reminder.answerback.links import Grant
from reminder.answerback.passwords import check_password, stamp
from reminder.web.pages import Refused, grant_of, page
from reminder.web.site import Site

log = logging.getLogger("reminder.web")
SESSION_SECONDS = 8 * 3600  # a working day


def _generation(site: Site) -> int | None:
    try:
        return site.store.session_generation()
    except Exception as exc:  # the database is down: no session can be vouched for
        log.error("无法读取看板会话状态：%s", exc)
        return None


def _session(request: Request, site: Site) -> str | None:
    """The session's id when it was opened with the current password and no logout has
    happened since, else None."""
    stored = site.password_hash()
    ident = request.session.get("board")
    if not stored or not isinstance(ident, str) or request.session.get("stamp") != stamp(stored):
        return None
    generation = request.session.get("gen")
    if not isinstance(generation, int) or generation != _generation(site):
        return None
    return ident


def admin_grant(request: Request) -> Grant:
    """The board's grant: from the signed admin link, or from a password session."""
    if "token" in request.path_params:
        return grant_of(request, "admin")
    site: Site = request.app.state.site
    ident = _session(request, site)
    if ident is None:
        raise Refused(403, "请先登录督办看板（打开 /board 输入密码），或使用看板链接。")
    return Grant(kind="admin", plan=request.path_params["plan"], unit="", link_id=ident,
                 issued=datetime.fromtimestamp(request.session.get("at", 0), UTC))


def board_path(request: Request) -> str:
    """The last path segment of this board's address, which its page links are relative to."""
    if "token" in request.path_params:
        return str(request.path_params["token"])
    return quote(str(request.path_params["plan"]), safe="")


def _plans(site: Site) -> list[dict[str, str]]:
    found = []
    for folder in site.config.plan_folders():
        plan = site.plan(folder.name)
        found.append({"id": folder.name, "title": plan.title if plan else folder.name})
    return found


def _page(request: Request, site: Site, *, message: str = "", error: bool = False,
          status: int = 200) -> Response:
    logged_in = _session(request, site) is not None
    context: dict[str, Any] = {
        "office": site.config.sender_name or "", "message": message, "error": error,
        "enabled": site.password_hash() is not None,
        "plans": _plans(site) if logged_in else None,
    }
    return page(request, "login.html", context, status=status)


async def show(request: Request) -> Response:
    site: Site = request.app.state.site
    return await run_in_threadpool(_page, request, site)


async def act(request: Request) -> Response:
    site: Site = request.app.state.site
    form = await request.form()
    if form.get("action") == "logout":
        if await run_in_threadpool(_session, request, site) is not None:
            # Only a live session may end them all: a stale cookie cannot log others out.
            try:
                await run_in_threadpool(site.store.end_sessions)
                log.info("看板退出登录：会话 %s；此前的会话均已失效", request.session.get("board"))
            except Exception as exc:  # this browser still forgets it; say the rest stand
                log.error("看板退出登录未能使其他会话失效（数据库不可用）：%s", exc)
        request.session.clear()
        return RedirectResponse("board", status_code=303)
    client = request.client.host if request.client else "-"
    if not site.login_rate.allow(client):
        log.warning("看板登录尝试过于频繁：来自 %s", client)
        return _page(request, site, message="尝试次数过多，请 5 分钟后再试。", error=True,
                     status=429)
    stored = site.password_hash()
    if stored is None:
        return _page(request, site, message="未设置看板密码，无法登录。", error=True,
                     status=403)
    password = str(form.get("password", ""))
    async with site.password_checks:
        right = await run_in_threadpool(check_password, password, stored)
    if not right:
        log.warning("看板登录失败：密码不正确（来自 %s）", client)
        return _page(request, site, message="密码不正确，请重新输入。", error=True, status=403)
    generation = await run_in_threadpool(_generation, site)
    if generation is None:
        return _page(request, site, message="暂时无法登录（数据库不可用），请稍后再试。", error=True,
                     status=503)
    ident = "pw-" + secrets.token_hex(4)
    request.session.clear()
    request.session.update({"board": ident, "stamp": stamp(stored), "gen": generation,
                            "at": int(datetime.now(UTC).timestamp())})
    log.info("看板密码登录：会话 %s（来自 %s）", ident, client)
    return RedirectResponse("board", status_code=303)
