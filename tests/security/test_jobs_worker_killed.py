"""Issue 13, point 8: a real Celery worker process killed with SIGKILL in the middle of a job
leaves a state from which the job's re-delivery gives exactly the result of one clean run.

Each test starts `celery worker` subprocesses on the broker (CELERY_BROKER_URL) against this
test's PostgreSQL database, which they see because the test commits (transaction=True). The
first worker is tests/security/slow_worker.py, whose jobs pause so that the kill lands mid-job;
the clean run to compare with is the same job run in this process, on a twin subtree."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from checklists import services as checklists
from checklists.models import Checklist, ChecklistItem, Frequency, IssueRun, IssueStatus, Occurrence
from config.celery_app import app as celery_app
from organizations.models import Organization, OrganizationKind, PartyType, Role
from spreadsheets import services as spreadsheets
from spreadsheets.models import ImportJob
from tests.organizations.factories import OrganizationFactory, RoleAssignmentFactory, UserFactory
from tests.spreadsheets.workbooks import organizations, workbook_bytes

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 2  # seconds: the broker delivers an unacknowledged message again after this
VILLAGES = 10
YEAR = timezone.localdate().year - 1


class Worker:
    """A `celery worker` process of its own (session leader, so that its pool dies with it)."""

    def __init__(self, module, mark=None):
        db = connection.settings_dict
        login = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{login}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "SLOW_WORKER_MARK": str(mark or ""),
        }
        self.log = tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log", delete=False)  # noqa: SIM115
        command = [sys.executable, "-m", *module, "worker", "--loglevel", "warning", "--concurrency", "1"]
        command += ["--pool", "prefork", "--without-mingle", "--without-gossip", "-n", f"w{uuid.uuid4().hex[:8]}@%h"]
        self.process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self):
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def pool_processes(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def kill(self):
        """SIGKILL to the worker and its pool: nothing is acknowledged or given back."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        Path(self.log.name).unlink(missing_ok=True)


@pytest.fixture
def workers():
    started = []
    celery_app.control.purge()  # a message left by another run would be eaten here

    def start(module=("tests.security.slow_worker",), mark=None):
        started.append(Worker(module, mark))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


PLAIN = ("celery", "-A", "config")


def wait_for(condition, worker, what, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {seconds} s; worker said:\n{worker.output()}")


@pytest.fixture
def twins():
    """City C with counties X (the clean run) and W (the killed one), each with 10 villages."""
    city = OrganizationFactory(code="C", kind=OrganizationKind.CITY, party_type=PartyType.COMMITTEE)
    for letter in "XW":
        county = OrganizationFactory(
            code=letter, kind=OrganizationKind.COUNTY, party_type=PartyType.COMMITTEE, parent=city
        )
        for n in range(VILLAGES):
            OrganizationFactory(code=f"{letter}{n:02d}", kind=OrganizationKind.VILLAGE, parent=county)
    staff = UserFactory(full_name="市委组织部")
    RoleAssignmentFactory(user=staff, organization=city, role=Role.STAFF)
    return city, staff


def eagerly(action):
    """Run the job in this process (the clean run to compare with)."""
    celery_app.conf.task_always_eager = True
    try:
        return action()
    finally:
        celery_app.conf.task_always_eager = False


# --- issuing checklists to many organizations -----------------------------------------------


def _template(city, staff):
    template = checklists.template_create(
        actor=staff, owner=city, year=YEAR, name="村党组织清单", target_types=[PartyType.BRANCH]
    )
    for position, (code, frequency) in enumerate([("Z01", Frequency.MONTHLY), ("Z02", Frequency.QUARTERLY)], 1):
        checklists.template_item_create(
            actor=staff,
            template=template,
            code=code,
            category="组织生活",
            title=f"事项{code}",
            requirement="按要求开展",
            evidence="会议记录",
            frequency=frequency,
            deadline=None,
            score=Decimal(10),
            position=position,
        )
    return template


def _issue(template, staff, county):
    return checklists.issue_start(
        actor=staff,
        template=template,
        root=Organization.objects.get(code=county),
        claim_deadline=timezone.localdate() + timedelta(days=30),
        effective_from=None,
    )


def issued(county):
    """Per village of the county: checklists, items, occurrences and their history records."""
    rows = []
    for village in Organization.objects.filter(code__startswith=county, kind=OrganizationKind.VILLAGE):
        rows.append(
            (
                village.code[1:],
                Checklist.objects.filter(organization=village).count(),
                ChecklistItem.objects.filter(checklist__organization=village).count(),
                Occurrence.objects.filter(item__checklist__organization=village).count(),
                Checklist.history.filter(organization=village).count(),
                ChecklistItem.history.filter(checklist__organization=village).count(),
            )
        )
    return sorted(rows)


@pytest.mark.parametrize("killed", ["the whole worker", "its pool process"])
def test_issuing_killed_mid_run_is_delivered_again_and_gives_one_clean_run(killed, twins, workers):
    city, staff = twins
    template = _template(city, staff)
    # given the clean run: the checklists issued to county X
    eagerly(lambda: _issue(template, staff, "X"))
    clean = issued("X")
    assert clean == [(f"{n:02d}", 1, 2, 12 + 4, 1, 2) for n in range(VILLAGES)]

    # when the run for county W is killed after its first batches, in the middle of one
    worker = workers()
    run = _issue(template, staff, "W")
    wait_for(lambda: IssueRun.objects.get(pk=run.pk).progress >= 20, worker, "the first batches")
    if killed == "the whole worker":
        worker.kill()
        run.refresh_from_db()
        assert run.status == IssueStatus.RUNNING
        assert 0 < Checklist.objects.filter(organization__code__startswith="W").count() < VILLAGES
        time.sleep(VISIBILITY_TIMEOUT + 1)  # the message is left unacknowledged, not lost
        worker = workers(PLAIN)
    else:
        (pool_process,) = worker.pool_processes()
        os.kill(pool_process, signal.SIGKILL)  # the worker gives the message back at once

    # then the run is delivered again and completed: W holds what X holds, no more
    wait_for(lambda: IssueRun.objects.get(pk=run.pk).status != IssueStatus.RUNNING, worker, "the rerun")
    run.refresh_from_db()
    assert run.status == IssueStatus.DONE, run.error
    assert issued("W") == clean


# --- an import killed before its transaction commits ----------------------------------------


def _upload(county):
    rows = [[f"{county}N{n:02d}", f"新村{n}", "村", "党支部", f"{county}{n % VILLAGES:02d}"] for n in range(40)]
    return SimpleUploadedFile("组织.xlsx", workbook_bytes(organizations(*rows)).read())


def imported(county):
    """The organizations the workbook brought in, with their parents and history records."""
    rows = Organization.objects.filter(code__startswith=f"{county}N")
    return sorted(
        (org.code[1:], org.name, org.kind, org.party_type, org.parent.code[1:], org.history.count())
        for org in rows.select_related("parent")
    )


def _checked(staff, county):
    job = eagerly(lambda: spreadsheets.import_job_create(actor=staff, upload=_upload(county)))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALID, job.message or job.errors
    return job


def test_an_import_killed_before_its_commit_is_delivered_again_and_imports_once(twins, workers, tmp_path):
    _city, staff = twins
    # given the clean run: the workbook for county X imported
    job_x = _checked(staff, "X")
    eagerly(lambda: spreadsheets.import_job_confirm(actor=staff, job=job_x))
    clean = imported("X")
    assert len(clean) == 40
    assert {row[-1] for row in clean} == {1}

    # when the import for county W is killed with its rows written but not committed
    mark = tmp_path / "rows-written"
    worker = workers(mark=mark)
    job = _checked(staff, "W")
    assert spreadsheets.import_job_confirm(actor=staff, job=job)
    wait_for(mark.exists, worker, "the import's writes")
    worker.kill()
    assert imported("W") == []
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.APPLYING
    time.sleep(VISIBILITY_TIMEOUT + 1)  # the message is left unacknowledged, not lost
    worker = workers(PLAIN)

    # then the import is delivered again and imports once: W holds what X holds
    wait_for(lambda: ImportJob.objects.get(pk=job.pk).status != ImportJob.Status.APPLYING, worker, "the rerun")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED, job.message or job.errors
    assert imported("W") == clean
