"""A real Celery worker process whose jobs are slowed so that a test can kill it mid-job
(test_jobs_worker_killed.py). Test-only: production code has no pause in it.

    python -m tests.security.slow_worker worker --concurrency 1 …

- issuing runs in batches of two organizations and pauses inside each batch's transaction;
- an import pauses for good after writing its rows, before its transaction commits, having
  first created the file named by SLOW_WORKER_MARK (so the test knows the rows are written).
"""

import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from checklists import services as checklists  # noqa: E402
from spreadsheets import services as spreadsheets  # noqa: E402

PAUSE = float(os.environ.get("SLOW_WORKER_PAUSE", "0.5"))
MARK = Path(os.environ.get("SLOW_WORKER_MARK", "/nonexistent"))

checklists.ISSUE_BATCH = 2
items_issue = checklists._items_issue
workbook_apply = spreadsheets.workbook_apply


def slow_items_issue(*args, **kwargs):
    added = items_issue(*args, **kwargs)
    time.sleep(PAUSE)
    return added


def stuck_workbook_apply(context, plans):
    workbook_apply(context, plans)
    MARK.touch()
    time.sleep(3600)


checklists._items_issue = slow_items_issue
spreadsheets.workbook_apply = stuck_workbook_apply

if __name__ == "__main__":
    from config.celery_app import app

    app.worker_main(sys.argv[1:])
