import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from organizations.models import Role
from spreadsheets.models import ExportJob
from spreadsheets.services import workbook_import
from supervision import services
from supervision.models import Problem, Source
from tests.organizations.factories import PersonFactory, PostFactory
from tests.spreadsheets.workbooks import workbook_bytes

HEADERS = ["组织编码", "责任单位编码", "问题来源", "问题类别", "问题描述", "发现日期", "责任人", "整改时限"]

# Last year: every day of it has passed.
YEAR = timezone.localdate().year - 1


def _sheet(*rows):
    return {"问题台账": [HEADERS, *rows]}


@pytest.fixture
def supervisor(world, user_with_role):
    return user_with_role(Role.SUPERVISOR, world.county_a)


def test_problem_sheet_lists_problems_once(world, supervisor):
    PostFactory(person=PersonFactory(organization=world.village_a1a, name="王书记"), organization=world.village_a1a)
    rows = [["A1a", "AD", "巡察", "组织建设", "支部换届未按期", f"{YEAR}-03-01", "王书记", f"{YEAR}/06/30"]]
    plans, errors = workbook_import(workbook_bytes(_sheet(*rows)), user=supervisor, dry_run=False)
    assert errors == []
    problem = Problem.objects.get()
    assert (problem.responsible_unit, problem.source, problem.responsible_person.name) == (
        world.department,
        Source.INSPECTION,
        "王书记",
    )
    plans, errors = workbook_import(workbook_bytes(_sheet(*rows)), user=supervisor, dry_run=False)
    assert (plans[0]["created"], plans[0]["unchanged"]) == (0, 1)


def _check_queries(supervisor, rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        plans, errors = workbook_import(workbook_bytes(_sheet(*rows)), user=supervisor, dry_run=True)
    assert errors == []
    return plans[0], len(captured.captured_queries)


def test_problem_sheet_checks_with_the_same_queries_for_2_or_12_rows(world, supervisor):
    # given a person with a post and a problem already listed, named by the first row
    PostFactory(person=PersonFactory(organization=world.village_a1a, name="王书记"), organization=world.village_a1a)
    first = ["A1a", "", "巡察", "组织建设", "问题0", f"{YEAR}-03-01", "王书记", f"{YEAR}-06-30"]
    workbook_import(workbook_bytes(_sheet(first)), user=supervisor, dry_run=False)

    def rows(count):
        return [first] + [
            ["A1a", "", "巡察", "组织建设", f"问题{n}", f"{YEAR}-03-01", "王书记", f"{YEAR}-06-30"]
            for n in range(1, count)
        ]

    # when the sheet is checked with 2 rows, then with 12
    small, small_queries = _check_queries(supervisor, rows(2))
    large, large_queries = _check_queries(supervisor, rows(12))

    # then the existing problem and the person are found either way, with as many queries
    assert (small["created"], small["unchanged"]) == (1, 1)
    assert (large["created"], large["unchanged"]) == (11, 1)
    assert large_queries == small_queries


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (["ZZZ", "", "巡察", "x", "y", f"{YEAR}-03-01", "", f"{YEAR}-06-30"], "组织编码"),
        (["B1a", "", "巡察", "x", "y", f"{YEAR}-03-01", "", f"{YEAR}-06-30"], "组织编码"),
        (["A1a", "", "上级交办", "x", "y", f"{YEAR}-03-01", "", f"{YEAR}-06-30"], "问题来源"),
        (["A1a", "", "巡察", "x", "y", f"{YEAR}-03-01", "无此人", f"{YEAR}-06-30"], "责任人"),
        (["A1a", "", "巡察", "x", "y", f"{YEAR}-03-01", "", f"{YEAR}-02-01"], "整改时限"),
        (["A1a", "B1", "巡察", "x", "y", f"{YEAR}-03-01", "", f"{YEAR}-06-30"], "责任单位编码"),
    ],
)
def test_problem_sheet_errors(world, supervisor, row, column):
    _plans, errors = workbook_import(workbook_bytes(_sheet(row)), user=supervisor, dry_run=False)
    assert [(error["row"], error["column"]) for error in errors] == [(2, column)]
    assert not Problem.objects.exists()


def test_exports_of_both_ledgers_admonishments_and_notices(
    world, supervisor, user_with_role, client, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    staff = user_with_role(Role.STAFF, world.county_a)
    problem = services.problem_list(
        actor=supervisor,
        organization=world.village_a1a,
        source=Source.SUPERVISION,
        category="x",
        description="=问题",
        found_on=today,
        found_by="督导",
        deadline=today + timedelta(days=10),
    )
    services.problem_claim(actor=staff, problem=problem)
    services.problem_plan(actor=staff, problem=problem, measures="m", person="p", deadline=problem.deadline)
    services.rectification_record_add(actor=staff, problem=problem, date=today, content="进展一")
    services.notice_issue(
        actor=staff,
        issuer=world.county_a,
        prefix="吴组通字",
        year=today.year,
        title="通报",
        issued_on=today,
        content="c",
        entries=[{"organization": world.village_a1a, "points": 2, "reason": "r"}],
    )
    client.force_login(staff)
    sheets = {}
    for kind in ["problems", "rectification", "admonishments", "notices"]:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("spreadsheets:export_create"), {"kind": kind, "org": "A", "year": today.year})
        job = ExportJob.objects.latest("pk")
        assert job.status == "done", job.error
        workbook = load_workbook(
            io.BytesIO(b"".join(client.get(reverse("spreadsheets:export_download", args=[job.pk])).streaming_content))
        )
        sheets[kind] = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert sheets["problems"][1][6] == "=问题"
    assert sheets["rectification"][1][3] == "进展一"
    assert len(sheets["admonishments"]) == 1  # the header only: nothing missed
    assert sheets["notices"][1][0] == f"吴组通字〔{today.year}〕1号"
