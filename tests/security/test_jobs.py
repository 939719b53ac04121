"""Issue 13, point 8: background jobs. A task is enqueued only once its transaction has
committed, never after a rollback; Celery is configured so that a job survives the loss of its
worker; the spreadsheet jobs give one result however often they are delivered. The SIGKILL tests
with real worker processes are in test_jobs_worker_killed.py."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from config.celery_app import app as celery_app
from organizations.models import HistoricalOrganization, Organization, PartyType, Role
from spreadsheets import services as spreadsheets
from spreadsheets.models import ExportJob, ImportJob
from tests.spreadsheets.workbooks import organizations, workbook_bytes

YEAR = timezone.localdate().year - 1


class Rollback(Exception):
    pass


@pytest.fixture
def staff(world, user_with_role):
    return user_with_role(Role.STAFF, world.county_a, full_name="县组织部")


def _upload(*rows):
    return SimpleUploadedFile("组织.xlsx", workbook_bytes(organizations(*rows)).read())


def _checked_import(staff, *rows):
    """An import job checked (eagerly) and ready to be confirmed."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = spreadsheets.import_job_create(actor=staff, upload=_upload(*rows))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALID, job.message or job.errors
    return job


# --- every place that enqueues a task, as (task, action) ------------------------------------


def _issue(world, staff):
    from checklists import services
    from checklists.models import Frequency
    from checklists.tasks import issue

    template = services.template_create(
        actor=staff, owner=world.county_a, year=YEAR, name="村党组织清单", target_types=[PartyType.BRANCH]
    )
    services.template_item_create(
        actor=staff,
        template=template,
        code="Z01",
        category="组织生活",
        title="支委会",
        requirement="每月召开",
        evidence="会议记录",
        frequency=Frequency.MONTHLY,
        deadline=None,
        score=Decimal(10),
        position=1,
    )
    return issue, lambda: services.issue_start(
        actor=staff, template=template, root=world.county_a, claim_deadline=timezone.localdate() + timedelta(days=30)
    )


def _aggregation(world, staff):
    from scoring import services
    from scoring.models import Scheme, SchemeState
    from scoring.tasks import aggregate

    scheme = services.scheme_create(
        actor=staff,
        owner=world.county_a,
        year=YEAR,
        name="乡镇党委书记抓党建考核",
        weight_checklist=Decimal(0),
        weight_panel=Decimal(100),
        weight_mass=Decimal(0),
        weight_ordinary=Decimal(0),
        scoring_date=date(YEAR, 12, 31),
    )
    Scheme.objects.filter(pk=scheme.pk).update(state=SchemeState.SCORING)
    return aggregate, lambda: services.aggregation_start(actor=staff, scheme=scheme)


def _review_session(world, staff, state):
    from reviews import services
    from reviews.models import GradeSet, Level, ReviewSession

    today = timezone.localdate()
    session = services.session_create(
        actor=staff,
        organizer=world.county_a,
        year=today.year,
        title="村党组织书记述职评议",
        level=Level.VILLAGE_SECRETARIES,
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=5),
        grade_set=GradeSet.CADRE,
    )
    ReviewSession.objects.filter(pk=session.pk).update(state=state)
    session.refresh_from_db()
    return session


def _review_closing(world, staff):
    from reviews import services
    from reviews.models import State
    from reviews.tasks import results_compute

    session = _review_session(world, staff, State.OPEN)
    return results_compute, lambda: services.session_advance(actor=staff, session=session, to=State.CLOSED)


def _review_recompute(world, staff):
    from reviews import services
    from reviews.models import State
    from reviews.tasks import results_compute

    session = _review_session(world, staff, State.CLOSED)
    return results_compute, lambda: services.results_recompute(actor=staff, session=session)


def _import_upload(world, staff):
    from spreadsheets.tasks import import_check

    return import_check, lambda: spreadsheets.import_job_create(
        actor=staff, upload=_upload(["A9", "新村", "村", "党支部", "A"])
    )


def _import_confirm(world, staff):
    from spreadsheets.tasks import import_apply

    job = _checked_import(staff, ["A9", "新村", "村", "党支部", "A"])
    return import_apply, lambda: spreadsheets.import_job_confirm(actor=staff, job=job)


def _import_retry(world, staff):
    from spreadsheets.tasks import import_check

    job = _checked_import(staff, ["A9", "新村", "村", "党支部", "A"])
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED)
    return import_check, lambda: spreadsheets.import_job_retry(actor=staff, job=job)


def _export(world, staff):
    from spreadsheets.tasks import export_run

    return export_run, lambda: spreadsheets.export_job_create(actor=staff, kind="organizations", params={"org": "A"})


ENQUEUEING = {
    "checklist issuing": _issue,
    "year-end aggregation": _aggregation,
    "closing a review": _review_closing,
    "recomputing review results": _review_recompute,
    "checking an upload": _import_upload,
    "confirming an import": _import_confirm,
    "retrying an import": _import_retry,
    "an export": _export,
}


class Sent(list):
    """The messages that would go to the broker, by task name (nothing runs)."""

    def __init__(self, monkeypatch):
        super().__init__()
        self.monkeypatch = monkeypatch

    def watch(self, task):
        self.monkeypatch.setattr(task, "apply_async", lambda args=(), kwargs=None, **options: self.append(task.name))


@pytest.fixture
def sent(monkeypatch):
    return Sent(monkeypatch)


@pytest.mark.parametrize("site", ENQUEUEING)
def test_a_task_is_enqueued_once_after_commit_and_not_before(
    site, world, staff, sent, django_capture_on_commit_callbacks
):
    task, action = ENQUEUEING[site](world, staff)
    sent.watch(task)

    with django_capture_on_commit_callbacks(execute=True):
        action()
        assert sent == [], "enqueued before the transaction committed"

    assert sent == [task.name]


@pytest.mark.parametrize("site", ENQUEUEING)
def test_a_task_is_never_enqueued_after_a_rollback(site, world, staff, sent, django_capture_on_commit_callbacks):
    task, action = ENQUEUEING[site](world, staff)
    sent.watch(task)

    def work_then_fail():
        with transaction.atomic():
            action()
            raise Rollback

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Rollback):
        work_then_fail()

    assert sent == []


def test_every_enqueue_in_the_code_waits_for_the_commit():
    """The list above covers every place that enqueues: a new `.delay(` or `.apply_async(` (which
    would send at once, inside the transaction) or a new delay_on_commit fails this test."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    at_once, on_commit = [], 0
    for app in ["checklists", "reviews", "scoring", "spreadsheets", "organizations", "supervision", "notifications"]:
        for path in (root / app).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            at_once += [f"{path.relative_to(root)}: {m}" for m in re.findall(r".*\.(?:delay|apply_async)\(.*", text)]
            on_commit += len(re.findall(r"\.delay_on_commit\(", text))
    assert at_once == []
    assert on_commit == len(ENQUEUEING) == 8


# --- Celery settings ------------------------------------------------------------------------


def _project_tasks():
    prefixes = ("checklists.", "reviews.", "scoring.", "spreadsheets.", "organizations.", "supervision.")
    return {name: task for name, task in celery_app.tasks.items() if name.startswith(prefixes)}


def test_a_message_is_acknowledged_only_after_its_task_and_given_back_when_the_worker_is_lost():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    for name, task in _project_tasks().items():
        assert task.acks_late in (None, True), name  # None: the setting above
        assert task.reject_on_worker_lost in (None, True), name


def test_every_task_has_a_soft_and_a_hard_time_limit_and_redis_waits_longer_than_the_longest():
    conf = celery_app.conf
    tasks = _project_tasks()
    assert len(tasks) >= 10
    hard_limits = []
    for name, task in tasks.items():
        soft = task.soft_time_limit or conf.task_soft_time_limit
        hard = task.time_limit or conf.task_time_limit
        assert soft, name
        assert hard, name
        assert soft < hard, name
        hard_limits.append(hard)
    # the checks, imports and exports have their own, shorter limits
    for name in ["import_check", "import_apply", "export_run"]:
        assert tasks[f"spreadsheets.tasks.{name}"].time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > max(hard_limits)


# --- the spreadsheet jobs are idempotent ----------------------------------------------------


def test_an_export_run_twice_writes_one_file(world, staff, settings, tmp_path):
    # given an export requested (its run is not sent: the test runs it itself)
    settings.MEDIA_ROOT = tmp_path
    with _no_enqueue("spreadsheets.tasks.export_run"):
        job = spreadsheets.export_job_create(actor=staff, kind="organizations", params={"org": "A"})

    # when the job is delivered twice, the second time as a re-delivery after the first finished
    spreadsheets.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    first = (job.status, job.file.name, job.finished_at)
    spreadsheets.export_job_run(job_id=job.pk)
    spreadsheets.export_job_run(job_id=job.pk, redelivered=True)

    # then one file, written once
    job.refresh_from_db()
    assert first[0] == ExportJob.Status.DONE
    assert (job.status, job.file.name, job.finished_at) == first
    assert [p.name for p in tmp_path.rglob("*.xlsx")] == [job.file.name.rsplit("/", 1)[-1]]


def test_an_export_whose_worker_died_is_taken_over_by_its_redelivery(world, staff, settings, tmp_path):
    # given an export whose worker died while writing (the job says exporting, no file)
    settings.MEDIA_ROOT = tmp_path
    with _no_enqueue("spreadsheets.tasks.export_run"):
        job = spreadsheets.export_job_create(actor=staff, kind="organizations", params={"org": "A"})
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, started_at=timezone.now(), progress=3)

    # when a plain second delivery comes, it leaves the job alone; the broker's re-delivery runs it
    spreadsheets.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING
    spreadsheets.export_job_run(job_id=job.pk, redelivered=True)

    # then the export is done, with every row, in one file
    job.refresh_from_db()
    expected = Organization.objects.subtree(world.county_a).count()
    assert (job.status, job.progress, job.total) == (ExportJob.Status.DONE, expected, expected)
    assert len(list(tmp_path.rglob("*.xlsx"))) == 1


def _imported_rows():
    rows = Organization.objects.filter(code__startswith="A9")
    return sorted(rows.values_list("code", "name", "parent__code", "path"))


def test_an_import_applied_twice_imports_once(world, staff):
    # given a checked upload of three new villages, confirmed
    rows = [[f"A9{n}", f"新村{n}", "村", "党支部", "A1"] for n in range(3)]
    job = _checked_import(staff, *rows)
    with _no_enqueue("spreadsheets.tasks.import_apply"):
        assert spreadsheets.import_job_confirm(actor=staff, job=job)

    # when the import job is delivered twice
    spreadsheets.import_job_apply(job_id=job.pk)
    once = _imported_rows()
    spreadsheets.import_job_apply(job_id=job.pk)

    # then one set of rows, each with one history record (its creation)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED
    assert [code for code, *_ in once] == ["A90", "A91", "A92"]
    assert _imported_rows() == once
    history = HistoricalOrganization.objects.filter(code__startswith="A9")
    assert sorted(history.values_list("code", "history_type")) == [("A90", "+"), ("A91", "+"), ("A92", "+")]


def test_a_check_delivered_again_after_its_worker_died_fails_and_can_be_retried(world, staff):
    # given a check whose worker died while checking (the file may be what killed it)
    with _no_enqueue("spreadsheets.tasks.import_check"):
        job = spreadsheets.import_job_create(actor=staff, upload=_upload(["A90", "新村", "村", "党支部", "A1"]))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CHECKING, started_at=timezone.now())

    # when the broker delivers it again, it is not run a second time: the job is failed
    spreadsheets.import_job_check(job_id=job.pk, redelivered=True)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.message

    # then the requester retries it, and the check gives its preview once
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert spreadsheets.import_job_retry(actor=staff, job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALID
    assert job.plans[0]["created"] == 1
    spreadsheets.import_job_check(job_id=job.pk)  # a late duplicate changes nothing
    job.refresh_from_db()
    assert (job.status, job.plans[0]["created"]) == (ImportJob.Status.VALID, 1)


class _no_enqueue:
    """Within: the named task is not sent (the test runs the job itself)."""

    def __init__(self, name):
        self.task = celery_app.tasks[name]

    def __enter__(self):
        self.task.apply_async = lambda *args, **kwargs: None

    def __exit__(self, *exc):
        del self.task.apply_async
