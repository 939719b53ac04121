"""Issue 13.1: a few hundred KB of workbook must not stop the site. Shared strings, styles
and text are capped while streaming, every check has a time limit, and a check whose worker
died is seen as failed and can be retried."""

import io
import json
import subprocess
import sys
import textwrap
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from organizations.models import Role
from spreadsheets.models import ImportJob
from spreadsheets.reading import Limits, WorkbookRefused, open_workbook
from spreadsheets.services import import_jobs_fail_stalled

from .workbooks import organizations, workbook_bytes

ROOT = Path(__file__).resolve().parents[2]


CONTENT_TYPES = {
    "xl/sharedStrings.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
    "xl/styles.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
}


def with_part(buffer, name, chunks):
    """The workbook in `buffer` with the part `name` replaced by the streamed `chunks` (and
    declared in [Content_Types].xml, where readers look for it)."""
    source = zipfile.ZipFile(buffer)
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "[Content_Types].xml" and f"/{name}".encode() not in data:
                override = f'<Override PartName="/{name}" ContentType="{CONTENT_TYPES[name]}"/>'
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            if item.filename != name:
                archive.writestr(item, data)
        with archive.open(name, "w", force_zip64=True) as part:
            for chunk in chunks:
                part.write(chunk)
    target.seek(0)
    target.name = "bomb.xlsx"
    return target


def shared_strings_bomb(count, *, declare=False):
    """A real workbook whose shared-strings part holds `count` one-letter strings."""
    base = workbook_bytes(organizations(["X1", "村", "村", "党支部", "A1"]))
    counts = f' count="{count}" uniqueCount="{count}"' if declare else ""
    head = f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"{counts}>'.encode()
    block = b"<si><t>x</t></si>" * 100_000

    def chunks():
        yield head
        for _ in range(count // 100_000):
            yield block
        yield b"</sst>"

    return with_part(base, "xl/sharedStrings.xml", chunks())


BOMB_PROBE = textwrap.dedent(
    """
    import json, sys, time
    import django

    def peak_mb():
        # VmHWM: this process's own peak (getrusage would count the forked parent's memory)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024

    django.setup()
    from spreadsheets.reading import WorkbookRefused, open_workbook
    started = time.monotonic()
    outcome = "opened"
    with open(sys.argv[1], "rb") as file:
        try:
            open_workbook(file, name="bomb.xlsx").close()
        except WorkbookRefused as refused:
            outcome = str(refused)
    print(json.dumps({
        "outcome": outcome,
        "seconds": time.monotonic() - started,
        "peak_mb": peak_mb(),
    }))
    """
)


@pytest.mark.parametrize("declare", [False, True], ids=["undeclared", "declared"])
def test_a_shared_strings_bomb_is_refused_in_bounded_time_and_memory(tmp_path, declare):
    # 11 million strings, 187 MB unzipped, a few hundred KB zipped: under every size limit
    bomb = shared_strings_bomb(11_000_000, declare=declare)
    assert len(bomb.getvalue()) < 1024 * 1024
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb.getvalue())
    probe = subprocess.run(
        [sys.executable, "-c", BOMB_PROBE, str(path)],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,  # before the caps, reading it ran past 400 s and 400 MB
        check=True,
    )
    figures = json.loads(probe.stdout.strip().splitlines()[-1])
    print(figures)
    assert "1,000,000" in figures["outcome"]
    assert figures["peak_mb"] < 350


def test_a_workbook_under_the_caps_still_opens():
    book = open_workbook(shared_strings_bomb(100_000), name="ok.xlsx")
    assert book.sheetnames == ["组织机构"]
    book.close()


def test_the_string_cap_and_the_time_limit_are_settings(settings):
    settings.SPREADSHEET_MAX_STRINGS = 50_000
    with pytest.raises(WorkbookRefused, match="50,000"):
        open_workbook(shared_strings_bomb(100_000), name="bomb.xlsx")
    limits = Limits(file_bytes=10**8, rows=10, columns=10, uncompressed_bytes=10**9, seconds=0)
    with pytest.raises(WorkbookRefused, match="超过 0 秒"):
        open_workbook(shared_strings_bomb(100_000), name="slow.xlsx", limits=limits)


def test_too_much_text_is_refused():
    limits = Limits(file_bytes=10**8, rows=10, columns=10, uncompressed_bytes=10**9, string_chars=1000)
    with pytest.raises(WorkbookRefused, match="文字过多"):
        open_workbook(shared_strings_bomb(100_000), name="long.xlsx", limits=limits)


def test_a_styles_bomb_is_refused():
    base = workbook_bytes(organizations(["X1", "村", "村", "党支部", "A1"]))
    head = b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs>'
    bomb = with_part(base, "xl/styles.xml", [head, b'<xf numFmtId="0"/>' * 70_000, b"</cellXfs></styleSheet>"])
    with pytest.raises(WorkbookRefused, match="单元格格式"):
        open_workbook(bomb, name="styles.xlsx")


# --- a job whose worker died --------------------------------------------------------------------


@pytest.fixture
def staff(world, user_with_role, client):
    user = user_with_role(Role.STAFF, world.county_a)
    client.force_login(user)
    return user


def stalled_job(user, *, started_minutes_ago, status=ImportJob.Status.CHECKING):
    job = ImportJob(requester=user, original_name="组织.xlsx", status=status)
    job.file.save(
        "upload.xlsx", ContentFile(workbook_bytes(organizations(["X1", "新村", "村", "党支部", "A1"])).read())
    )
    job.started_at = timezone.now() - timedelta(minutes=started_minutes_ago)
    job.save()
    return job


def test_a_job_whose_worker_died_is_seen_as_failed_and_can_be_retried(
    staff, client, django_capture_on_commit_callbacks
):
    job = stalled_job(staff, started_minutes_ago=120)
    page = client.get(reverse("spreadsheets:import_detail", args=[job.pk])).text
    assert "检查中断" in page
    assert "hx-trigger" not in page  # no longer polled as if in progress
    assert reverse("spreadsheets:import_retry", args=[job.pk]) in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("spreadsheets:import_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALID
    assert job.plans[0]["created"] == 1


def test_the_periodic_task_fails_stalled_jobs_only(staff):
    dead = stalled_job(staff, started_minutes_ago=120, status=ImportJob.Status.APPLYING)
    running = stalled_job(staff, started_minutes_ago=1)
    assert import_jobs_fail_stalled() == 1
    dead.refresh_from_db()
    running.refresh_from_db()
    assert (dead.status, running.status) == (ImportJob.Status.FAILED, ImportJob.Status.CHECKING)
    assert "检查中断" in dead.message


def test_an_export_whose_worker_died_ends_failed(staff):
    from spreadsheets.models import ExportJob

    dead = ExportJob.objects.create(
        kind="organizations", params={"org": "A"}, title="组织", requester=staff, status=ExportJob.Status.RUNNING
    )
    ExportJob.objects.filter(pk=dead.pk).update(started_at=timezone.now() - timedelta(hours=3))
    running = ExportJob.objects.create(
        kind="organizations", params={"org": "A"}, title="组织", requester=staff, status=ExportJob.Status.RUNNING
    )
    ExportJob.objects.filter(pk=running.pk).update(started_at=timezone.now())
    assert import_jobs_fail_stalled() == 1
    dead.refresh_from_db()
    running.refresh_from_db()
    assert (dead.status, running.status) == (ExportJob.Status.FAILED, ExportJob.Status.RUNNING)


def test_a_running_job_cannot_be_retried(staff, client):
    job = stalled_job(staff, started_minutes_ago=1)
    client.post(reverse("spreadsheets:import_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKING


def test_a_job_of_someone_else_cannot_be_retried(staff, client, user_with_role, world):
    other = user_with_role(Role.STAFF, world.county_a)
    job = stalled_job(other, started_minutes_ago=120)
    assert client.post(reverse("spreadsheets:import_retry", args=[job.pk])).status_code == 404
