"""The short form of a digest, for a text message or a card: how many tasks, the nearest
deadline, and the link. An SMS is read on a phone's lock screen; a list of tasks does not
belong there, the link does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reminder.delivery.render.digest import Digest

SMS_MAX_CHARS = 300  # a long SMS is sent in 67-character segments: keep it to a few


@dataclass(frozen=True, kw_only=True)
class Brief:
    sender: str
    recipient: str
    count: int
    overdue: int
    nearest_due: date | None
    nearest_text: str  # 12月10日（还有3个工作日） / 12月1日（已逾期2天）
    link: str  # the reader's page, "" without [web]
    title: str  # 【局办公室提醒】法规科：3项任务
    body: str  # the lines under the title (a textcard's description)

    @property
    def text(self) -> str:
        """Title and body in one paragraph: the SMS."""
        return f"{self.title}，{self.body}"


def brief(digest: Digest) -> Brief:
    rows = [row for section in digest.sections for row in section.tasks]
    nearest = min(rows, key=lambda r: (r.due, r.no), default=None)
    nearest_text = f"{nearest.due_text}（{nearest.days_text}）" if nearest else ""
    link = digest.links[0].url if digest.links else ""
    label = "督办" if digest.role == "leader" else "提醒"
    title = f"【{digest.sender}{label}】{digest.recipient}：{digest.total}项任务"
    parts = []
    if digest.overdue:
        parts.append(f"其中{digest.overdue}项已逾期")
    if nearest is not None:
        parts.append(f"最近截止{nearest_text}")
    parts.append(f"详情及反馈：{link}" if link else
                 f"如已完成请告知{digest.coordinator}登记办结")
    return Brief(sender=digest.sender, recipient=digest.recipient, count=digest.total,
                 overdue=digest.overdue, nearest_due=nearest.due if nearest else None,
                 nearest_text=nearest_text, link=link, title=title, body="，".join(parts))
