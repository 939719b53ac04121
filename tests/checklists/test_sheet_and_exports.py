import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from checklists import services
from checklists.models import ChecklistTemplate, Occurrence
from spreadsheets.models import ExportJob
from spreadsheets.services import workbook_import
from tests.spreadsheets.workbooks import workbook_bytes

from .conftest import YEAR

HEADERS = ["编码", "类别", "工作事项", "工作要求", "佐证材料", "频次", "完成时限", "分值", "适用党组织类别"]


def _sheet(*rows):
    return {"责任清单": [HEADERS, *rows]}


def test_checklist_sheet_makes_the_importers_template_of_the_year(world, people):
    plans, errors = workbook_import(
        workbook_bytes(
            _sheet(
                [
                    "Z01",
                    "组织生活",
                    "落实支委会制度",
                    "每月至少召开1次",
                    "会议记录",
                    "每月",
                    f"{YEAR}-12-31",
                    "10",
                    "党支部、党总支",
                ],
                [
                    "Z02",
                    "党费管理",
                    "党费收缴",
                    "按月收缴",
                    "党费台账",
                    "每季度",
                    f"{YEAR}/12/31",
                    "5",
                    "党总支、党支部",
                ],
                ["W01", "责任落实", "制定党建要点", "年初制定", "文件", "每年", f"{YEAR}年3月31日", "4", "党委"],
            )
        ),
        user=people.staff,
        dry_run=False,
    )
    assert errors == []
    assert plans[0]["created"] == 3
    names = set(ChecklistTemplate.objects.values_list("name", flat=True))
    assert names == {f"{YEAR}年党建责任清单（党总支、党支部）", f"{YEAR}年党建责任清单（党委）"}
    branch = ChecklistTemplate.objects.get(name__contains="党支部")
    assert (branch.owner, branch.target_types) == (world.county_a, ["general_branch", "branch"])
    assert branch.items.get(code="Z02").frequency == "quarterly"


def test_checklist_sheet_reimport_updates_and_reopens(world, people):
    rows = [
        ["Z01", "组织生活", "落实支委会制度", "每月至少召开1次", "会议记录", "每月", f"{YEAR}-12-31", "10", "党支部"]
    ]
    workbook_import(workbook_bytes(_sheet(*rows)), user=people.staff, dry_run=False)
    template = ChecklistTemplate.objects.get()
    services.checklist_issue(
        actor=people.staff, template=template, root=world.county_a, claim_deadline=date(YEAR, 2, 28)
    )
    checklist = template.checklists.get(organization=world.village_a1a)
    services.checklist_claim(actor=people.secretary, checklist=checklist, signature="村书记")

    rows[0][7] = "12"
    plans, errors = workbook_import(workbook_bytes(_sheet(*rows)), user=people.staff, dry_run=False)

    assert errors == []
    assert (plans[0]["created"], plans[0]["updated"]) == (0, 1)
    checklist.refresh_from_db()
    assert not checklist.is_claimed
    assert checklist.items.get().score == 12


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (["Z01", "组织生活", "事项", "要求", "", "每周", f"{YEAR}-12-31", "10", "党支部"], "频次"),
        (["Z01", "组织生活", "事项", "要求", "", "每月", "明年", "10", "党支部"], "完成时限"),
        (["Z01", "组织生活", "事项", "要求", "", "每月", f"{YEAR}-12-31", "十分", "党支部"], "分值"),
        (["Z01", "组织生活", "事项", "要求", "", "每月", f"{YEAR}-12-31", "10", "支部"], "适用党组织类别"),
        (["Z01", "", "事项", "要求", "", "每月", f"{YEAR}-12-31", "10", "党支部"], "类别"),
    ],
)
def test_checklist_sheet_errors(world, people, row, column):
    _plans, errors = workbook_import(workbook_bytes(_sheet(row)), user=people.staff, dry_run=False)
    assert [(error["row"], error["column"]) for error in errors] == [(2, column)]
    assert not ChecklistTemplate.objects.exists()


def test_only_template_writers_may_import_the_sheet(world, people):
    from spreadsheets.reading import WorkbookRefused

    with pytest.raises(WorkbookRefused):
        workbook_import(
            workbook_bytes(_sheet(["Z01", "组织生活", "事项", "要求", "", "每月", f"{YEAR}-12-31", "10", "党支部"])),
            user=people.secretary,
            dry_run=True,
        )


def _download(client, job):
    return load_workbook(
        io.BytesIO(b"".join(client.get(reverse("spreadsheets:export_download", args=[job.pk])).streaming_content))
    )


@pytest.fixture
def export(django_capture_on_commit_callbacks):
    def start(client, kind, org, year=YEAR):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("spreadsheets:export_create"), {"kind": kind, "org": org, "year": year})
        return ExportJob.objects.latest("pk")

    return start


def test_exports_of_status_ledger_progress_and_duty(issued, people, world, client, export):
    occurrence = Occurrence.objects.get(item__checklist=issued, item__code="Z04")
    entry = services.entry_submit(
        actor=people.secretary, occurrence=occurrence, date=date(YEAR, 3, 1), content="=换届准备会"
    )
    services.entry_approve(actor=people.town_clerk, entry=entry)
    services.duty_record_add(
        actor=people.secretary,
        organization=world.village_a1a,
        date=date(YEAR, 3, 5),
        kind="heart_talk",
        content="谈心谈话",
    )
    client.force_login(people.staff)

    status = _download(client, export(client, "checklist_status", "A"))["清单完成情况"]
    rows = list(status.iter_rows(values_only=True))
    assert rows[0][:4] == ("组织编码", "组织名称", "清单名称", "认领情况")
    assert {row[0] for row in rows[1:]} == {"A1a", "A1b", "A2a", "AD"}

    ledger = list(_download(client, export(client, "ledger", "A1a"))["台账登记簿"].iter_rows(values_only=True))
    assert ledger[1][1:3] == ("Z04", "换届准备")
    assert ledger[1][5] == "=换届准备会"  # text, not a formula
    assert ledger[1][7] == "已通过"

    progress = list(_download(client, export(client, "progress", "A"))["月度进度"].iter_rows(values_only=True))
    assert progress[1][0] == "A"
    assert {row[0] for row in progress[1:]} >= {"A", "A1", "A2"}

    duty = list(_download(client, export(client, "duty", "A1a"))["书记履责纪实"].iter_rows(values_only=True))
    assert duty[1][2:4] == ("谈心谈话", "谈心谈话")


def test_exports_are_scoped(issued, people, client, export):
    client.force_login(people.neighbour)
    client.post(reverse("spreadsheets:export_create"), {"kind": "ledger", "org": "A1a", "year": YEAR})
    assert not ExportJob.objects.exists()


def test_the_status_export_shows_a_late_claim(issued, people, client, export):
    from django.utils import timezone

    from checklists.models import Checklist

    Checklist.objects.filter(pk=issued.pk).update(claim_deadline=timezone.localdate() - timedelta(days=1))
    services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    client.force_login(people.staff)
    rows = list(_download(client, export(client, "checklist_status", "A"))["清单完成情况"].iter_rows(values_only=True))
    claims = {row[0]: row[3] for row in rows[1:]}
    assert (claims["A1a"], claims["A1b"]) == ("逾期认领", "未认领")
