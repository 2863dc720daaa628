"""The database schema: pseudonymous subjects and their analysed sessions (SQLAlchemy 2 ORM).

The schema is created and changed only by the Alembic migrations in
``history/migrations/versions`` (run by :func:`history.db.open_database`); a change
here needs a new migration there.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints: the same names on SQLite and PostgreSQL, so migrations can alter them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class Side(enum.StrEnum):
    """The affected side of a subject (stored as text)."""

    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"
    NONE = "none"


class SessionKind(enum.StrEnum):
    """What a session was (stored as text)."""

    MONITORING = "monitoring"
    TEST = "test"
    EXERCISE = "exercise"


class Subject(Base):
    """A person, known only by a pseudonymous id (no names are stored)."""

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    height_m: Mapped[float | None] = mapped_column(Float)
    leg_length_m: Mapped[float | None] = mapped_column(Float)
    affected_side: Mapped[str | None] = mapped_column(String(8))
    notes: Mapped[str | None] = mapped_column(Text)
    created_utc: Mapped[dt.datetime] = mapped_column(DateTime)

    sessions: Mapped[list[Session]] = relationship(
        back_populates="subject", cascade="all, delete-orphan", passive_deletes=True
    )


class Session(Base):
    """One analysed recording of a subject and its key results.

    ``content_sha256`` identifies the recording (unique: importing it again adds
    nothing, also when two imports run at once); ``path``, ``size_bytes`` and
    ``mtime_ns`` tell where it was and let a moved or changed file be noticed cheaply.
    The result columns are derived from the analysis document by
    :func:`history.metrics.key_results` (None where the session does not give one).
    """

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("kind IN ('monitoring', 'test', 'exercise')", name="kind"),
        Index("ix_sessions_subject_recorded", "subject_id", "recorded_utc"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    content_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    #: "ok", or "changed" once the file at ``path`` was seen with other content.
    file_status: Mapped[str] = mapped_column(String(16), default="ok")
    recorded_utc: Mapped[dt.datetime] = mapped_column(DateTime)
    #: "recording" (its start time) or "file" (the file's modification time: a CSV).
    recorded_from: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    analysis_version: Mapped[str] = mapped_column(String(32))
    analysed_utc: Mapped[dt.datetime] = mapped_column(DateTime)
    duration_s: Mapped[float] = mapped_column(Float)

    standing_s: Mapped[float | None] = mapped_column(Float)
    sitting_s: Mapped[float | None] = mapped_column(Float)
    walking_s: Mapped[float | None] = mapped_column(Float)
    hike_left_standing_pct: Mapped[float | None] = mapped_column(Float)
    hike_right_standing_pct: Mapped[float | None] = mapped_column(Float)
    hike_left_sitting_pct: Mapped[float | None] = mapped_column(Float)
    hike_right_sitting_pct: Mapped[float | None] = mapped_column(Float)
    hike_left_walking_pct: Mapped[float | None] = mapped_column(Float)
    hike_right_walking_pct: Mapped[float | None] = mapped_column(Float)
    standing_obliquity_deg: Mapped[float | None] = mapped_column(Float)
    standing_tilt_deg: Mapped[float | None] = mapped_column(Float)
    sitting_obliquity_deg: Mapped[float | None] = mapped_column(Float)
    cadence_spm: Mapped[float | None] = mapped_column(Float)
    steps: Mapped[int | None] = mapped_column(Integer)
    step_asymmetry_pct: Mapped[float | None] = mapped_column(Float)
    gait_speed_mps: Mapped[float | None] = mapped_column(Float)
    obliquity_rom_deg: Mapped[float | None] = mapped_column(Float)
    hike_episodes_per_h: Mapped[float | None] = mapped_column(Float)
    drop_episodes_per_h: Mapped[float | None] = mapped_column(Float)

    subject: Mapped[Subject] = relationship(back_populates="sessions")


__all__ = ["Base", "Session", "SessionKind", "Side", "Subject"]
