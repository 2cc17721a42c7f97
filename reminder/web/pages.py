"""What every route shares: the page renderer with its safety headers, the refusal that
becomes an error page, the signed link of a request and its checked form."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from reminder.answerback.links import Grant, LinkError
from reminder.plan.wording import period_name
from reminder.web.site import Site

HERE = Path(__file__).resolve().parent
log = logging.getLogger("reminder.web")
templates = Jinja2Templates(directory=str(HERE / "templates"))
# Reporting periods are stored as 2026Q4; people read 2026年第四季度.
templates.env.filters["period"] = period_name
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
    # Per link, whoever sends: a link posted from many addresses is still one link.
    if not site.rate.allow(grant.link_id):
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
