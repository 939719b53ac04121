import io
import re
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from organizations.models import Role, RoleAssignment
from spreadsheets.models import ExportJob
from spreadsheets.registry import ExportColumn
from spreadsheets.services import export_files_clean, workbook_import
from spreadsheets.writing import write_workbook
from tests.organizations.factories import PersonFactory, PostFactory, UserFactory


def test_formula_like_text_is_written_as_text_with_its_value_unchanged():
    buffer = io.BytesIO()
    risky = ["=1+1", "+86 139", "-3", "@SUM(A1)", "\tTAB", "普通文字"]
    write_workbook(
        buffer, [("表", [ExportColumn("值")], [(value,) for value in risky] + [(42,), (date(2021, 3, 10),)])]
    )
    buffer.seek(0)
    sheet = load_workbook(buffer)["表"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [(cell.value, cell.data_type) for cell in cells[:6]] == [(value, "s") for value in risky]
    assert (cells[6].value, cells[6].data_type) == (42, "n")
    assert cells[7].value == datetime(2021, 3, 10)
    assert cells[7].is_date
    assert sheet.freeze_panes == "A2"
    # Excel shows width 14 for the 14.71 stored (the cell padding added, as xlsxwriter does).
    assert 14 <= sheet.column_dimensions["A"].width < 15


def test_text_starting_with_a_carriage_return_is_text():
    # A CR is stored as the OOXML escape _x000D_, which Excel reads back as CR (openpyxl leaves
    # the escape as it is); what matters is that it is text with its value, not a formula.
    buffer = io.BytesIO()
    write_workbook(buffer, [("表", [ExportColumn("值")], [("\r=cmd",)])])
    buffer.seek(0)
    cell = next(load_workbook(buffer)["表"].iter_rows(min_row=2))[0]
    decoded = re.sub(r"_x([0-9A-F]{4})_", lambda match: chr(int(match[1], 16)), cell.value)
    assert (decoded, cell.data_type) == ("\r=cmd", "s")


@pytest.fixture
def export(django_capture_on_commit_callbacks):
    """Start an export as the client's user. Jobs are enqueued when the transaction commits;
    these tests roll back, so the captured callbacks run (eagerly) when the request is done."""

    def start(client, kind, org):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("spreadsheets:export_create"), {"kind": kind, "org": org})

    return start


def _read(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def staff_client(world, user_with_role, client):
    staff = user_with_role(Role.STAFF, world.county_a)
    client.force_login(staff)
    client.user = staff
    return client


def test_export_job_runs_and_the_requester_downloads_it(staff_client, world, export):
    response = export(staff_client, "organizations", "A")
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.status, job.progress, job.total) == ("done", 7, 7)
    listing = staff_client.get(reverse("spreadsheets:exports"))
    assert "组织A · 组织架构" in listing.text
    download = staff_client.get(reverse("spreadsheets:export_download", args=[job.pk]))
    assert download.headers["Content-Disposition"].startswith("attachment")
    sheet = _read(download)["组织机构"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("组织编码", "组织名称", "单位类别", "党组织类别", "上级组织编码")
    assert rows[1] == ("A", "组织A", "县", "党委", "C")
    assert len(rows) == 8


def test_round_trip_export_then_dry_run_reports_no_changes(staff_client, world, export):
    person = PersonFactory(organization=world.village_a1a, phone="13800001234", name="=危险名")
    PostFactory(person=person, organization=world.village_a1a, start_date=date(2021, 10, 15))
    PersonFactory(organization=world.town_a1, phone=None, name="无职务")
    export(staff_client, "organizations", "A")
    export(staff_client, "people", "A")
    plans, errors = [], []
    for job in ExportJob.objects.order_by("pk"):
        download = staff_client.get(reverse("spreadsheets:export_download", args=[job.pk]))
        sheet_plans, sheet_errors = workbook_import(
            io.BytesIO(b"".join(download.streaming_content)), user=staff_client.user, dry_run=True
        )
        plans += sheet_plans
        errors += sheet_errors

    assert errors == []
    assert [(plan["created"], plan["updated"], plan["changes"]) for plan in plans] == [(0, 0, []), (0, 0, [])]
    assert [plan["unchanged"] for plan in plans] == [7, 2]


def test_people_export_shows_full_phones_only_to_authorized_staff(world, user_with_role, client, export):
    PostFactory(person=PersonFactory(organization=world.village_a1a, phone="13800001234"))
    secretary = user_with_role(Role.SECRETARY, world.town_a1)
    client.force_login(secretary)
    assert export(client, "people", "A1").status_code == 403
    assert not ExportJob.objects.exists()
    # the organization tree, which has no personal data, is open to any role that sees it
    assert export(client, "organizations", "A1").status_code == 302


def test_export_outside_the_users_area_is_refused(staff_client, world, export):
    assert export(staff_client, "organizations", "B").status_code == 403
    assert export(staff_client, "nonsense", "A").status_code == 404


def test_downloads_are_permission_checked(staff_client, world, export):
    export(staff_client, "people", "A")
    job = ExportJob.objects.get()
    url = reverse("spreadsheets:export_download", args=[job.pk])
    other = UserFactory()
    RoleAssignment.objects.create(user=other, organization=world.county_a, role=Role.STAFF)
    client = Client()
    client.force_login(other)
    assert client.get(url).status_code == 404  # someone else's export
    # the requester loses the role: the file is no longer theirs to take
    RoleAssignment.objects.filter(user=staff_client.user).delete()
    assert staff_client.get(url).status_code == 403


def test_old_export_files_are_cleaned(staff_client, world, export):
    export(staff_client, "organizations", "A")
    job = ExportJob.objects.get()
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name)
    assert export_files_clean(now=timezone.now() + timedelta(days=3)) == 0
    assert export_files_clean(now=timezone.now() + timedelta(days=8)) == 1
    job.refresh_from_db()
    assert job.status == "expired"
    assert not storage.exists(name)


def test_a_failing_export_is_marked_failed(staff_client, world, monkeypatch, export):
    from organizations.exports import OrganizationTreeExport

    def broken(self, params):
        raise RuntimeError("disk full")

    monkeypatch.setattr(OrganizationTreeExport, "rows", broken)
    export(staff_client, "organizations", "A")
    job = ExportJob.objects.get()
    assert (job.status, job.error) == ("failed", "disk full")


def test_export_command_writes_the_same_workbook(world, tmp_path):
    out = tmp_path / "tree.xlsx"
    call_command("export_workbook", "organizations", "--org", "A1", "--out", str(out))
    rows = list(load_workbook(out)["组织机构"].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["A1", "A1a", "A1b"]
