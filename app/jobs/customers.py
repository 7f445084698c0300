"""Known customers' background work: the retention sweep (an import runs as a file job: app.jobs.files)."""
from __future__ import annotations

from app.jobs import BULK, job_context, runs_on
from app.services.customers import privacy


@runs_on(BULK)
def sweep_customer_retention() -> int:
    """Erase customers inactive past LOOPDESK_CUSTOMER_RETENTION_DAYS (off by default; the cron: hourly)."""
    with job_context():
        return privacy.erase_inactive()
