"""A unit's signed calendar feed (/ics/{token}.ics) for Outlook or the WeCom calendar."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reminder.answerback.ical import build_calendar
from reminder.web.pages import Refused, grant_of
from reminder.web.site import Site

log = logging.getLogger("reminder.web")


async def feed(request: Request) -> Response:
    site: Site = request.app.state.site
    grant = grant_of(request, "feed")
    plan = site.plan(grant.plan)
    if plan is None:
        raise Refused(404, "计划暂时无法加载。")
    log.info("日历订阅：%s / %s（链接 %s）", plan.id, grant.unit, grant.link_id)
    body = await run_in_threadpool(lambda: build_calendar(
        plan, events=site.store.events(), unit=grant.unit or None, stamp=site.now(),
        extended=site.store.extended_dates()))
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "no-store"})
