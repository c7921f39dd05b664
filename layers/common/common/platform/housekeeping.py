"""Scheduled clean-up: expired sessions and tokens, stale throttles, old usage batch markers,
analytics events past their retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from common.core.db import UnitOfWork
from common.core.models import (
    AnalyticsEvent,
    AuthSession,
    JobRun,
    LoginThrottle,
    RefreshToken,
    UsageBatch,
    utcnow,
)
from common.core.settings import get_settings


def run() -> dict[str, Any]:
    """Delete what has expired and record the run; returns the counts."""
    now = utcnow()
    with UnitOfWork() as uow:
        run = JobRun(job="housekeeping", started_at=now)
        s = uow.session
        counts = {
            "refresh_tokens": s.execute(delete(RefreshToken).where(
                RefreshToken.expires_at < now)).rowcount,
            "sessions": s.execute(delete(AuthSession).where(
                AuthSession.expires_at < now - timedelta(days=7))).rowcount,
            "login_throttle": s.execute(delete(LoginThrottle).where(
                LoginThrottle.window_started_at < now - timedelta(days=1))).rowcount,
            # Counted log batches are remembered only as long as a redelivery could come.
            "usage_batches": s.execute(delete(UsageBatch).where(
                UsageBatch.processed_at < now - timedelta(days=2))).rowcount,
            "analytics_events": s.execute(delete(AnalyticsEvent).where(
                AnalyticsEvent.occurred_at < now - timedelta(
                    days=get_settings().analytics_retention_days))).rowcount,
        }
        run.result, run.finished_at = counts, utcnow()
        s.add(run)
        uow.commit()
    return counts
