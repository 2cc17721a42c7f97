"""One WeCom robot post for several units: the units due at one moment whose notices go to
the same group robot share a post, a section each with its own @mentions and link.

The sections reuse the single-unit digest (its stage headings and task blocks from
``wecom/digest.*.j2``); ``wecom/units.*.j2`` adds the post's header and footer and each
unit's name, mentions and link. A long post is split between tasks like a digest, and a part
that starts inside a unit's section repeats the unit's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from jinja2.sandbox import SandboxedEnvironment

from reminder.delivery.channels.base import Message, split_parts, utf8_len
from reminder.delivery.channels.wecom import MARKDOWN_MAX_BYTES, TEXT_MAX_BYTES
from reminder.delivery.render.digest import (
    BLOCK_SEP,
    CUT,
    PART_MARK,
    Digest,
    FactsOf,
    LinkMaker,
    NewsOf,
    OfficeOf,
    build_digest,
    fit_task,
    unique,
)
from reminder.delivery.render.environment import guarded, render_template
from reminder.models import Notice


@dataclass(frozen=True, kw_only=True)
class _Post:
    units: tuple[Digest, ...]
    sender: str
    coordinator: str

    @property
    def names(self) -> str:
        return "、".join(d.recipient for d in self.units)

    def _tasks(self) -> dict[tuple[str, str, object], int]:
        # A task sent to its unit and, as a copy, to the coordinator on the same robot is
        # one task of the post, however many sections show it.
        return {(r.plan, r.id or r.title, r.due): r.days
                for d in self.units for s in d.sections for r in s.tasks}

    @property
    def total(self) -> int:
        return len(self._tasks())

    @property
    def overdue(self) -> int:
        return sum(1 for days in self._tasks().values() if days < 0)

    @property
    def linked(self) -> bool:
        return any(d.links for d in self.units)


def render_post(env: SandboxedEnvironment, notices: Sequence[Notice], *, today: date,
                fmt: str, link: LinkMaker | None = None,
                office: OfficeOf | None = None, facts: FactsOf | None = None,
                news: NewsOf | None = None) -> list[Message]:
    """The messages of one robot post for the units of ``notices`` (all on one robot), in
    sending order; each message's ``keys`` are the notices of the tasks it shows."""
    by_unit: dict[str, list[Notice]] = {}
    for n in notices:
        by_unit.setdefault(n.recipient, []).append(n)
    units = [(build_digest(env, group, today, link, office, facts, news), group)
             for group in by_unit.values()]
    post = _Post(units=tuple(d for d, _ in units), sender=units[0][0].sender,
                 coordinator=units[0][0].coordinator)
    markdown = fmt == "markdown"
    digest_name = "wecom/digest.md.j2" if markdown else "wecom/digest.txt.j2"
    name = "wecom/units.md.j2" if markdown else "wecom/units.txt.j2"
    mentions = [unique([m for n in group for m in n.mentions]) for _, group in units]
    mobiles = [unique([m for n in group for m in n.mobiles]) for _, group in units]

    # Per block: its text, the unit it belongs to, whether it opens that unit, its keys.
    blocks: list[tuple[str, int, bool, tuple[str, ...]]] = []

    def build() -> tuple[str, list[tuple[str, tuple[int, ...]]]]:
        tasks = env.get_template(digest_name).make_module({"today": today})
        own = env.get_template(name).make_module({"today": today})
        limit = MARKDOWN_MAX_BYTES if markdown else TEXT_MAX_BYTES
        frame = utf8_len(str(own.header(post)).strip()) + utf8_len(str(own.footer(post)).strip())
        for u, (d, _) in enumerate(units):
            rows = [(s, i, row) for s in d.sections for i, row in enumerate(s.tasks)]
            for k, (section, i, row) in enumerate(rows):
                text = []
                if k == 0:
                    # In markdown the mentions are written under the unit's name; in text
                    # they go in the request's mention list of the part that opens the unit.
                    text.append(str(own.unit(d, mentions[u] if markdown else ())).strip())
                if i == 0:
                    text.append(str(tasks.section(section)).strip())
                room = limit - frame - PART_MARK - 4 * len(BLOCK_SEP) - utf8_len("\n".join(text))
                text.append(fit_task(tasks.task, row, room))
                block = "\n".join(text)
                if k == len(rows) - 1 and (foot := str(own.unit_footer(d)).strip()):
                    block += "\n\n" + foot  # apart, so it is not read into a quote above
                blocks.append((block, u, k == 0, row.keys))
        more = {u: str(own.more(d)).strip() for u, (d, _) in enumerate(units)}
        parts = split_parts(
            str(own.header(post)).strip(), [b[0] for b in blocks], str(own.footer(post)).strip(),
            limit, sep=BLOCK_SEP, carry=lambda i: "" if blocks[i][2] else more[blocks[i][1]],
            ellipsis=CUT)
        return " ".join(str(own.subject(post)).split()), parts

    subject, parts = guarded(env, name, build)
    robot = notices[0].addresses[:1]
    opened = [{blocks[i][1] for i in indexes if blocks[i][2]} for _, indexes in parts]
    with_mobiles = [d for (d, _), m in zip(units, mobiles, strict=True) if m] if markdown else []
    total = len(parts) + (1 if with_mobiles else 0)
    messages = [
        Message(
            subject=subject, text=body, markdown=body if markdown else "", to=robot,
            part=number, parts=total,
            mentions=() if markdown else unique([m for u in sorted(units_in)
                                                  for m in mentions[u]]),
            mobiles=() if markdown else unique([m for u in sorted(units_in)
                                                 for m in mobiles[u]]),
            keys=tuple(key for i in indexes for key in blocks[i][3]),
        )
        for number, ((body, indexes), units_in) in enumerate(zip(parts, opened, strict=True), 1)
    ]
    if with_mobiles:  # markdown cannot mention by mobile: one short text message for them
        called = Digest(recipient="、".join(d.recipient for d in with_mobiles), today=today,
                         total=sum(d.total for d in with_mobiles),
                         overdue=sum(d.overdue for d in with_mobiles), due_today=0, plans=(),
                         sections=(), sender=post.sender, coordinator=post.coordinator)
        text = render_template(env, "wecom/mention.txt.j2", {"digest": called, "today": today}).strip()
        messages.append(Message(subject=subject, text=text, to=robot, part=total, parts=total,
                                mobiles=unique([m for ms in mobiles for m in ms])))
    return messages
