"""The assessment through its pages, by the right roles only; the sheets and exports."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from organizations.models import Role
from scoring.models import Indicator, JudgeSheet, QuarterlyScore, Scheme, SchemeResult, SchemeState
from spreadsheets.models import ExportJob
from spreadsheets.services import workbook_import
from tests.spreadsheets.workbooks import workbook_bytes

from .conftest import this_year

D = Decimal


@pytest.fixture
def set_up(world, towns, staff, judges, client):
    """A scheme made through the pages by county staff: organizations, indicators, a panel."""
    client.force_login(staff)
    page = client.post(
        reverse("scoring:scheme_create"),
        {
            "name": "乡镇书记抓党建考核",
            "owner": "A",
            "year": this_year(),
            "scoring_date": timezone.localdate(),
            "weight_checklist": "0",
            "weight_panel": "80",
            "weight_mass": "0",
            "weight_ordinary": "20",
            "trim_min_judges": "5",
            "quota": "1",
        },
    )
    scheme = Scheme.objects.get()
    assert page.url == reverse("scoring:scheme", args=[scheme.pk])
    url = reverse("scoring:scheme", args=[scheme.pk])
    client.post(url, {"action": "members", "members-root": "A", "members-kinds": ["town"], "members-direct": "on"})
    assert scheme.members.count() == 6  # A1, A2 of the world and T1–T4
    for code, name, maximum in (("I1", "组织建设", "60"), ("I2", "党员管理", "40")):
        data = {"indicator-code": code, "indicator-name": name, "indicator-max_score": maximum}
        client.post(url, {"action": "indicator", **data})
    client.post(url, {"action": "panel", "panel-name": "评委团"})
    panel = scheme.panels.get()
    client.post(
        reverse("scoring:panel", args=[panel.pk]),
        {"action": "assign", "judges": [j.pk for j in judges[:3]], "organizations": [t.pk for t in towns.values()]},
    )
    assert JudgeSheet.objects.filter(scheme=scheme).count() == 12
    return scheme, panel


def test_strangers_and_judges_reach_only_what_is_theirs(set_up, world, judges, client, user_with_role):
    scheme, panel = set_up
    staff_b = user_with_role(Role.STAFF, world.county_b)
    client.force_login(staff_b)
    for url in [
        reverse("scoring:scheme", args=[scheme.pk]),
        reverse("scoring:board", args=[scheme.pk]),
        reverse("scoring:panel", args=[panel.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    sheet = JudgeSheet.objects.filter(scheme=scheme, judge=judges[0]).first()
    client.force_login(judges[1])
    assert client.get(reverse("scoring:sheet", args=[sheet.pk])).status_code == 404
    assert client.post(reverse("scoring:sheet", args=[sheet.pk]), {"action": "save"}).status_code == 404
    leader = user_with_role(Role.VIEWER, world.city)
    client.force_login(leader)
    assert client.get(reverse("scoring:scheme", args=[scheme.pk])).status_code == 200
    assert client.post(reverse("scoring:aggregate", args=[scheme.pk])).status_code == 403
    assert (
        client.post(reverse("scoring:scheme", args=[scheme.pk]), {"action": "panel", "panel-name": "x"}).status_code
        == 403
    )


def test_judging_aggregating_announcing_appealing(
    set_up, towns, judges, staff, client, user_with_role, django_capture_on_commit_callbacks
):
    scheme, _panel = set_up
    advance = reverse("scoring:advance", args=[scheme.pk])
    client.post(advance, {"to": "scoring"})
    assert Scheme.objects.get().state == SchemeState.SCORING
    i1, i2 = scheme.indicators.order_by("position")
    # a judge on a phone: a draft saved by itself (htmx), a score outside the range refused, submit
    for judge in judges[:3]:
        client.force_login(judge)
        for sheet in JudgeSheet.objects.filter(scheme=scheme, judge=judge).select_related("organization"):
            url = reverse("scoring:sheet", args=[sheet.pk])
            value = 40 + int(sheet.organization.code[1]) * 4  # T1 44 … T4 56
            reply = client.post(url, {f"i{i1.pk}": "61", f"i{i2.pk}": "30"}, HTTP_HX_REQUEST="true")
            assert "组织建设：分数须在 0 至 60 之间" in reply.text  # the indicator named
            assert list(sheet.scores.values_list("indicator", "score")) == [(i2.pk, D(30))]  # the valid one kept
            client.post(url, {f"i{i1.pk}": str(value)}, HTTP_HX_REQUEST="true")
            assert sheet.scores.get(indicator=i1).score == value
            client.post(url, {f"i{i1.pk}": str(value), f"i{i2.pk}": "30", "action": "submit"})
    assert JudgeSheet.objects.filter(scheme=scheme, status="submitted").count() == 12
    # quarterly assessments for T1: 80 and 90 → 85
    client.force_login(staff)
    for quarter, score in ((1, "80"), (2, "90")):
        client.post(
            reverse("scoring:quarterly"),
            {"organization": "T1", "year": this_year(), "quarter": quarter, "score": score},
        )
    assert QuarterlyScore.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("scoring:aggregate", args=[scheme.pk]))
    results = {r.organization.code: r for r in SchemeResult.objects.select_related("organization")}
    # T1: panel (44 + 30)/100×100 = 74.00, quarterly 85 → (80×74 + 20×85)/100 = 76.20
    assert (results["T1"].panel, results["T1"].ordinary, results["T1"].total) == (D("74.00"), D("85.00"), D("76.20"))
    # T4: panel 86.00, no quarterly → panel alone
    assert (results["T4"].total, results["T4"].rank, results["T4"].grade) == (D("86.00"), 1, 1)
    assert (results["A1"].panel, results["A1"].weights) == (None, {})  # in the scheme, scored by no panel
    page = client.post(
        reverse("scoring:scheme", args=[scheme.pk]),
        {"action": "publish", "publish-publication_ends_on": timezone.localdate() + timedelta(days=5)},
    )
    assert Scheme.objects.get().state == SchemeState.PUBLISHED
    # the secretary of T2 sees the board and T2's explanation, not T1's, and appeals
    secretary = user_with_role(Role.SECRETARY, towns["T2"])
    client.force_login(secretary)
    assert client.get(reverse("scoring:board", args=[scheme.pk])).status_code == 200
    assert client.get(reverse("scoring:explain", args=[scheme.pk, "T1"])).status_code == 404
    explain = reverse("scoring:explain", args=[scheme.pk, "T2"])
    page = client.get(explain)
    assert "评委 1" in page.text
    assert judges[0].full_name not in page.text
    client.post(explain, {"reason": "组织建设一项评分偏低"})
    appeal = scheme.appeals.get()
    client.force_login(staff)
    page = client.post(
        reverse("scoring:appeals", args=[scheme.pk]),
        {"appeal": appeal.pk, f"appeal{appeal.pk}-upheld": "yes", f"appeal{appeal.pk}-resolution": "复核属实"},
    )
    correction = Scheme.objects.get(version=2)
    assert page.url == reverse("scoring:scheme", args=[correction.pk])
    assert Scheme.objects.get(version=1).state == SchemeState.SUPERSEDED


def test_indicators_and_paper_scores_come_in_through_the_scheme_page(set_up, judges, staff, client):
    scheme, _panel = set_up
    rows = [
        ["指标编码", "指标名称", "满分", "评分标准"],
        ["I3", "阵地建设", "20", "每缺一项扣2分"],
        ["I1", "组织建设", "60", "改"],
    ]
    plans, errors = workbook_import(workbook_bytes({"考核指标": rows}), user=staff, dry_run=False)
    assert errors[0]["message"].startswith("工作表“考核指标”请在")
    plans, errors = workbook_import(
        workbook_bytes({"考核指标": rows}), user=staff, dry_run=False, target={"scheme": scheme.pk}
    )
    assert errors == []
    assert (plans[0]["created"], plans[0]["updated"]) == (1, 1)
    assert Indicator.objects.get(scheme=scheme, code="I1").guide == "改"
    # the upload page of the scheme starts an import job that knows its scheme
    page = client.post(
        reverse("scoring:upload", args=[scheme.pk, "indicators"]),
        {"file": _named(workbook_bytes({"考核指标": rows}))},
    )
    assert "/excel/" in page.url
    client.post(reverse("scoring:advance", args=[scheme.pk]), {"to": "scoring"})
    judge = judges[0]
    score_rows = [["评委", "组织编码", "指标编码", "得分"]] + [
        [judge.full_name, "T1", code, value] for code, value in (("I1", "50"), ("I2", "30"), ("I3", "15"))
    ]
    score_rows.append([judge.full_name, "T9", "I1", "1"])
    plans, errors = workbook_import(
        workbook_bytes({"评委评分": score_rows}), user=staff, dry_run=False, target={"scheme": scheme.pk}
    )
    assert [e["column"] for e in errors] == ["评委"]  # T9 is nobody's assignment; nothing written
    plans, errors = workbook_import(
        workbook_bytes({"评委评分": score_rows[:-1]}), user=staff, dry_run=False, target={"scheme": scheme.pk}
    )
    assert errors == []
    sheet = JudgeSheet.objects.get(scheme=scheme, judge=judge, organization__code="T1")
    assert (sheet.status, sheet.scores.count()) == ("submitted", 3)


def _named(buffer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        "考核指标.xlsx", buffer.read(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def test_quarterly_sheet_and_the_exports(
    set_up, staff, judges, towns, client, django_capture_on_commit_callbacks, tmp_path
):
    scheme, _panel = set_up
    rows = [["组织编码", "年度", "季度", "得分"], ["T1", this_year(), "1", "88"], ["T2", this_year(), "5", "90"]]
    _plans, errors = workbook_import(workbook_bytes({"平时考核": rows}), user=staff, dry_run=False)
    assert [e["column"] for e in errors] == ["季度"]
    _plans, errors = workbook_import(workbook_bytes({"平时考核": rows[:2]}), user=staff, dry_run=False)
    assert QuarterlyScore.objects.get().score == D(88)
    from scoring import services

    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)
    for sheet in JudgeSheet.objects.filter(scheme=scheme):
        services.sheet_save(actor=sheet.judge, sheet=sheet, scores={i.pk: D(30) for i in scheme.indicators.all()})
        services.sheet_submit(actor=sheet.judge, sheet=sheet)
    run = services.aggregation_start(actor=staff, scheme=scheme)
    services.aggregation_run(run_id=run.pk)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        for kind in ("scheme_results", "panel_scores", "judge_statistics"):
            client.post(reverse("spreadsheets:export_create"), {"kind": kind, "scheme": scheme.pk})
        client.post(reverse("spreadsheets:export_create"), {"kind": "projects", "org": "A", "year": this_year()})
    jobs = {job.kind: job for job in ExportJob.objects.all()}
    ranking = list(load_workbook(io.BytesIO(jobs["scheme_results"].file.read())).active.values)
    assert ranking[0] == (
        "排名",
        "组织编码",
        "组织名称",
        "清单完成",
        "评委评分",
        "群众评议",
        "平时考核",
        "扣分",
        "总分",
        "等次",
    )
    assert len(ranking) == 1 + 6
    scores = list(load_workbook(io.BytesIO(jobs["panel_scores"].file.read())).active.values)
    assert len(scores) == 1 + 3 * 4 * 2
    stats = list(load_workbook(io.BytesIO(jobs["judge_statistics"].file.read())).active.values)
    assert [row[1] for row in stats[1:]] == [8, 8, 8]
    assert jobs["projects"].status == "done"
    # the same export from the command line, by the scheme's id
    from django.core.management import CommandError, call_command

    out = tmp_path / "results.xlsx"
    call_command("export_workbook", "scheme_results", "--scheme", str(scheme.pk), "--out", str(out))
    assert list(load_workbook(out).active.values) == ranking
    with pytest.raises(CommandError, match="no assessment scheme"):
        call_command("export_workbook", "scheme_results", "--scheme", "999999", "--out", str(out))
