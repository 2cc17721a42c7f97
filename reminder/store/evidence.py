"""佐证材料 metadata: which file (by SHA-256) a unit attached to which task. The bytes live
on disk under the state directory (answerback/evidence.py); the table never holds a path."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from reminder.store.base import StoreBase
from reminder.store.schema import Base, UTCDateTime


class EvidenceRow(Base):
    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_task", "plan_id", "task_id"),
                      Index("ix_evidence_sha256", "sha256"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(200))
    due: Mapped[date | None] = mapped_column(Date)
    unit: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)  # for display only, cleaned
    kind: Mapped[str] = mapped_column(String(10))  # png jpeg gif webp pdf docx … zip
    size: Mapped[int] = mapped_column(Integer)
    feedback_id: Mapped[int | None] = mapped_column(Integer)  # the report it came with
    link_id: Mapped[str | None] = mapped_column(String(20))
    report: Mapped[str | None] = mapped_column(String(10))  # progress | blocked | done
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EvidenceMixin(StoreBase):
    def add_evidence(self, plan: str, task: str, *, unit: str, sha256: str, name: str,
                     kind: str, size: int, now: datetime, due: date | None = None,
                     feedback: int | None = None, link: str | None = None,
                     report: str | None = None) -> int:
        with self.transaction() as session:
            row = EvidenceRow(plan_id=plan, task_id=task, due=due, unit=unit, sha256=sha256,
                              name=name, kind=kind, size=size, feedback_id=feedback,
                              link_id=link, report=report, created_at=now)
            session.add(row)
            session.flush()
            return row.id

    def evidence(self, plan: str, task: str | None = None) -> list[EvidenceRow]:
        """The files still attached, oldest first."""
        return self._rows(EvidenceRow, EvidenceRow.removed_at.is_(None), plan_id=plan, task_id=task)

    def evidence_count(self, plan: str, task: str) -> int:
        with self.transaction() as session:
            return session.scalar(select(func.count()).select_from(EvidenceRow).where(
                EvidenceRow.plan_id == plan, EvidenceRow.task_id == task,
                EvidenceRow.removed_at.is_(None))) or 0

    def remove_evidence(self, ident: int, *, now: datetime) -> bool:
        with self.transaction() as session:
            result = session.execute(update(EvidenceRow).where(
                EvidenceRow.id == ident, EvidenceRow.removed_at.is_(None)).values(removed_at=now))
            return bool(result.rowcount)

    def referenced_hashes(self) -> set[str]:
        """Every hash an attached file still points at: retention keeps these."""
        with self.transaction() as session:
            return set(session.scalars(select(EvidenceRow.sha256).where(
                EvidenceRow.removed_at.is_(None)).distinct()))

    def evidence_known(self, plan: str, hashes: Iterable[str]) -> set[str]:
        """Which of ``hashes`` are attached to a task of ``plan``: a signed link names a
        plan and a hash, and serves the file only when both match a row."""
        with self.transaction() as session:
            return set(session.scalars(select(EvidenceRow.sha256).where(
                EvidenceRow.plan_id == plan, EvidenceRow.sha256.in_(list(hashes)),
                EvidenceRow.removed_at.is_(None))))
