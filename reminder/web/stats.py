"""The statistics page: per unit, the figures `reminder stats` prints for a period (from
answerback/stats.py, never counted again here), ranked, with the two charts drawn as inline
SVG (no script, no CDN). The coordinator reaches it from the board (/admin/{token}/stats,
/board/{plan}/stats); a leader from their page, for the plans that escalate to them
(/l/{token}/stats/{plan})."""

from __future__ import annotations

import logging
from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reminder.web.login import admin_grant
from reminder.web.pages import Refused, grant_of, page
from reminder.web.site import Site

log = logging.getLogger("reminder.web")


def context(site: Site, plan: Any, period_text: str | None) -> dict[str, Any]:
    from reminder.answerback.charts import charts, to_svg
    from reminder.answerback.stats import COLUMNS, cells, compute, parse_period

    now = site.now()
    error = ""
    try:
        period = parse_period(period_text or f"{now.year}年")
    except ValueError as err:
        error, period = str(err), parse_period(f"{now.year}年")
    stats = compute([plan], site.store, period, now).plans[0]
    return {
        "plan": plan, "stats": stats, "period": period, "today": now.date(), "error": error,
        "headers": [h for _, h in COLUMNS], "keys": [k for k, _ in COLUMNS],
        "rows": [cells(u) for u in stats.units], "total": cells(stats.total),
        "charts": [(c.title, c.summary, Markup(to_svg(c))) for c in charts(stats)],
        "period_text": period_text or "",
    }


async def show(request: Request) -> Response:
    """The coordinator's statistics page, from the board's link or session."""
    site: Site = request.app.state.site
    grant = admin_grant(request)
    plan = site.plan(grant.plan)
    if plan is None:
        raise Refused(404, f"计划 {grant.plan} 暂时无法加载，请检查计划文件夹（reminder check）。")
    log.info("统计页面：%s（链接 %s）", plan.id, grant.link_id)
    found = await run_in_threadpool(context, site, plan, request.query_params.get("period"))
    return page(request, "stats.html", {**found, "static": "../../static", "back": "../"
                                        + request.url.path.rstrip("/").split("/")[-2]})


async def leader_show(request: Request) -> Response:
    """A leader's statistics page for one plan that escalates to them."""
    from reminder.web.leader import leads

    site: Site = request.app.state.site
    grant = grant_of(request, "leader")
    plan = site.plan(request.path_params["plan"])
    if plan is None or not leads(plan, grant.unit):
        raise Refused(403, "该计划未报送您督办。")
    found = await run_in_threadpool(context, site, plan, request.query_params.get("period"))
    return page(request, "stats.html", {**found, "static": "../../../static", "back": "../../"
                                        + request.path_params["token"]})
