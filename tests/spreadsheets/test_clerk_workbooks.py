"""Workbooks as county offices make them (issue 12): title rows, 序号 columns, decorated
headers, dates with dots, styled empty rows, sheets named Sheet1, CSV in GB18030, .xls."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Border, Side

from organizations.models import Organization, Person, Post
from spreadsheets.models import ImportJob
from spreadsheets.reading import CellError, WorkbookRefused, cell_date, cell_phone
from spreadsheets.services import collapse_errors, workbook_import
from supervision.models import Problem

from .workbooks import ORGANIZATION_HEADERS, PEOPLE_HEADERS

PROBLEM_HEADERS = ["组织编码", "责任单位编码", "问题来源", "问题类别", "问题描述", "发现日期", "责任人", "整改时限"]


def save(workbook, name="台账.xlsx"):
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = name
    return buffer


def clerk_sheet(title, headers, rows, *, sheet_name, numbered=True, decorate=(), blank_first=False):
    """A sheet as an office lays it out: a merged title row, a 序号 column, required headers
    marked （必填） or *."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    if blank_first:
        sheet.append([])
    sheet.append([title])
    width = len(headers) + (1 if numbered else 0)
    sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=width)
    marked = [
        f"{header}{decorate[index % len(decorate)]}" if decorate else header for index, header in enumerate(headers)
    ]
    sheet.append((["序号"] if numbered else []) + marked)
    for number, row in enumerate(rows, start=1):
        sheet.append(([number] if numbered else []) + list(row))
    return workbook


def run(buffer, user=None, dry_run=False):
    return workbook_import(buffer, user=user, dry_run=dry_run, name=buffer.name)


# --- 1. the header row --------------------------------------------------------------------


def test_a_title_row_a_numbering_column_and_marked_headers_are_read(world):
    workbook = clerk_sheet(
        "吴川市组织机构信息表",
        ORGANIZATION_HEADERS,
        [["X1", "新村", "村", "党支部", "A1"], ["X2", "二村", "大队", "党支部", "A1"]],
        sheet_name="组织机构",
        decorate=["（必填）", "*", " * ", "(必填)", ""],
        blank_first=True,
    )
    _plans, errors = run(save(workbook))
    # the header is on row 3 (an empty row, then the title): the bad row is row 5 as Excel shows it
    assert [(error["row"], error["column"]) for error in errors] == [(5, "单位类别")]
    workbook["组织机构"]["D5"] = "村"
    plans, errors = run(save(workbook))
    assert errors == []
    assert plans[0]["created"] == 2
    assert Organization.objects.get(code="X2").parent.code == "A1"


def test_columns_in_another_order_and_extra_columns_are_read_by_their_headers(world):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "组织机构"
    sheet.append(["上级组织编码", "备注", "组织名称", "组织编码", "党组织类别", "单位类别"])
    sheet.append(["A1", "新建", "新村", "X1", "党支部", "村"])
    plans, errors = run(save(workbook))
    assert errors == []
    assert any("备注" in note for note in plans[0]["notes"])
    assert Organization.objects.get(code="X1").name == "新村"


def test_without_a_header_row_the_error_says_what_was_found_and_what_is_missing(world):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "组织机构"
    sheet.append(["吴川市组织机构信息表"])
    sheet.append(["编码", "组织名称", "类别", "党组织类别"])
    sheet.append(["X1", "新村", "村", "党支部"])
    _plans, errors = run(save(workbook))
    assert len(errors) == 1
    message = errors[0]["message"]
    assert errors[0]["row"] == 2
    found, missing = message.split("缺少")
    assert "第 2 行的表头为：编码、组织名称、类别、党组织类别" in found
    assert missing == "：组织编码、单位类别、上级组织编码。"


def test_a_header_without_an_optional_column_says_which(world):
    workbook = Workbook()
    workbook.active.title = "组织机构"
    workbook.active.append(ORGANIZATION_HEADERS[:4])
    workbook.active.append(["X1", "新村", "村", "党支部"])
    _plans, errors = run(save(workbook))
    assert len(errors) == 1
    assert "上级组织编码" in errors[0]["message"]
    assert not Organization.objects.filter(code="X1").exists()


# --- 3. dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2016.9.1",
        "2016.09.01",
        "20160901",
        20160901,
        "2016-09-01 00:00:00",
        "2016/9/1 0:00",
        "2016年9月1日",
        "２０１６.９.１",
    ],
)
def test_dates_as_clerks_type_them(value):
    assert cell_date(value) == date(2016, 9, 1)


@pytest.mark.parametrize("value", ["2016-09-01 00:00:01", "2016.13.1", "2016 9 1x", "201691"])
def test_a_bad_date_is_quoted_exactly_as_typed(value):
    with pytest.raises(CellError) as error:
        cell_date(value)
    assert f"「{value}」" in str(error.value)


# --- 4. many rows with the same mistake -----------------------------------------------------


def test_many_rows_with_the_same_mistake_are_one_line_with_ranges(world):
    rows = [["王五", "男", "", "中共党员", "A1a", "书记", f"2016-9-{day}x"] for day in range(1, 29)]
    rows.insert(10, ["王五", "男", "", "党员", "A1a", "", ""])
    workbook = clerk_sheet("人员信息", PEOPLE_HEADERS, rows, sheet_name="人员", numbered=False)
    _plans, errors = run(save(workbook))
    assert len(errors) == 29
    shown = collapse_errors(errors)
    assert [(line["row"], line["column"]) for line in shown] == [("3–12、14–31", "任职日期"), (13, "政治面貌")]
    assert shown[0]["count"] == 28
    assert shown[0]["examples"][0].startswith("第 3 行")
    assert "「2016-9-1x」" in shown[0]["examples"][0]


# --- 5. sheet names ---------------------------------------------------------------------------


def test_sheet_names_are_trimmed(world):
    workbook = clerk_sheet("", ORGANIZATION_HEADERS, [["X1", "新村", "村", "党支部", "A1"]], sheet_name=" 组织机构 ")
    _plans, errors = run(save(workbook))
    assert errors == []
    assert Organization.objects.filter(code="X1").exists()


def test_an_only_sheet_with_another_name_is_read_by_its_header_row_and_the_preview_says_so(world):
    workbook = clerk_sheet("", ORGANIZATION_HEADERS, [["X1", "新村", "村", "党支部", "A1"]], sheet_name="Sheet1")
    plans, errors = run(save(workbook), dry_run=True)
    assert errors == []
    assert plans[0]["sheet"] == "组织机构"
    assert "Sheet1" in plans[0]["notes"][0]
    assert "组织机构" in plans[0]["notes"][0]


def test_two_unknown_sheets_are_still_refused(world):
    workbook = clerk_sheet("", ORGANIZATION_HEADERS, [["X1", "新村", "村", "党支部", "A1"]], sheet_name="Sheet1")
    workbook.create_sheet("Sheet2")
    with pytest.raises(WorkbookRefused, match="组织机构"):
        run(save(workbook))


# --- 6. styled empty rows ---------------------------------------------------------------------


def test_styled_empty_rows_do_not_count_toward_the_row_limit(world, settings):
    settings.SPREADSHEET_MAX_ROWS = 5
    workbook = clerk_sheet(
        "", ORGANIZATION_HEADERS, [[f"X{i}", "村", "村", "党支部", "A1"] for i in range(5)], sheet_name="组织机构"
    )
    sheet = workbook.active
    thin = Side(style="thin")
    for row in range(8, 3000):  # borders down far below the data, 序号 prefilled
        sheet.cell(row=row, column=1, value=row - 2)
        for column in range(2, 7):
            sheet.cell(row=row, column=column).border = Border(top=thin, bottom=thin)
    plans, errors = run(save(workbook))
    assert errors == []
    assert plans[0]["created"] == 5


def test_rows_with_values_still_count_toward_the_row_limit(world, settings):
    settings.SPREADSHEET_MAX_ROWS = 4
    workbook = clerk_sheet(
        "", ORGANIZATION_HEADERS, [[f"X{i}", "村", "村", "党支部", "A1"] for i in range(5)], sheet_name="组织机构"
    )
    with pytest.raises(WorkbookRefused, match="超过 4 行"):
        run(save(workbook))


# --- 7. the same problem twice in one file ----------------------------------------------------


def test_the_same_problem_twice_in_one_file_is_refused(world, user_with_role):
    from organizations.models import Role

    staff = user_with_role(Role.STAFF, world.county_a)
    today = timezone.localdate()
    found, deadline = (today - timedelta(days=3)).isoformat(), (today + timedelta(days=30)).isoformat()
    row = ["A1a", "", "督导检查", "组织生活", "三会一课记录不全", found, "", deadline]
    workbook = clerk_sheet("存在问题台账", PROBLEM_HEADERS, [row, row], sheet_name="问题台账")
    _plans, errors = run(save(workbook), user=staff)
    assert [(error["row"], error["column"]) for error in errors] == [(4, "问题描述")]
    assert "第 3 行" in errors[0]["message"]
    assert not Problem.objects.exists()


# --- 8. phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["139-1121-4732", "+86 139 1121 4732", "+86-13911214732", "(139)1121 4732", "0086 13911214732"]
)
def test_phone_numbers_are_normalized(typed):
    assert cell_phone(typed) == "13911214732"


def test_a_phone_with_dashes_imports(world):
    workbook = clerk_sheet(
        "", PEOPLE_HEADERS, [["王五", "男", "139-1121-4732", "中共党员", "A1a", "书记", "2016.9.1"]], sheet_name="人员"
    )
    _plans, errors = run(save(workbook))
    assert errors == []
    assert Person.objects.get().phone == "13911214732"
    assert Post.objects.get().start_date == date(2016, 9, 1)


# --- 2. CSV and .xls ------------------------------------------------------------------------------


def _csv(text, encoding, name="组织机构.csv"):
    buffer = io.BytesIO(text.encode(encoding))
    buffer.name = name
    return buffer


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_a_csv_in_utf8_or_gb18030_imports(world, encoding):
    text = ",".join(ORGANIZATION_HEADERS) + "\r\nX1,新村,村,党支部,A1\r\n00123,零头村,村,党支部,A1\r\n"
    plans, errors = run(_csv(text, encoding))
    assert errors == []
    assert plans[0]["created"] == 2
    assert Organization.objects.get(code="00123").name == "零头村"  # leading zeros kept


def test_a_csv_named_after_its_content_is_read_by_its_header(world):
    text = ",".join(ORGANIZATION_HEADERS) + "\nX1,新村,村,党支部,A1\n"
    plans, errors = run(_csv(text, "gb18030", name="吴川市组织机构信息表.csv"), dry_run=True)
    assert errors == []
    assert plans[0]["sheet"] == "组织机构"


def test_an_ods_is_refused_with_how_to_save_it(world):
    buffer = io.BytesIO(b"PK\x03\x04")
    buffer.name = "组织.ods"
    from spreadsheets.reading import check_upload

    with pytest.raises(WorkbookRefused, match="另存为"):
        check_upload(buffer, name=buffer.name)


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def test_an_xls_saved_by_libreoffice_imports(world):
    """fixtures/组织机构.xls: written by openpyxl with a title row and a 序号 column, then
    converted by LibreOffice Calc (`libreoffice --headless --convert-to xls`)."""
    path = FIXTURES / "组织机构.xls"
    with open(path, "rb") as file:
        plans, errors = workbook_import(file, user=None, dry_run=False, name=path.name)
    assert errors == []
    assert plans[0]["created"] == 2
    assert Organization.objects.get(code="00123").parent.code == "A1"
    assert Post.objects.get().start_date == date(2016, 9, 1)


def test_an_xlsx_saved_again_by_libreoffice_imports(world):
    path = FIXTURES / "组织机构-libreoffice.xlsx"
    with open(path, "rb") as file:
        plans, errors = workbook_import(file, user=None, dry_run=False, name=path.name)
    assert errors == []
    assert plans[0]["created"] == 2
    assert Person.objects.get().phone == "13911214732"


# --- 11. the command line -------------------------------------------------------------------------


def test_the_command_line_speaks_chinese(world, tmp_path, capsys):
    path = tmp_path / "组织.xlsx"
    path.write_bytes(
        save(
            clerk_sheet("", ORGANIZATION_HEADERS, [["X1", "新村", "村", "党支部", "A1"]], sheet_name="组织机构")
        ).read()
    )
    call_command("import_workbook", str(path))
    out = capsys.readouterr().out
    assert "组织机构：新建 1，修改 0，无变化 0" in out
    assert "已导入" in out
    call_command("import_workbook", str(path))
    assert "无变化" in capsys.readouterr().out.splitlines()[-1]


def test_the_command_line_reports_errors_in_chinese(world, tmp_path, capsys):
    path = tmp_path / "组织.xlsx"
    path.write_bytes(
        save(
            clerk_sheet("", ORGANIZATION_HEADERS, [["X1", "新村", "大队", "党支部", "A1"]], sheet_name="组织机构")
        ).read()
    )
    with pytest.raises(SystemExit):
        call_command("import_workbook", str(path))
    err = capsys.readouterr().err
    assert "组织机构 第3行 [单位类别]" in err
    assert "1 处错误，未导入任何内容" in err


def test_the_command_line_says_which_user_the_problem_sheet_needs(world, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "问题.xlsx"
    today = timezone.localdate().isoformat()
    path.write_bytes(
        save(
            clerk_sheet(
                "", PROBLEM_HEADERS, [["A1a", "", "督导检查", "类", "描述", today, "", today]], sheet_name="问题台账"
            )
        ).read()
    )
    with pytest.raises(CommandError, match="--user"):
        call_command("import_workbook", str(path))
    assert not Problem.objects.exists()


# --- the upload page shows the same messages ---------------------------------------------------


@pytest.fixture
def staff(world, user_with_role, client):
    from organizations.models import Role

    user = user_with_role(Role.STAFF, world.county_a)
    client.force_login(user)
    return user


def test_the_upload_page_shows_collapsed_errors_and_notes(staff, client, django_capture_on_commit_callbacks):
    rows = [["王五", "男", "", "中共党员", "A1a", "书记", "2016-9-1x"] for _ in range(6)]
    buffer = save(clerk_sheet("人员", PEOPLE_HEADERS, rows, sheet_name="Sheet1"), name="人员.xlsx")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("spreadsheets:import"), {"file": buffer})
    job = ImportJob.objects.get()
    response = client.get(reverse("spreadsheets:import_detail", args=[job.pk]))
    assert (job.status, job.error_count, len(job.errors)) == (ImportJob.Status.INVALID, 6, 1)
    assert "3–8" in response.text
    assert "6 行：" in response.text
    assert "第 3 行：" in response.text


def test_the_upload_page_accepts_a_gb18030_csv_and_says_nothing_changes_on_a_second_import(
    staff, client, django_capture_on_commit_callbacks
):
    text = ",".join(ORGANIZATION_HEADERS) + "\r\nX1,新村,村,党支部,A1\r\n"
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("spreadsheets:import"), {"file": _csv(text, "gb18030")})
        job = ImportJob.objects.first()
        assert job.status == ImportJob.Status.VALID, job.message
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("spreadsheets:import_confirm", args=[job.pk]))
    response = client.get(reverse("spreadsheets:import_detail", args=[job.pk]))
    assert "无变化" in response.text
    assert Organization.objects.filter(code="X1").count() == 1


# --- 9. blank templates ----------------------------------------------------------------------------


def _template(client, sheet):
    from openpyxl import load_workbook

    response = client.get(reverse("spreadsheets:template", args=[sheet]))
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_templates_have_drop_downs_text_formats_date_formats_and_an_example_row(staff, client):
    workbook = _template(client, "人员")
    sheet = workbook["人员"]
    lists = {
        str(validation.sqref).split(":")[0]: validation.formula1 for validation in sheet.data_validations.dataValidation
    }
    assert set(lists) == {"B2", "D2", "F2"}  # 性别, 政治面貌, 职务
    assert lists["B2"] == '"男,女"'
    assert "村(居)委会主任" in lists["F2"]
    assert sheet.column_dimensions["C"].number_format == "@"  # 手机号码
    assert sheet.column_dimensions["E"].number_format == "@"  # 所在组织编码
    assert sheet.column_dimensions["G"].number_format == "yyyy-mm-dd"
    guide = list(workbook["填写说明"].iter_rows(values_only=True))
    headers, example = guide[-2], guide[-1]
    assert list(headers) == PEOPLE_HEADERS
    assert example[0] == "黄志强"
    assert example[2] == "13911214732"


@pytest.mark.parametrize("sheet", ["组织机构", "人员", "问题台账", "责任清单"])
def test_every_templates_example_row_passes_the_cell_checks(staff, client, sheet):
    """The example row is written the way the sheet reads it: only references to records
    that do not exist may be refused, never a cell's form."""
    from spreadsheets.registry import SHEETS

    workbook = _template(client, sheet)
    guide = list(workbook["填写说明"].iter_rows(values_only=True))
    for column, value in zip(SHEETS[sheet].columns, guide[-1], strict=True):
        cell = type("C", (), {"value": value, "data_type": "s"})()
        column.parse(cell)  # raises CellError if the example is malformed
    assert guide[-2] == tuple(SHEETS[sheet].headers)


def test_styled_empty_columns_do_not_count_toward_the_column_limit(world, settings):
    settings.SPREADSHEET_MAX_COLUMNS = 8
    workbook = clerk_sheet("", ORGANIZATION_HEADERS, [["X1", "新村", "村", "党支部", "A1"]], sheet_name="组织机构")
    thin = Side(style="thin")
    for column in range(1, 30):
        workbook.active.cell(row=3, column=column).border = Border(bottom=thin)
    _plans, errors = run(save(workbook))
    assert errors == []


@pytest.mark.parametrize("sheet", ["组织机构", "人员", "责任清单", "问题台账", "历年测评结果", "平时考核"])
def test_every_sheet_imports_without_a_user_or_says_which_user_it_needs(world, sheet):
    from spreadsheets.registry import SHEETS

    workbook = Workbook()
    workbook.active.title = sheet
    workbook.active.append(SHEETS[sheet].headers)
    if SHEETS[sheet].needs_user:
        with pytest.raises(WorkbookRefused, match="--user"):
            run(save(workbook))
    else:
        _plans, errors = run(save(workbook))
        assert errors == []
