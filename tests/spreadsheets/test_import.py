import io
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook

from organizations.models import Organization, Person, Post, PostTitle, Role
from spreadsheets.reading import Limits, WorkbookRefused, check_upload
from spreadsheets.services import workbook_import
from tests.organizations.factories import PersonFactory, PostFactory

from .workbooks import organizations, people, workbook_bytes


def run(sheets, user=None, dry_run=False):
    return workbook_import(workbook_bytes(sheets), user=user, dry_run=dry_run)


def only_error(errors):
    assert len(errors) == 1, errors
    error = errors[0]
    return error["sheet"], error["row"], error["column"], error["message"]


# --- organizations ------------------------------------------------------------------------


def test_children_before_parents_in_the_file_still_import(world):
    plans, errors = run(
        organizations(
            ["X2", "二号村", "村", "党支部", "X1"],
            ["X1", "新镇", "镇", "党委", "A"],
        )
    )
    assert errors == []
    assert plans[0]["created"] == 2
    assert Organization.objects.get(code="X2").path == "/C/A/X1/X2/"
    assert Organization.objects.get(code="X1").history.get().history_change_reason == "Excel 导入"


def test_full_width_digits_and_stray_spaces_are_normalized(world):
    _plans, errors = run(organizations(["  Ｘ１２３ ", " 全角村\u3000", " 村 ", "党支部", "A１ "]))
    assert errors == []
    created = Organization.objects.get(code="X123")
    assert (created.name, created.parent.code) == ("全角村", "A1")


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (["", "无编码村", "村", "党支部", "A1"], "组织编码", "不能为空"),
        (["X9", "", "村", "党支部", "A1"], "组织名称", "不能为空"),
        (["X9", "某村", "大队", "党支部", "A1"], "单位类别", "「大队」"),
        (["X9", "某村", "村", "支部", "A1"], "党组织类别", "「支部」"),
        (["X9", "某村", "村", "党支部", "NOPE"], "上级组织编码", "NOPE"),
        (["X 9!", "某村", "村", "党支部", "A1"], "组织编码", "只能包含"),
        (["X9", '=CONCAT("a","b")', "村", "党支部", "A1"], "组织名称", "公式"),
    ],
)
def test_each_bad_cell_is_reported_on_its_row_and_column(world, row, column, fragment):
    _plans, errors = run(organizations(["OK1", "好村", "村", "党支部", "A1"], row))
    sheet, number, found_column, message = only_error(errors)
    assert (sheet, number, found_column) == ("组织机构", 3, column)
    assert fragment in message
    assert not Organization.objects.filter(code__in=["OK1", "X9"]).exists()  # all or nothing


def test_duplicate_code_in_the_file(world):
    _plans, errors = run(organizations(["X1", "一", "村", "党支部", "A1"], ["X1", "二", "村", "党支部", "A1"]))
    assert only_error(errors)[1:3] == (3, "组织编码")
    assert "第 2 行" in errors[0]["message"]


def test_a_cycle_is_reported(world):
    _plans, errors = run(organizations(["X1", "一", "村", "党支部", "X2"], ["X2", "二", "村", "党支部", "X1"]))
    assert {(error["row"], error["column"]) for error in errors} == {(2, "上级组织编码"), (3, "上级组织编码")}
    assert "循环" in errors[0]["message"]


def test_moving_an_organization_under_its_own_descendant_is_a_cycle(world):
    _plans, errors = run(organizations(["A", "组织A", "县", "党委", "A1a"]))
    assert only_error(errors)[1:3] == (2, "上级组织编码")


def test_codes_outside_the_importers_subtree_are_refused(world, user_with_role):
    staff = user_with_role(Role.STAFF, world.town_a1)
    # a new village under a sibling town, and a change to the sibling town itself
    _plans, errors = run(
        organizations(
            ["X1", "越界村", "村", "党支部", "A2"],
            ["A2", "改名", "镇", "党委", "A"],
        ),
        user=staff,
    )
    assert [(error["row"], error["column"]) for error in errors] == [(2, "上级组织编码"), (3, "组织编码")]
    assert all("不在您的管理范围内" in error["message"] for error in errors)


def test_an_unchanged_reference_to_a_parent_outside_the_subtree_is_allowed(world, user_with_role):
    staff = user_with_role(Role.STAFF, world.town_a1)
    plans, errors = run(
        organizations(
            ["A1", "组织A1", "镇", "党委", "A"],  # the importer's own town, its parent above the subtree
            ["A1a", "改了名的村", "村", "党支部", "A1"],
        ),
        user=staff,
    )
    assert errors == []
    assert (plans[0]["unchanged"], plans[0]["updated"]) == (1, 1)
    assert Organization.objects.get(code="A1a").name == "改了名的村"


def test_moving_to_another_parent_in_scope_moves_the_subtree(world):
    plans, errors = run(organizations(["A1", "组织A1", "镇", "党委", "B"]))
    assert errors == []
    assert plans[0]["updated"] == 1
    assert Organization.objects.get(code="A1b").path == "/C/B/A1/A1b/"


def test_dry_run_writes_nothing(world):
    plans, errors = run(organizations(["X1", "新村", "村", "党支部", "A1"]), dry_run=True)
    assert errors == []
    assert plans[0]["created"] == 1
    assert plans[0]["changes"] == ["新建组织 X1 新村"]
    assert not Organization.objects.filter(code="X1").exists()


def test_a_header_row_that_does_not_match_is_reported(world):
    _plans, errors = run({"组织机构": [["编码", "名称"], ["X1", "新村"]]})
    assert only_error(errors)[1:3] == (1, "表头")


def test_a_workbook_without_known_sheets_is_refused(world):
    with pytest.raises(WorkbookRefused, match="组织机构"):
        run({"Sheet1": [["a"]]})


def test_a_user_without_the_right_role_cannot_import(world, user_with_role):
    secretary = user_with_role(Role.SECRETARY, world.town_a1)
    with pytest.raises(WorkbookRefused, match="无权导入"):
        run(organizations(["X1", "新村", "村", "党支部", "A1"]), user=secretary)


# --- people -------------------------------------------------------------------------------


def test_people_and_posts_with_organizations_of_the_same_file(world):
    sheets = {
        **organizations(["X1", "新村", "村", "党支部", "A1"]),
        **people(
            ["黄志强", "男", "13900001111", "中共党员", "X1", "书记", "2021-10-15"],
            ["黄志强", "男", "１３９ ００００ １１１１", "中共党员", "X1", "村(居)委会主任", "2021/10/15"],  # 一肩挑
            ["李秀兰", "女", "", "群众", "X1", "村（居）委会委员", "2021年10月15日"],
        ),
    }
    plans, errors = run(sheets)
    assert errors == []
    assert plans[1]["created"] == 3
    person = Person.objects.get(phone="13900001111")
    assert set(person.posts.values_list("title", flat=True)) == {PostTitle.SECRETARY, PostTitle.COMMITTEE_DIRECTOR}
    assert Post.objects.get(person__name="李秀兰").start_date == date(2021, 10, 15)


def test_people_rows_are_checked_against_the_rows_of_earlier_chunks(world, monkeypatch):
    # given chunks of 2 rows, so that the rows about one person fall into different chunks
    monkeypatch.setattr("organizations.sheets.CHUNK", 2)
    rows = [
        ["黄志强", "男", "13900001111", "中共党员", "A1a", "书记", "2021-10-15"],
        ["李秀兰", "女", "", "群众", "A1a", "", ""],
        ["王五", "男", "13900003333", "中共党员", "A1a", "", ""],
        ["黄志强", "男", "13900001111", "中共党员", "A1a", "村(居)委会主任", "2021-10-15"],
        ["李秀兰", "女", "", "群众", "A1a", "村(居)委会委员", "2022-01-01"],
    ]
    # when the same person is described differently, or holds the same post twice, rows apart
    _plans, errors = run(
        people(*rows, ["黄志强", "女", "13900001111", "中共党员", "A1a", "", ""], rows[0]),
    )
    # then each later row is reported against the first, and nothing is written
    assert [(error["row"], error["column"]) for error in errors] == [(7, "姓名"), (8, "职务")]
    assert "第 2 行" in errors[0]["message"]
    assert "第 2 行" in errors[1]["message"]
    assert not Person.objects.exists()

    # when the rows agree, then each new person is made once, with the posts of every chunk
    plans, errors = run(people(*rows))
    assert errors == []
    assert (plans[0]["created"], plans[0]["updated"], plans[0]["unchanged"]) == (5, 0, 0)
    assert Person.objects.count() == 3
    assert set(Person.objects.get(phone="13900001111").posts.values_list("title", flat=True)) == {
        PostTitle.SECRETARY,
        PostTitle.COMMITTEE_DIRECTOR,
    }
    assert Post.objects.get(person__name="李秀兰").start_date == date(2022, 1, 1)

    # when the same file comes again, then every row is unchanged
    plans, errors = run(people(*rows))
    assert (errors, plans[0]["created"], plans[0]["updated"], plans[0]["unchanged"]) == ([], 0, 0, 5)


def test_people_are_matched_by_phone_then_by_name_and_organization(world):
    by_phone = PersonFactory(name="旧名", phone="13900002222", organization=world.village_a1a)
    by_name = PersonFactory(name="陈海", phone=None, organization=world.village_a1a)
    PostFactory(person=by_name, organization=world.village_a1a, title=PostTitle.SECRETARY, start_date=date(2020, 1, 1))
    plans, errors = run(
        people(
            ["新名", "", "13900002222", "中共党员", "A1a", "", ""],
            ["陈海", "", "", "中共党员", "A1a", "书记", "2020-01-01"],
        )
    )
    assert errors == []
    assert (plans[0]["created"], plans[0]["updated"], plans[0]["unchanged"]) == (0, 1, 1)
    by_phone.refresh_from_db()
    assert by_phone.name == "新名"
    assert Person.objects.count() == 2


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (["王五", "男", "1390000", "中共党员", "A1a", "", ""], "手机号码", "1390000"),
        (["王五", "男", "13900003333", "党员", "A1a", "", ""], "政治面貌", "「党员」"),
        (["王五", "男", "13900003333", "中共党员", "A1a", "村长", "2021-01-01"], "职务", "「村长」"),
        (["王五", "男", "13900003333", "中共党员", "A1a", "书记", "2021.13.01"], "任职日期", "2021.13.01"),
        (["王五", "男", "13900003333", "中共党员", "A1a", "书记", ""], "任职日期", "任职日期"),
        (["王五", "男", "13900003333", "中共党员", "ZZZ", "", ""], "所在组织编码", "ZZZ"),
        (["", "男", "13900003333", "中共党员", "A1a", "", ""], "姓名", "不能为空"),
    ],
)
def test_each_bad_people_cell_is_reported(world, row, column, fragment):
    _plans, errors = run(people(row))
    sheet, number, found_column, message = only_error(errors)
    assert (sheet, number, found_column) == ("人员", 2, column)
    assert fragment in message
    assert not Person.objects.exists()


def test_people_outside_the_importers_subtree_are_refused(world, user_with_role):
    staff = user_with_role(Role.ADMIN, world.town_a1)
    _plans, errors = run(people(["王五", "男", "13900003333", "中共党员", "A2a", "", ""]), user=staff)
    assert only_error(errors)[1:3] == (2, "所在组织编码")


def test_one_bad_sheet_stops_the_other(world):
    sheets = {
        **organizations(["X1", "新村", "村", "党支部", "A1"]),
        **people(["王五", "男", "139", "中共党员", "X1", "", ""]),
    }
    _plans, errors = run(sheets)
    assert len(errors) == 1
    assert not Organization.objects.filter(code="X1").exists()


# --- refusing files before parsing --------------------------------------------------------


def test_not_an_xlsx_is_refused():
    with pytest.raises(WorkbookRefused, match=r"\.xlsx"):
        check_upload(io.BytesIO(b"a,b\n1,2\n"), name="data.txt")
    with pytest.raises(WorkbookRefused, match="不是有效的"):
        check_upload(io.BytesIO(b"not a zip"), name="data.xlsx")


def test_an_oversized_file_is_refused_before_parsing():
    limits = Limits(file_bytes=1000, rows=10, columns=10, uncompressed_bytes=10**9)
    with pytest.raises(WorkbookRefused, match="最多"):
        check_upload(io.BytesIO(b"x" * 1001), name="big.xlsx", limits=limits)


def test_a_zip_bomb_is_refused_from_its_declared_sizes():
    # 20 MB of zeros compress to about 20 KB: the expanded size gives it away.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 20 * 1024 * 1024)
    assert buffer.tell() < 100 * 1024
    limits = Limits(file_bytes=10**6, rows=10, columns=10, uncompressed_bytes=10 * 1024 * 1024)
    with pytest.raises(WorkbookRefused, match="解压"):
        check_upload(buffer, name="bomb.xlsx", limits=limits)


def test_too_many_rows_are_refused(world, settings):
    settings.SPREADSHEET_MAX_ROWS = 3
    rows = [[f"X{i}", "村", "村", "党支部", "A1"] for i in range(5)]
    with pytest.raises(WorkbookRefused, match="超过 3 行"):
        run(organizations(*rows))


def test_too_many_columns_are_refused(world, settings):
    settings.SPREADSHEET_MAX_COLUMNS = 6
    with pytest.raises(WorkbookRefused, match="超过 6 列"):
        run(organizations(["X1", "村", "村", "党支部", "A1", "", "", "extra"]))


def test_a_real_workbook_passes_the_checks(world):
    buffer = workbook_bytes(organizations(["X1", "村", "村", "党支部", "A1"]))
    check_upload(buffer, name="ok.XLSX")
    assert load_workbook(buffer, read_only=True).sheetnames == ["组织机构"]


def test_errors_are_listed_as_the_workbook_reads(world):
    _plans, errors = run(
        organizations(
            ["X1", "某村", "大队", "党支部", "A1"],
            ["X2", "某村", "村", "党支部", "NOPE"],
            ["X3", "", "村", "党支部", "A1"],
        )
    )
    assert [(error["row"], error["column"]) for error in errors] == [
        (2, "单位类别"),
        (3, "上级组织编码"),
        (4, "组织名称"),
    ]
