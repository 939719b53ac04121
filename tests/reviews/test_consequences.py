"""结果运用 (DESIGN.md 6): 不称职 → no subsidy, no awards, a talk; two years running → resign."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from reviews import services
from reviews.models import Consequence, ConsequenceKind, ConsequenceStatus, PastResult, State
from spreadsheets.services import workbook_import
from tests.spreadsheets.workbooks import workbook_bytes

from .conftest import add_reportees, add_venue, cast, close, make_session, open_session

U, E = 3, 0


def _review(world, people, year, grade_for_a1a):
    today = timezone.localdate()
    session = make_session(
        world,
        people,
        year=year,
        starts_on=today.replace(year=year) - timedelta(days=1),
        ends_on=today.replace(year=year),
    )
    venue, groups = add_venue(session, world, people, [("党员", 100, 3)])
    r = add_reportees(session, world, people, venue, villages=("A1a", "A1b"))
    open_session(session, people)
    cast(groups["党员"], [{r["A1a"]: grade_for_a1a, r["A1b"]: E}] * 3, people=people)
    close(session, people)
    services.session_advance(actor=people.staff, session=session, to=State.PUBLISHED)
    return session, r


def _kinds(reportee):
    return set(Consequence.objects.filter(result__reportee=reportee).values_list("kind", flat=True))


def test_incompetent_two_years_running_on_the_platform(world, people):
    year = timezone.localdate().year
    _before, earlier = _review(world, people, year - 1, U)
    assert _kinds(earlier["A1a"]) == {ConsequenceKind.NO_SUBSIDY, ConsequenceKind.NO_AWARDS, ConsequenceKind.TALK}
    assert _kinds(earlier["A1b"]) == set()
    session, now = _review(world, people, year, U)
    assert ConsequenceKind.RESIGN in _kinds(now["A1a"])
    subsidy = Consequence.objects.get(result__reportee=now["A1a"], kind=ConsequenceKind.NO_SUBSIDY)
    assert subsidy.applies_to == year + 1
    # recommending again adds nothing
    assert services.consequences_recommend(actor=people.staff, session=session) == []


def test_incompetent_last_year_from_the_imported_sheet(world, people):
    year = timezone.localdate().year
    _user, person = people.secretaries["A1a"]
    rows = [["姓名", "组织编码", "职务", "年度", "等次"], [person.name, "A1a", "党支部书记", year - 1, "不称职"]]
    plans, errors = workbook_import(workbook_bytes({"历年测评结果": rows}), user=people.staff, dry_run=False)
    assert errors == []
    assert plans[0]["created"] == 1
    plans, errors = workbook_import(workbook_bytes({"历年测评结果": rows}), user=people.staff, dry_run=False)
    assert plans[0]["unchanged"] == 1
    assert PastResult.objects.get().grade_label == "不称职"
    _session, now = _review(world, people, year, U)
    assert ConsequenceKind.RESIGN in _kinds(now["A1a"])


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (["无此人", "A1a", "书记", 2025, "不称职"], "姓名"),
        (["x", "B1a", "书记", 2025, "不称职"], "组织编码"),  # outside the importer's area
        (["x", "A1a", "书记", 2025, "很差"], "等次"),
        (["x", "A1a", "书记", "去年", "称职"], "年度"),
    ],
)
def test_the_past_results_sheet_reports_bad_rows(world, people, row, column):
    rows = [["姓名", "组织编码", "职务", "年度", "等次"], row]
    _plans, errors = workbook_import(workbook_bytes({"历年测评结果": rows}), user=people.staff, dry_run=False)
    assert [error["column"] for error in errors] == [column]
    assert not PastResult.objects.exists()


def test_a_decision_is_taken_once_and_tracked_to_done(world, people):
    year = timezone.localdate().year
    _session, now = _review(world, people, year, U)
    consequence = Consequence.objects.get(result__reportee=now["A1a"], kind=ConsequenceKind.NO_AWARDS)
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        services.consequence_decide(
            actor=people.staff, consequence=consequence, status=ConsequenceStatus.DONE, done_on=today
        )
    services.consequence_decide(
        actor=people.staff, consequence=consequence, status=ConsequenceStatus.ADOPTED, decided_on=today
    )
    with pytest.raises(ValidationError):  # a second decision does not overwrite the first
        services.consequence_decide(
            actor=people.staff_two, consequence=consequence, status=ConsequenceStatus.NOT_ADOPTED, decided_on=today
        )
    with pytest.raises(ValidationError):  # not in the future
        services.consequence_decide(
            actor=people.staff,
            consequence=consequence,
            status=ConsequenceStatus.DONE,
            done_on=today + timedelta(days=1),
        )
    done = services.consequence_decide(
        actor=people.staff, consequence=consequence, status=ConsequenceStatus.DONE, done_on=today
    )
    assert (done.status, done.decided_by) == (ConsequenceStatus.DONE, people.staff)
    assert done.history.first().history_user == people.staff
