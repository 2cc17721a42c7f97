"""佐证材料 on the pages: the files a unit sends with 报进展, 有困难 or 已完成, and the signed
link (/f/{token}) that serves one. Judging and storing are answerback/evidence.py's; this
module reads the multipart form, tells the store, and serves bytes found by hash only.

Limits, outermost first: web/bodylimit.py refuses a body past ``MAX_BODY`` on the unit page
before the app reads it (by Content-Length, or by counting a chunked body as it streams), Starlette
spools each uploaded part to a temporary file, and ``accept`` refuses a file past its own
size, count, kind and zip limits.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from reminder.answerback.evidence import MAX_BYTES, EvidenceRefused, Limits, accept, response_headers, sweep
from reminder.answerback.links import LinkError, file_url, verify_file
from reminder.web.pages import REFUSED, Refused

if TYPE_CHECKING:
    from reminder.config import Config
    from reminder.web.site import Site

log = logging.getLogger("reminder.web")
# One submit: a file at the library's limit and the form around it. More files at once
# must stay within this together.
MAX_BODY = MAX_BYTES + 1024 * 1024
REPORTS = ("progress", "blocked", "done")
# How often a running app sweeps again: files age past [web] evidence_keep_days (counted in
# days) while `reminder serve` runs for months, so hourly is soon enough and costs one
# directory walk and one query.
SWEEP_EVERY = 3600.0


def evidence_root(config: Config) -> Path:
    """The folder ``evidence/`` lives in: [web] evidence_dir, else beside the SQLite
    database, else systemd's state directory, else state/ beside config.toml."""
    from reminder.store import sqlite_path

    if config.web is not None and config.web.evidence_dir:
        given = Path(config.web.evidence_dir)
        return given if given.is_absolute() or config.path is None else config.path.parent / given
    db = sqlite_path(config.database_url)
    if db is not None:
        return db.parent
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if state:
        return Path(state)
    return (config.path.parent if config.path else Path.cwd()) / "state"


def sweep_orphans(site: Site) -> list[str]:
    """Retention: remove stored files no task refers to any more, once older than [web]
    evidence_keep_days. Attached files are kept for as long as their rows are."""
    keep = site.config.web.evidence_keep_days if site.config.web else 30
    try:
        removed = sweep(evidence_root(site.config), site.store.referenced_hashes(),
                        older_than_days=keep)
    except Exception as exc:  # the pages must start even when the folder is unreadable
        log.error("清理佐证材料失败：%s", exc)
        return []
    if removed:
        log.info("已清理 %d 个不再被引用的佐证材料（保留期 %d 天）", len(removed), keep)
    return removed


async def sweep_periodically(site: Site) -> None:
    """Sweep every ``SWEEP_EVERY`` seconds for as long as the app runs (its lifespan): a
    file stored whose report never was, or whose rows are gone, is removed once old enough
    without waiting for a restart."""
    while True:
        await asyncio.sleep(SWEEP_EVERY)
        await run_in_threadpool(sweep_orphans, site)


def uploads(form: dict[str, Any]) -> list[UploadFile]:
    multi = form.get("_multi")
    if multi is None:
        return []
    return [f for f in multi.getlist("files") if isinstance(f, UploadFile) and f.filename]


def with_files(site: Site, grant: Any, plan: Any, form: dict[str, Any],
               result: dict[str, Any]) -> dict[str, Any]:
    """A unit page's result with the files of its submit stored and told about; nothing
    is stored when the report itself was not accepted."""
    if result.get("error") or not uploads(form):
        return result
    from reminder.answerback.progress import task_views

    views = {v.id: v for v in task_views(plan, site.store, site.now().date(), unit=grant.unit)}
    task = views.get(str(form.get("task", "")))
    if task is None:
        return result
    told = attach(site, grant, plan, form, task)
    refused = "未能上传" in told
    return {**result, "flash": f"{result.get('flash', '')}{told}",
            "error": bool(result.get("error")) or refused}


def attach(site: Site, grant: Any, plan: Any, form: dict[str, Any], task: Any) -> str:
    """Store the files of a submit that was accepted; the flash's sentence about them ("" when
    none). Each file is judged alone: a refused one is named with why, the others are kept."""
    files = uploads(form)
    if not files:
        return ""
    report = str(form.get("action", ""))
    report = report if report in REPORTS else ""
    root = evidence_root(site.config)
    # The report the files came with: this link's latest of that kind on that task.
    feedback = None
    if report in ("progress", "blocked"):
        rows = [f for f in site.store.feedback(plan.id, task.id)
                if f.kind == report and f.link_id == grant.link_id]
        feedback = rows[-1].id if rows else None
    kept, refused = [], []
    for upload in files:
        # Read at most one byte past the limit: the spooled file is never read whole
        # when it is too big.
        upload.file.seek(0)
        data = upload.file.read(MAX_BYTES + 1)
        name = upload.filename or "附件"
        try:
            stored = accept(root, data, name, attached=site.store.evidence_count(plan.id, task.id),
                            limits=Limits())
        except EvidenceRefused as err:
            log.warning("拒绝佐证材料：%s 任务 %s（链接 %s）：%s", plan.id, task.id,
                        grant.link_id, err)
            refused.append(f"{_shown(name)}：{err}")
            continue
        site.store.add_evidence(plan.id, task.id, unit=grant.unit, sha256=stored.sha256,
                                name=stored.name, kind=stored.kind, size=stored.size,
                                now=site.now(), due=task.current, feedback=feedback,
                                link=grant.link_id, report=report or None)
        kept.append(stored.name)
    text = f"已上传佐证材料 {len(kept)} 个：" + "、".join(kept) + "。" if kept else ""
    if refused:
        text += "未能上传：" + "；".join(refused)
    return text


def _shown(name: str) -> str:
    from reminder.answerback.evidence import clean_name

    return clean_name(name)


def url_maker(site: Site, plan_id: str) -> Any:
    """The template's ``file_url(sha256)``: a signed link to one of this plan's files."""
    return lambda sha256: file_url(site.links, plan_id, sha256)


async def serve(request: Request) -> Response:
    """GET /f/{token}: the file the link names, if a task of that plan still has it; the
    type from our sniffing, images inline, everything else as a download."""
    site: Site = request.app.state.site
    token = request.path_params["token"]
    try:
        plan_id, sha256 = verify_file(site.links, token, now=site.now())
    except LinkError as err:
        log.warning("拒绝文件链接 %s：%s", err.link_id, REFUSED[err.reason])
        raise Refused(403, REFUSED[err.reason] + "，请从看板或任务页面重新打开文件。") from None

    def find() -> tuple[Any, bytes] | None:
        rows = [r for r in site.store.evidence(plan_id) if r.sha256 == sha256]
        if not rows:
            return None
        from reminder.answerback.evidence import path_of

        path = path_of(evidence_root(site.config), sha256)
        try:
            return rows[0], path.read_bytes()
        except OSError:
            return None

    found = await run_in_threadpool(find)
    if found is None:
        raise Refused(404, "文件不存在或已被移除，请联系牵头处室。")
    row, data = found
    headers = {**response_headers(row.kind, row.name), "Cache-Control": "private, no-store",
               "Referrer-Policy": "no-referrer"}
    media = headers.pop("Content-Type")
    return Response(data, media_type=media, headers=headers)


