"""What three outside reviews of the assessment found, each kept as a test: announced results
never change behind the announcement, the panel is computed over the same indicators for all,
the pages say what went wrong instead of failing, and leaders read what staff write."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from organizations.models import Role
from scoring import aggregation, services
from scoring.models import AggregationRun, Appeal, JudgeSheet, Scheme, SchemeResult, SchemeState

from .conftest import done, issue_checklist, make_scheme, this_year

D = Decimal


def _scored(staff, world, towns, judges, **rules):
    """Panel-only scheme: T1–T3 scored 40 (of 50) by three judges, submitted."""
    scheme = make_scheme(staff, world, weight_checklist=0, weight_mass=0, weight_panel=100, **rules)
    services.members_add(actor=staff, scheme=scheme, organizations=[towns[t] for t in ("T1", "T2", "T3")])
    services.indicator_add(actor=staff, scheme=scheme, code="I1", name="组织建设", max_score=D(50))
    panel = services.panel_add(actor=staff, scheme=scheme, name="评委团")
    services.panel_assign(
        actor=staff, panel=panel, judges=judges[:3], organizations=[towns[t] for t in ("T1", "T2", "T3")]
    )
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)
    indicator = scheme.indicators.get()
    for sheet in JudgeSheet.objects.filter(scheme=scheme):
        services.sheet_save(actor=sheet.judge, sheet=sheet, scores={indicator.pk: D(40)})
        services.sheet_submit(actor=sheet.judge, sheet=sheet)
    scheme.refresh_from_db()
    return scheme, panel


def _aggregate(staff, scheme):
    run = services.aggregation_start(actor=staff, scheme=scheme)
    services.aggregation_run(run_id=run.pk)
    scheme.refresh_from_db()
    return run


def _total(scheme, town):
    return SchemeResult.objects.get(scheme=scheme, organization=town).total


# --- announced results do not change behind the announcement ---------------------------------------------


def test_a_deduction_after_aggregating_sends_the_scheme_back_to_scoring(world, towns, staff, judges):
    scheme, _panel = _scored(staff, world, towns, judges)
    _aggregate(staff, scheme)
    services.deduction_add(actor=staff, scheme=scheme, organization=towns["T1"], points=D(3), reason="迟报材料")
    scheme.refresh_from_db()
    assert scheme.state == SchemeState.SCORING  # to be aggregated again before it can be announced
    with pytest.raises(ValidationError):
        services.scheme_advance(
            actor=staff, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
        )
    _aggregate(staff, scheme)
    assert _total(scheme, towns["T1"]) == D("77.00")  # 80.00 − 3


def test_a_run_finishing_after_the_announcement_writes_nothing(world, towns, staff, judges):
    scheme, _panel = _scored(staff, world, towns, judges)
    _aggregate(staff, scheme)
    late = AggregationRun.objects.create(scheme=scheme, requested_by=staff)  # a slow worker's run
    with pytest.raises(ValidationError, match="汇总正在进行"):
        services.scheme_advance(
            actor=staff, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
        )
    AggregationRun.objects.filter(pk=late.pk).delete()
    services.scheme_advance(
        actor=staff, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
    )
    before = _total(scheme, towns["T1"])
    late = AggregationRun.objects.create(scheme=scheme, requested_by=staff)
    services.aggregation_run(run_id=late.pk)
    late.refresh_from_db()
    assert (late.status, _total(scheme, towns["T1"])) == ("failed", before)
    assert "已公示" in late.error


def test_a_run_during_which_a_score_changed_writes_nothing(world, towns, staff, judges):
    scheme, _panel = _scored(staff, world, towns, judges)
    run = AggregationRun.objects.create(scheme=scheme, requested_by=staff)  # started, not yet run
    sheet = JudgeSheet.objects.filter(scheme=scheme, organization=towns["T1"]).first()
    services.sheet_reopen(actor=staff, sheet=sheet, reason="评委录入有误")
    services.aggregation_run(run_id=run.pk)
    run.refresh_from_db()
    scheme.refresh_from_db()
    assert (run.status, scheme.state) == ("failed", SchemeState.SCORING)
    assert not SchemeResult.objects.filter(scheme=scheme).exists()


def test_a_refused_announcement_keeps_the_announcement_dates(world, towns, staff, judges, client):
    scheme, _panel = _scored(staff, world, towns, judges)
    _aggregate(staff, scheme)
    ends = timezone.localdate() + timedelta(days=5)
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=ends)
    client.force_login(staff)
    client.post(
        reverse("scoring:scheme", args=[scheme.pk]),
        {"action": "publish", "publish-publication_ends_on": timezone.localdate() - timedelta(days=1)},
    )
    assert Scheme.objects.get(pk=scheme.pk).publication_ends_on == ends


def test_indicators_are_fixed_once_judges_have_scored(world, towns, staff, judges):
    scheme, _panel = _scored(staff, world, towns, judges)
    with pytest.raises(ValidationError, match="开始评分"):
        services.indicator_add(actor=staff, scheme=scheme, code="I2", name="党员管理", max_score=D(50))
    indicator = scheme.indicators.get()
    with pytest.raises(ValidationError, match="开始评分"):
        services.indicator_update(actor=staff, indicator=indicator, max_score=D(45))
    services.indicator_update(actor=staff, indicator=indicator, guide="看台账")  # the guide may still change
    assert scheme.indicators.get().guide == "看台账"


def test_indicator_codes_are_told_apart_without_case(world, towns, staff):
    scheme = make_scheme(staff, world)
    services.indicator_add(actor=staff, scheme=scheme, code="a1", name="组织建设", max_score=D(50))
    with pytest.raises(ValidationError):
        services.indicator_add(actor=staff, scheme=scheme, code="A1", name="党员管理", max_score=D(50))
    assert list(scheme.indicators.values_list("code", flat=True)) == ["A1"]


@pytest.mark.parametrize("thresholds", [[90, 90, 60], [200, 80, 60], [90, 80, 0], [60, 80, 90]])
def test_unusable_thresholds_are_refused(world, staff, thresholds):
    with pytest.raises(ValidationError, match="依次递减"):
        make_scheme(staff, world, thresholds=thresholds)


def test_the_scoring_date_lies_in_the_schemes_year(world, staff):
    with pytest.raises(ValidationError, match="考核年度"):
        make_scheme(staff, world, scoring_date=date(this_year() + 1, 1, 1))


def test_the_final_lock_waits_for_appeals_against_earlier_versions(world, towns, staff, judges, user_with_role):
    scheme, _panel = _scored(staff, world, towns, judges)
    _aggregate(staff, scheme)
    services.scheme_advance(
        actor=staff, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
    )
    first = services.appeal_file(
        actor=user_with_role(Role.SECRETARY, towns["T1"]), scheme=scheme, organization=towns["T1"], reason="偏低"
    )
    second = services.appeal_file(
        actor=user_with_role(Role.SECRETARY, towns["T2"]), scheme=scheme, organization=towns["T2"], reason="偏低"
    )
    correction = services.appeal_resolve(actor=staff, appeal=first, upheld=True, resolution="属实").correction
    _aggregate(staff, correction)
    services.scheme_advance(
        actor=staff, scheme=correction, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
    )
    Scheme.objects.filter(pk=correction.pk).update(publication_ends_on=timezone.localdate() - timedelta(days=1))
    correction.refresh_from_db()
    with pytest.raises(ValidationError, match="此前版本"):
        services.scheme_advance(actor=staff, scheme=correction, to=SchemeState.FINAL)
    # upheld now, the announced correction is corrected again
    third = services.appeal_resolve(actor=staff, appeal=second, upheld=True, resolution="属实").correction
    assert (third.version, third.previous_id) == (3, correction.pk)
    assert Appeal.objects.get(pk=second.pk).status == "upheld"


# --- the late-item deduction and the notices keep to the scoring date ------------------------------------


def test_late_items_and_notices_after_the_scoring_date_do_not_count(world, towns, staff):
    from supervision import services as supervision

    scheme = make_scheme(
        staff,
        world,
        weight_panel=0,
        weight_mass=0,
        weight_checklist=100,
        late_item_points=D(1),
        scoring_date=date(this_year(), 6, 30),
    )
    services.members_add(actor=staff, scheme=scheme, organizations=[towns["T1"]])
    template = issue_checklist(staff, world, [towns["T1"]])
    done(template, towns["T1"], range(1, 7))  # January to June on time, approved on 01-05
    from checklists.models import Occurrence

    october = Occurrence.objects.get(item__checklist__organization=towns["T1"], index=10)
    Occurrence.objects.filter(pk=october.pk).update(
        done_at=timezone.make_aware(timezone.datetime(this_year(), 11, 5, 9)), late=True
    )
    supervision.notice_issue(
        actor=staff,
        issuer=world.county_a,
        prefix="A组通字",
        year=this_year(),
        title="下半年通报",
        issued_on=date(this_year(), 9, 1),
        content="通报内容",
        entries=[{"organization": towns["T1"], "points": D(2), "reason": "会议记录不全"}],
    )
    row = aggregation.compute(scheme)[0]
    assert (row.components["checklist"], row.deducted, row.total) == (D("100.00"), D("0.00"), D("100.00"))


# --- the judge's phone sheet -------------------------------------------------------------------------------


def test_a_score_out_of_range_is_named_and_the_other_scores_are_kept(world, towns, staff, judges, client):
    scheme = make_scheme(staff, world)
    services.members_add(actor=staff, scheme=scheme, organizations=[towns["T1"]])
    i1 = services.indicator_add(actor=staff, scheme=scheme, code="I1", name="组织建设", max_score=D(40))
    i2 = services.indicator_add(actor=staff, scheme=scheme, code="I2", name="党员管理", max_score=D(15))
    panel = services.panel_add(actor=staff, scheme=scheme, name="评委团")
    services.panel_assign(actor=staff, panel=panel, judges=judges[:1], organizations=[towns["T1"]])
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)
    sheet = JudgeSheet.objects.get()
    client.force_login(judges[0])
    url = reverse("scoring:sheet", args=[sheet.pk])
    client.post(url, {f"i{i2.pk}": "12"}, HTTP_HX_REQUEST="true")
    reply = client.post(url, {f"i{i1.pk}": "30", f"i{i2.pk}": "16"}, HTTP_HX_REQUEST="true")
    assert "党员管理：分数须在 0 至 15 之间" in reply.text
    assert dict(sheet.scores.values_list("indicator", "score")) == {i1.pk: D(30), i2.pk: D(12)}
    page = client.get(url).text
    assert 'max="' not in page  # the browser does not hold back an out-of-range score unsaid


# --- pages ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "data"),
    [
        ("scheme", {"action": "remove_member", "organization": "abc"}),
        ("scheme", {"action": "remove_indicator", "indicator": "1e3"}),
        ("panel", {"action": "reopen", "sheet": "abc", "reason": "x"}),
        ("panel", {"action": "remove_judge", "judge": "abc"}),
        ("deductions", {"remove": "abc"}),
        ("appeals", {"appeal": "abc"}),
    ],
)
def test_a_hidden_id_that_is_not_a_number_is_not_found(world, towns, staff, judges, client, where, data):
    scheme, panel = _scored(staff, world, towns, judges)
    client.force_login(staff)
    urls = {
        "scheme": reverse("scoring:scheme", args=[scheme.pk]),
        "panel": reverse("scoring:panel", args=[panel.pk]),
        "deductions": reverse("scoring:deductions", args=[scheme.pk]),
        "appeals": reverse("scoring:appeals", args=[scheme.pk]),
    }
    assert client.post(urls[where], data).status_code == 404


def test_two_appeals_have_their_own_forms(world, towns, staff, judges, client, user_with_role):
    scheme, _panel = _scored(staff, world, towns, judges)
    _aggregate(staff, scheme)
    services.scheme_advance(
        actor=staff, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
    )
    appeals = [
        services.appeal_file(
            actor=user_with_role(Role.SECRETARY, towns[t]), scheme=scheme, organization=towns[t], reason="偏低"
        )
        for t in ("T1", "T2")
    ]
    client.force_login(staff)
    url = reverse("scoring:appeals", args=[scheme.pk])
    page = client.get(url).text
    assert all(f'id="id_appeal{a.pk}-upheld_0"' in page for a in appeals)
    first = appeals[0].pk
    page = client.post(url, {"appeal": first, f"appeal{first}-upheld": "no", f"appeal{first}-resolution": " "}).text
    assert page.count("请说明处理理由") == 1 or page.count("这个字段是必填项") == 1  # the error under one form only
    client.post(url, {"appeal": first, f"appeal{first}-upheld": "no", f"appeal{first}-resolution": "评分无误"})
    assert [a.status for a in Appeal.objects.order_by("pk")] == ["rejected", "pending"]


def test_an_upheld_appeal_leads_the_secretary_to_the_decision(world, towns, staff, judges, client, user_with_role):
    scheme, _panel = _scored(staff, world, towns, judges)
    _aggregate(staff, scheme)
    services.scheme_advance(
        actor=staff, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
    )
    secretary = user_with_role(Role.SECRETARY, towns["T1"])
    appeal = services.appeal_file(actor=secretary, scheme=scheme, organization=towns["T1"], reason="偏低")
    correction = services.appeal_resolve(actor=staff, appeal=appeal, upheld=True, resolution="复核属实").correction
    notice = secretary.notifications.order_by("-pk").first()
    client.force_login(secretary)
    page = client.get(notice.url)
    assert page.status_code == 200
    assert "复核属实" in page.text
    assert "已被更正" in page.text
    # once the correction is announced, its page carries the appeal against version 1
    _aggregate(staff, correction)
    services.scheme_advance(
        actor=staff, scheme=correction, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
    )
    page = client.get(reverse("scoring:explain", args=[correction.pk, "T1"])).text
    assert "针对第 1 版" in page
    assert "复核属实" in page
    assert "第 2 版" in secretary.notifications.order_by("-pk").first().title


def test_a_refused_pair_names_the_judge_not_an_organization_with_the_same_number():
    judge = SimpleNamespace(pk=7, name="评委15")
    organization = SimpleNamespace(pk=7, name="长岐镇")
    other = SimpleNamespace(pk=8, name="大山江街道")
    pairs = services.named_pairs({(7, 7): "在该组织任职"}, [judge], [organization, other])
    assert pairs == [(judge, organization, "在该组织任职")]


def test_leaders_read_deductions_panels_and_quarterly_scores_and_change_nothing(
    world, towns, staff, judges, client, user_with_role
):
    scheme, panel = _scored(staff, world, towns, judges)
    services.deduction_add(actor=staff, scheme=scheme, organization=towns["T1"], points=D(1), reason="迟报材料")
    viewer = user_with_role(Role.VIEWER, world.county_a)
    client.force_login(viewer)
    for url in (
        reverse("scoring:deductions", args=[scheme.pk]),
        reverse("scoring:panel", args=[panel.pk]),
        reverse("scoring:quarterly"),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert 'method="post"' not in page.text.split("</header>")[-1].replace('action="/accounts/logout/"', "")
    assert "迟报材料" in client.get(reverse("scoring:deductions", args=[scheme.pk])).text
    assert client.post(reverse("scoring:deductions", args=[scheme.pk]), {"remove": "1"}).status_code == 403
    posted = {"action": "reopen_organization", "organization": towns["T1"].pk, "reason": "重评"}
    assert client.post(reverse("scoring:panel", args=[panel.pk]), posted).status_code == 403
    assert client.post(reverse("scoring:quarterly"), {"organization": "T1"}).status_code == 403


def test_the_deductions_page_shows_what_the_records_gave(world, towns, staff, judges, client):
    from supervision import services as supervision

    scheme, _panel = _scored(staff, world, towns, judges, scoring_date=timezone.localdate())
    supervision.notice_issue(
        actor=staff,
        issuer=world.county_a,
        prefix="A组通字",
        year=this_year(),
        title="通报",
        issued_on=timezone.localdate(),
        content="通报内容",
        entries=[{"organization": towns["T2"], "points": D(2), "reason": "三会一课记录不全"}],
    )
    _aggregate(staff, scheme)
    client.force_login(staff)
    page = client.get(reverse("scoring:deductions", args=[scheme.pk])).text
    assert "三会一课记录不全" in page
    assert f"A组通字〔{this_year()}〕1号" in page


def test_the_panel_page_reopens_an_organizations_sheets_at_once(world, towns, staff, judges, client):
    scheme, panel = _scored(staff, world, towns, judges)
    client.force_login(staff)
    url = reverse("scoring:panel", args=[panel.pk])
    page = client.post(url, {"action": "reopen_organization", "organization": towns["T1"].pk, "reason": " "})
    assert "请说明退回原因" in page.text or "这个字段是必填项" in page.text
    client.post(url, {"action": "reopen_organization", "organization": towns["T1"].pk, "reason": "申诉成立，重新评分"})
    opened = JudgeSheet.objects.filter(scheme=scheme, status="open")
    assert set(opened.values_list("organization__code", flat=True)) == {"T1"}
    assert opened.count() == 3
    judge_page = client.get(reverse("scoring:sheet", args=[opened.first().pk]))
    assert judge_page.status_code == 404  # staff never open a judge's sheet
    client.force_login(opened.first().judge)
    assert "申诉成立，重新评分" in client.get(reverse("scoring:sheet", args=[opened.first().pk])).text


def test_the_board_shows_only_weighted_components_and_the_secretarys_own_row_first(
    world, towns, staff, judges, client, user_with_role
):
    scheme, _panel = _scored(staff, world, towns, judges)
    _aggregate(staff, scheme)
    services.scheme_advance(
        actor=staff, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
    )
    client.force_login(user_with_role(Role.SECRETARY, towns["T3"]))
    page = client.get(reverse("scoring:board", args=[scheme.pk])).text
    assert "<th>平时考核</th>" not in page  # their weights are 0
    assert "<th>责任清单</th>" not in page
    assert "<th>评委评分</th>" in page
    assert page.index("镇3</strong>") < page.index('class="table ranking"')
    printed = client.get(reverse("scoring:board", args=[scheme.pk]) + "?print=1").text
    assert "中共组织A委组织部" in printed
    assert "公示期至" in printed


def test_the_top_grade_quota_keeps_those_tied_within_it(world, towns, staff):
    rows = [aggregation.Computed(n, {}, total=D(total)) for n, total in enumerate(["95.00", "92.50", "92.50", "91"])]
    for row in rows:
        row.grade = aggregation.grade_of(row.total, [90, 80, 60])
    aggregation._quota_apply(SimpleNamespace(quota_count=2, quota_numerator=None), rows)
    assert [(row.grade, row.capped) for row in rows] == [(0, False), (0, False), (0, False), (1, True)]


def test_an_organization_typed_by_its_name_is_found(world, towns, staff, client):
    client.force_login(staff)
    page = client.post(
        reverse("scoring:quarterly"), {"organization": "镇2", "year": this_year(), "quarter": 3, "score": "88.5"}
    )
    assert page.status_code == 302
    assert "第三季度" in client.get(reverse("scoring:quarterly")).text


def test_a_secretarys_home_counts_every_organization_assessed(world, towns, staff, judges, client, user_with_role):
    scheme, _panel = _scored(staff, world, towns, judges)
    _aggregate(staff, scheme)
    services.scheme_advance(
        actor=staff, scheme=scheme, to=SchemeState.PUBLISHED, publication_ends_on=timezone.localdate()
    )
    client.force_login(user_with_role(Role.SECRETARY, towns["T1"]))
    assert "考核对象 3 个" in client.get(reverse("scoring:home")).text
