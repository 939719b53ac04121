"""Issue 12.10: export, correct, re-import. Every list that has an import sheet exports in a
form that imports back; a re-import with nothing to change says so."""

from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from organizations.models import Organization, Role
from spreadsheets.registry import EXPORTS, SHEETS
from spreadsheets.services import export_to_path, nothing_changes, workbook_import
from supervision import services as supervision
from supervision.models import Problem, Source
from tests.organizations.factories import PersonFactory, PostFactory


def test_every_import_sheet_with_a_list_has_an_export_holding_all_its_columns():
    # the exported lists of records that an import sheet writes
    imported_lists = {"组织机构": "organizations", "人员": "people", "问题台账": "problems", "评委评分": "panel_scores"}
    for sheet, kind in imported_lists.items():
        missing = set(SHEETS[sheet].headers) - {column.header for column in EXPORTS[kind].columns}
        assert not missing, (sheet, kind, missing)


def _reimport(path, user):
    with open(path, "rb") as file:
        return workbook_import(file, user=user, dry_run=False, name=path.name)


def test_the_organization_export_imports_back_unchanged(world, tmp_path):
    path = tmp_path / "组织机构.xlsx"
    export_to_path(kind="organizations", params={"org": "A"}, path=path)
    plans, errors = _reimport(path, None)
    assert errors == []
    assert plans[0]["unchanged"] == Organization.objects.filter(path__startswith=world.county_a.path).count()
    assert nothing_changes(plans)


def test_the_people_export_imports_back_unchanged(world, tmp_path):
    person = PersonFactory(organization=world.village_a1a, name="陈海", phone="13900002222")
    PostFactory(person=person, organization=world.village_a1a)
    path = tmp_path / "人员.xlsx"
    export_to_path(kind="people", params={"org": "A"}, path=path)
    plans, errors = _reimport(path, None)
    assert errors == []
    assert (plans[0]["created"], plans[0]["updated"], plans[0]["unchanged"]) == (0, 0, 1)


@pytest.fixture
def problem(world, user_with_role):
    supervisor = user_with_role(Role.SUPERVISOR, world.county_a)
    person = PersonFactory(organization=world.village_a1a, name="王书记")
    PostFactory(person=person, organization=world.village_a1a)
    today = timezone.localdate()
    supervision.problem_list(
        actor=supervisor,
        organization=world.village_a1a,
        deadline=today + timedelta(days=30),
        source=Source.INSPECTION,
        category="组织建设",
        description="支部换届未按期",
        found_on=today - timedelta(days=2),
        found_by="督导组",
        responsible_person=person,
    )
    return supervisor


def test_the_problem_ledger_export_imports_back_and_a_correction_is_listed(world, problem, tmp_path):
    today = timezone.localdate()
    path = tmp_path / "存在问题台账.xlsx"
    export_to_path(kind="problems", params={"org": "A", "year": (today - timedelta(days=2)).year}, path=path)

    plans, errors = _reimport(path, problem)
    assert errors == []
    assert (plans[0]["sheet"], plans[0]["created"], plans[0]["unchanged"]) == ("问题台账", 0, 1)
    assert "存在问题台账" in plans[0]["notes"][0]  # read as 问题台账 by its header row
    assert nothing_changes(plans)

    # the clerk adds a row below and corrects nothing else: the new problem is listed
    workbook = load_workbook(path)
    sheet = workbook.active
    headers = [cell.value for cell in sheet[1]]
    row = dict(zip(headers, [cell.value for cell in sheet[2]], strict=True))
    row["问题描述"] = "三会一课记录不全"
    sheet.append([row[header] for header in headers])
    workbook.save(path)
    plans, errors = _reimport(path, problem)
    assert errors == []
    assert (plans[0]["created"], plans[0]["unchanged"]) == (1, 1)
    assert Problem.objects.count() == 2


def test_changing_a_listed_problem_by_import_is_refused_with_the_columns(world, problem, tmp_path):
    today = timezone.localdate()
    path = tmp_path / "存在问题台账.xlsx"
    export_to_path(kind="problems", params={"org": "A", "year": (today - timedelta(days=2)).year}, path=path)
    workbook = load_workbook(path)
    headers = [cell.value for cell in workbook.active[1]]
    workbook.active.cell(row=2, column=headers.index("问题类别") + 1, value="作风建设")
    workbook.save(path)
    _plans, errors = _reimport(path, problem)
    assert [(error["row"], error["column"]) for error in errors] == [(2, "问题类别")]
    assert "问题页面" in errors[0]["message"]
    assert Problem.objects.get().category == "组织建设"
