"""The conflict rule, judges' sheets, appeals and corrections, secretary projects and grants."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from organizations.models import PostTitle, Role
from scoring import services
from scoring.models import Appeal, Grant, JudgeSheet, Project, ProjectStatus, Scheme, SchemeState
from tests.organizations.factories import PairingFactory, PersonFactory, PostFactory

from .conftest import issue_checklist, make_scheme

D = Decimal


@pytest.fixture
def scheme(world, towns, staff):
    scheme = make_scheme(staff, world)
    services.members_add(actor=staff, scheme=scheme, organizations=list(towns.values()))
    services.indicator_add(actor=staff, scheme=scheme, code="I1", name="组织建设", max_score=D(30))
    return scheme


def test_a_judge_never_scores_where_he_belongs_or_is_paired(world, towns, staff, judges, scheme):
    holds_post, holds_role, paired = judges[0], judges[1], judges[2]
    person = PersonFactory(organization=world.county_a, name="评委甲", user=holds_post)
    PostFactory(person=person, organization=towns["T1"], title=PostTitle.PARTY_BUILDING_INSTRUCTOR)
    from organizations.models import RoleAssignment

    RoleAssignment.objects.create(user=holds_role, organization=towns["T2"], role=Role.VIEWER)
    village = PersonFactory(organization=world.county_a, name="评委丙", user=paired)
    PairingFactory(village=towns["T3"], unit=None, leader=village, responsible=village)
    panel = services.panel_add(actor=staff, scheme=scheme, name="评委团")
    refused = services.panel_assign(actor=staff, panel=panel, judges=judges, organizations=list(towns.values()))
    reasons = {(judge.pk, organization.code): reason for judge, organization, reason in refused}
    assert set(reasons) == {(holds_post.pk, "T1"), (holds_role.pk, "T2"), (paired.pk, "T3")}
    assert "党建指导员" in reasons[(holds_post.pk, "T1")]
    assert "挂钩" in reasons[(paired.pk, "T3")]
    assert not JudgeSheet.objects.filter(judge=holds_post, organization=towns["T1"]).exists()
    assert JudgeSheet.objects.filter(judge=holds_post, organization=towns["T2"]).exists()
    assert JudgeSheet.objects.filter(scheme=scheme).count() == 5 * 4 - 3


def test_sheets_are_saved_as_typed_submitted_once_and_reopened_with_a_reason(world, towns, staff, judges, scheme):
    panel = services.panel_add(actor=staff, scheme=scheme, name="评委团")
    services.panel_assign(actor=staff, panel=panel, judges=judges[:1], organizations=[towns["T1"]])
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)
    sheet = JudgeSheet.objects.get()
    indicator = scheme.indicators.get()
    with pytest.raises(ValidationError):
        services.sheet_submit(actor=judges[0], sheet=sheet)  # nothing scored yet
    with pytest.raises(ValidationError):
        services.sheet_save(actor=judges[1], sheet=sheet, scores={indicator.pk: D(20)})  # not this judge's
    services.sheet_save(actor=judges[0], sheet=sheet, scores={indicator.pk: D(20)})
    services.sheet_submit(actor=judges[0], sheet=sheet)
    with pytest.raises(ValidationError, match="已锁定"):
        services.sheet_save(actor=judges[0], sheet=sheet, scores={indicator.pk: D(25)})
    with pytest.raises(ValidationError):
        services.sheet_reopen(actor=staff, sheet=sheet, reason=" ")
    services.sheet_reopen(actor=staff, sheet=sheet, reason="录入有误")
    services.sheet_save(actor=judges[0], sheet=sheet, scores={indicator.pk: D(25)})
    assert sheet.scores.get().score == D(25)
    assert judges[0].notifications.filter(title__contains="退回重评").exists()


def _announced(staff, scheme, towns, judges):
    panel = services.panel_add(actor=staff, scheme=scheme, name="评委团")
    services.panel_assign(actor=staff, panel=panel, judges=judges[:1], organizations=list(towns.values()))
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)
    indicator = scheme.indicators.get()
    for sheet in JudgeSheet.objects.filter(scheme=scheme):
        services.sheet_save(actor=sheet.judge, sheet=sheet, scores={indicator.pk: D(24)})
        services.sheet_submit(actor=sheet.judge, sheet=sheet)
    run = services.aggregation_start(actor=staff, scheme=scheme)
    services.aggregation_run(run_id=run.pk)
    Scheme.objects.filter(pk=scheme.pk).update(publication_ends_on=timezone.localdate() + timedelta(days=3))
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.PUBLISHED)
    scheme.refresh_from_db()
    return scheme


def test_an_upheld_appeal_makes_a_new_version_and_keeps_the_announced_one(
    world, towns, staff, judges, scheme, user_with_role
):
    scheme = _announced(staff, scheme, towns, judges)
    secretary = user_with_role(Role.SECRETARY, towns["T1"])
    with pytest.raises(ValidationError):
        services.appeal_file(actor=secretary, scheme=scheme, organization=towns["T1"], reason=" ")
    appeal = services.appeal_file(actor=secretary, scheme=scheme, organization=towns["T1"], reason="评分有误")
    with pytest.raises(ValidationError, match="待处理"):
        services.appeal_file(actor=secretary, scheme=scheme, organization=towns["T1"], reason="再次申诉")
    with pytest.raises(ValidationError, match="先处理"):
        services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.FINAL)
    resolved = services.appeal_resolve(actor=staff, appeal=appeal, upheld=True, resolution="复核后评分有误")
    correction = resolved.correction
    assert (correction.version, correction.previous, correction.state) == (2, scheme, SchemeState.SCORING)
    scheme.refresh_from_db()
    assert scheme.state == SchemeState.SUPERSEDED
    assert scheme.results.count() == 4  # the announced results stay readable
    assert JudgeSheet.objects.filter(scheme=correction, status="submitted").count() == 4
    assert correction.indicators.count() == 1
    with pytest.raises(ValidationError):
        services.appeal_resolve(actor=staff, appeal=appeal, upheld=False, resolution="又驳回")
    assert Appeal.objects.get(pk=appeal.pk).status == "upheld"


def test_a_rejected_appeal_needs_a_reason_and_final_waits_for_the_announcement(
    world, towns, staff, judges, scheme, user_with_role
):
    scheme = _announced(staff, scheme, towns, judges)
    appeal = services.appeal_file(
        actor=user_with_role(Role.SECRETARY, towns["T1"]), scheme=scheme, organization=towns["T1"], reason="不服"
    )
    with pytest.raises(ValidationError):
        services.appeal_resolve(actor=staff, appeal=appeal, upheld=False, resolution="")
    services.appeal_resolve(actor=staff, appeal=appeal, upheld=False, resolution="评分符合标准")
    with pytest.raises(ValidationError, match="公示期"):
        services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.FINAL)
    Scheme.objects.filter(pk=scheme.pk).update(publication_ends_on=timezone.localdate() - timedelta(days=1))
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.FINAL)
    with pytest.raises(ValidationError):
        services.deduction_add(actor=staff, scheme=scheme, organization=towns["T1"], points=D(1), reason="x")


def test_copying_a_scheme_to_next_year_keeps_rules_indicators_and_panels(world, towns, staff, judges, scheme):
    panel = services.panel_add(actor=staff, scheme=scheme, name="评委团")
    services.panel_assign(actor=staff, panel=panel, judges=judges[:2], organizations=[towns["T1"]])
    copy = services.scheme_copy(actor=staff, scheme=scheme, year=scheme.year + 1, name="明年考核")
    assert (copy.year, copy.scoring_date.year, copy.weight_panel) == (
        scheme.year + 1,
        scheme.year + 1,
        scheme.weight_panel,
    )
    assert list(copy.indicators.values_list("code", flat=True)) == ["I1"]
    assert copy.members.count() == 4
    assert JudgeSheet.objects.filter(scheme=copy).count() == 2


def test_weights_must_add_up_to_100(world, staff):
    with pytest.raises(ValidationError, match="100"):
        make_scheme(staff, world, weight_mass=D(30))


# --- secretary projects ------------------------------------------------------------------------------


@pytest.fixture
def secretaries(towns, user_with_role):
    found = {}
    for code, town in towns.items():
        user = user_with_role(Role.SECRETARY, town)
        person = town.posts.get(title=PostTitle.SECRETARY).person
        person.user = user
        person.save()
        found[code] = user
    return found


def _file(secretary, town, title="红色物业"):
    return services.project_file(
        actor=secretary,
        organization=town,
        year=timezone.localdate().year,
        title=title,
        background="背景",
        problem="问题",
        measures="措施",
        schedule="进度",
        expected_result="成效",
        budget=D(50000),
    )


def test_a_project_from_filing_to_acceptance(world, towns, staff, secretaries):
    with pytest.raises(ValidationError, match="在任书记"):
        _file(staff, towns["T1"])  # only the secretary in post files
    project = _file(secretaries["T1"], towns["T1"])
    review = {"small_scope": True, "difficult": True, "exemplary": True, "feasible": False, "comment": ""}
    with pytest.raises(ValidationError):  # returned needs what to change
        services.project_review(actor=staff, project=project, approve=False, **review)
    with pytest.raises(ValidationError, match="同时符合"):
        services.project_review(actor=staff, project=project, approve=True, **review)
    with pytest.raises(ValidationError, match="责任清单"):  # no checklist issued to T1 yet
        services.project_review(actor=staff, project=project, approve=True, **{**review, "feasible": True})
    issue_checklist(staff, world, [towns["T1"]])
    project = services.project_review(actor=staff, project=project, approve=True, **{**review, "feasible": True})
    assert project.status == ProjectStatus.APPROVED
    item = project.checklist_item
    assert (item.checklist.organization, item.frequency, item.occurrences.count()) == (towns["T1"], "once", 1)
    with pytest.raises(ValidationError, match="晚于今天"):
        services.project_report_add(
            actor=secretaries["T1"],
            project=project,
            stage="opening",
            date=timezone.localdate() + timedelta(days=1),
            content="x",
        )
    services.project_report_add(
        actor=secretaries["T1"], project=project, stage="opening", date=timezone.localdate(), content="已建账"
    )
    project = services.project_accept(actor=staff, project=project, passed=True, notes="成效明显")
    assert project.status == ProjectStatus.ACCEPTED


def test_the_top_projects_get_grants_and_spending_never_exceeds_them(world, towns, staff, judges, secretaries):
    issue_checklist(staff, world, list(towns.values()))
    review = {"small_scope": True, "difficult": True, "exemplary": True, "feasible": True, "comment": "同意"}
    projects = []
    for n, code in enumerate(towns, start=1):
        project = services.project_review(
            actor=staff, project=_file(secretaries[code], towns[code], f"项目{n}"), approve=True, **review
        )
        projects.append(project)
    evaluation = services.evaluation_create(
        actor=staff,
        owner=world.county_a,
        year=timezone.localdate().year,
        name="书记项目评审",
        projects=projects,
        scoring_date=timezone.localdate(),
    )
    assert list(evaluation.indicators.values_list("name", flat=True)) == ["创新性", "前瞻性", "实效性"]
    panel = services.panel_add(actor=staff, scheme=evaluation, name="评审团")
    services.panel_assign(actor=staff, panel=panel, judges=judges[:3], organizations=[p.organization for p in projects])
    services.scheme_advance(actor=staff, scheme=evaluation, to=SchemeState.SCORING)
    indicators = list(evaluation.indicators.order_by("position"))
    for sheet in JudgeSheet.objects.filter(scheme=evaluation).select_related("organization"):
        bonus = int(sheet.organization.code[1])  # T1 … T4: T4 best
        services.sheet_save(actor=sheet.judge, sheet=sheet, scores={i.pk: i.max_score - 4 + bonus for i in indicators})
        services.sheet_submit(actor=sheet.judge, sheet=sheet)
    run = services.aggregation_start(actor=staff, scheme=evaluation)
    services.aggregation_run(run_id=run.pk)
    with pytest.raises(ValidationError, match="公示"):
        services.grants_award(actor=staff, evaluation=evaluation, projects=projects[:2], amount=D(50000))
    Scheme.objects.filter(pk=evaluation.pk).update(publication_ends_on=timezone.localdate())
    services.scheme_advance(actor=staff, scheme=evaluation, to=SchemeState.PUBLISHED)
    results = {r.organization.code: r for r in evaluation.results.select_related("organization")}
    # 3 judges (a plain mean), (40 − 4 + n) + (30 − 4 + n) + (30 − 4 + n) = 88 + 3n
    assert {code: r.total for code, r in results.items()} == {"T1": D(91), "T2": D(94), "T3": D(97), "T4": D(100)}
    assert results["T4"].rank == 1
    top = [p for p in projects if p.organization.code in {"T4", "T3"}]
    grants = services.grants_award(actor=staff, evaluation=evaluation, projects=top, amount=D(50000))
    assert sorted(Grant.objects.values_list("project__organization__code", flat=True)) == ["T3", "T4"]
    grant = grants[0]
    services.spending_record(actor=staff, grant=grant, date=timezone.localdate(), purpose="阵地建设", amount=D(30000))
    with pytest.raises(ValidationError, match="超过"):
        services.spending_record(
            actor=staff, grant=grant, date=timezone.localdate(), purpose="培训", amount=D("20000.01")
        )
    services.spending_record(actor=staff, grant=grant, date=timezone.localdate(), purpose="培训", amount=D(20000))
    assert Project.objects.count() == 4


@pytest.mark.parametrize("model", ["scheme", "panel", "schemeresult", "aggregationrun", "appeal", "project", "grant"])
def test_superusers_read_the_scoring_lists(world, staff, client, model):
    from tests.organizations.factories import UserFactory

    make_scheme(staff, world)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(reverse(f"admin:scoring_{model}_changelist")).status_code == 200
