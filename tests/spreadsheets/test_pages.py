import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from organizations.models import Organization, Role
from spreadsheets.models import ImportJob

from .workbooks import organizations, workbook_bytes


@pytest.fixture
def staff(world, user_with_role, client):
    user = user_with_role(Role.STAFF, world.county_a)
    client.force_login(user)
    return user


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """Upload a workbook; the check job it enqueues on commit runs when the request is done."""

    def send(client, sheets):
        buffer = workbook_bytes(sheets)
        buffer.name = "组织.xlsx"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("spreadsheets:import"), {"file": buffer})

    return send


@pytest.fixture
def confirm(django_capture_on_commit_callbacks):
    def send(client, job):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("spreadsheets:import_confirm", args=[job.pk]))

    return send


def test_upload_preview_confirm_import(staff, client, world, upload, confirm):
    response = upload(client, organizations(["X1", "新村", "村", "党支部", "A1"]))
    job = ImportJob.objects.get()
    assert response.url == reverse("spreadsheets:import_detail", args=[job.pk])
    page = client.get(response.url)
    assert "新建组织 X1 新村" in page.text
    assert "确认导入" in page.text
    assert not Organization.objects.filter(code="X1").exists()

    confirm(client, job)

    job.refresh_from_db()
    assert job.status == "applied"
    assert Organization.objects.get(code="X1").history.get().history_user == staff
    # confirming twice does nothing more
    confirm(client, job)
    assert Organization.objects.filter(code="X1").count() == 1


def test_errors_are_listed_and_nothing_can_be_confirmed(staff, client, world, upload, confirm):
    upload(client, organizations(["X1", "新村", "村庄", "党支部", "A1"]))
    job = ImportJob.objects.get()
    page = client.get(reverse("spreadsheets:import_detail", args=[job.pk]))
    assert "「村庄」不是可选值" in page.text
    assert "确认导入" not in page.text
    confirm(client, job)
    assert not Organization.objects.filter(code="X1").exists()


def test_data_changed_since_the_preview_is_checked_again(staff, client, world, upload, confirm):
    upload(client, organizations(["X1", "新村", "村", "党支部", "A1"]))
    job = ImportJob.objects.get()
    Organization.objects.filter(pk=world.village_a1a.pk).delete()
    Organization.objects.filter(pk=world.village_a1b.pk).delete()
    Organization.objects.filter(pk=world.town_a1.pk).delete()
    confirm(client, job)
    job.refresh_from_db()
    assert job.status == "invalid"
    assert job.errors[0]["column"] == "上级组织编码"
    assert not Organization.objects.filter(code="X1").exists()


def test_a_file_that_is_not_xlsx_is_refused_on_the_form(staff, client):
    upload = io.BytesIO(b"%PDF-1.4")
    upload.name = "list.pdf"
    response = client.post(reverse("spreadsheets:import"), {"file": upload})
    assert response.status_code == 200
    assert "只能导入 Excel 工作簿" in response.text
    assert not ImportJob.objects.exists()


def test_an_oversized_upload_is_refused_before_it_is_read(staff, client, settings):
    settings.SPREADSHEET_MAX_FILE_BYTES = 1024
    upload = io.BytesIO(b"x" * 200_000)
    upload.name = "big.xlsx"
    response = client.post(reverse("spreadsheets:import"), {"file": upload})
    assert "文件超过" in response.text
    assert not ImportJob.objects.exists()


def test_someone_elses_import_is_not_shown(staff, client, world, user_with_role, upload):
    upload(client, organizations(["X1", "新村", "村", "党支部", "A1"]))
    job = ImportJob.objects.get()
    client.force_login(user_with_role(Role.STAFF, world.county_a))
    assert client.get(reverse("spreadsheets:import_detail", args=[job.pk])).status_code == 404
    assert client.post(reverse("spreadsheets:import_confirm", args=[job.pk])).status_code == 404


def test_import_page_needs_a_role_that_may_import(world, user_with_role, client):
    client.force_login(user_with_role(Role.SECRETARY, world.village_a1a))
    assert client.get(reverse("spreadsheets:import")).status_code == 403
    assert client.get(reverse("spreadsheets:template", args=["组织机构"])).status_code == 403


def test_blank_templates_have_the_headers_and_a_guide(staff, client):
    response = client.get(reverse("spreadsheets:template", args=["人员"]))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert next(workbook["人员"].iter_rows(values_only=True)) == (
        "姓名",
        "性别",
        "手机号码",
        "政治面貌",
        "所在组织编码",
        "职务",
        "任职日期",
    )
    guide = {row[0]: row[2] for row in workbook["填写说明"].iter_rows(min_row=2, values_only=True)}
    assert "村(居)委会主任" in guide["职务"]


def test_import_command_reports_errors_and_exits_non_zero(world, tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(workbook_bytes(organizations(["X1", "新村", "村", "党支部", "NOPE"])).getvalue())
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_workbook", str(path), "--dry-run")
    assert exit_info.value.code == 1
    assert "组织机构 第2行 [上级组织编码]" in capsys.readouterr().err


def test_import_command_imports(world, tmp_path, capsys):
    path = tmp_path / "good.xlsx"
    path.write_bytes(workbook_bytes(organizations(["X1", "新村", "村", "党支部", "A1"])).getvalue())
    call_command("import_workbook", str(path), "--dry-run")
    assert not Organization.objects.filter(code="X1").exists()
    call_command("import_workbook", str(path))
    assert "组织机构：新建 1" in capsys.readouterr().out
    assert Organization.objects.filter(code="X1").exists()


def test_the_django_admin_imports_through_the_same_services(world, django_capture_on_commit_callbacks, client):
    from tests.organizations.factories import UserFactory

    superuser = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(superuser)
    buffer = workbook_bytes(organizations(["X1", "新村", "村", "党支部", "A1"]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:spreadsheets_importjob_add"), {"file": buffer})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "valid"
    page = client.get(reverse("admin:spreadsheets_importjob_change", args=[job.pk]))
    assert "新建组织 X1 新村" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:spreadsheets_importjob_changelist"), {"action": "confirm", "_selected_action": [job.pk]}
        )
    assert Organization.objects.get(code="X1").history.get().history_user == superuser
