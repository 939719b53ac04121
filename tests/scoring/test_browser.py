"""The whole year-end assessment in a browser, each step by its own role, with a real Celery
worker doing the aggregation (screenshots/scoring-*.png): set up, assign (a conflicting judge
refused), score on a phone, aggregate, announce, appeal, correct, aggregate again, lock."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from scoring import services
from scoring.models import JudgeSheet, Scheme, SchemeState
from tests.browser import DESKTOP, PHONE, fits, login, shot


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_year_end_assessment(live_server, browser, celery_worker_running):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    base = live_server.url
    name = "吴川市乡镇党委书记抓党建述职考核（演练）"

    # 1. county staff set up a scheme: the 15 towns, two indicators, a panel of three judges
    staff = login(browser, live_server, "wc_staff", DESKTOP)
    staff.goto(f"{base}/scoring/new/")
    staff.locator("#id_name").fill(name)
    staff.locator("#id_owner").fill("440883")
    staff.locator("#id_weight_checklist").fill("50")
    staff.locator("#id_weight_panel").fill("50")
    staff.locator("#id_weight_mass").fill("0")
    staff.locator("#id_quota").fill("2")
    staff.get_by_role("button", name="保存").click()
    scheme = Scheme.objects.get(name=name)
    staff.locator("summary", has_text="添加考核对象").click()
    staff.locator("#id_members-root").fill("440883")
    staff.get_by_role("button", name="添加", exact=True).first.click()
    assert scheme.members.count() == 15
    for code, title, maximum in (("Z1", "抓班子带队伍", "60"), ("Z2", "抓基层打基础", "40")):
        staff.locator("summary", has_text="添加指标").click()
        staff.locator("#id_indicator-code").fill(code)
        staff.locator("#id_indicator-name").fill(title)
        staff.locator("#id_indicator-max_score").fill(maximum)
        staff.locator("button[value=indicator]").click()
    staff.locator("summary", has_text="添加评委团").click()
    staff.locator("#id_panel-name").fill("大评委团")
    staff.locator("button[value=panel]").click()
    staff.get_by_role("link", name="大评委团").click()
    for judge in ("吴川市评委", "吴川市评委02", "吴川市评委15"):
        staff.get_by_label(judge, exact=True).check()
    for town in ("梅录街道", "长岐镇", "浅水镇"):
        staff.get_by_label(town, exact=True).check()
    staff.get_by_role("button", name="分配").click()
    assert staff.locator(".card.warn").is_visible()  # 评委15 holds a post at 长岐镇: refused
    assert "长岐镇" in staff.locator(".card.warn").inner_text()
    shot(staff, "scoring-1-conflict-refused")
    staff.goto(f"{base}/scoring/{scheme.pk}/")
    staff.get_by_role("button", name="开始评分").click()
    assert Scheme.objects.get(pk=scheme.pk).state == SchemeState.SCORING

    # 2. a judge scores on a phone: saved as typed, then submitted
    judge = login(browser, live_server, "wc_judge", PHONE)
    judge.goto(f"{base}/scoring/sheets/")
    judge.get_by_role("link", name="梅录街道").click()
    judge.locator(".rating input").nth(0).fill("52")
    judge.locator(".rating input").nth(0).blur()
    judge.locator("#saved", has_text="已保存").wait_for()
    judge.locator(".rating input").nth(1).fill("35")
    judge.locator(".rating input").nth(1).blur()
    assert fits(judge)
    shot(judge, "scoring-2-judge-sheet-phone")
    judge.once("dialog", lambda dialog: dialog.accept())
    judge.get_by_role("button", name="提交").click()
    assert "已提交" in judge.locator(".message").inner_text()
    # the other sheets, scored on paper and imported
    indicators = list(scheme.indicators.order_by("position"))
    for n, sheet in enumerate(JudgeSheet.objects.filter(scheme=scheme, status="open")):
        services.sheet_import(
            actor=sheet.judge, sheet=sheet, scores=[(indicators[0], Decimal(40 + n)), (indicators[1], Decimal(30))]
        )

    # 3. the aggregation runs on the real worker; the page follows its progress
    staff.goto(f"{base}/scoring/{scheme.pk}/")
    staff.get_by_role("button", name="汇总年终结果").click()
    staff.locator("#run", has_text="汇总于").wait_for(timeout=30000)
    staff.get_by_role("link", name="排名榜").first.click()
    shot(staff, "scoring-3-ranking-board")
    staff.goto(f"{base}/scoring/{scheme.pk}/")
    staff.locator("summary", has_text="公示结果").click()
    staff.locator("#id_publish-publication_ends_on").fill(str(timezone.localdate() + timedelta(days=5)))
    staff.get_by_role("button", name="公示", exact=True).click()
    assert Scheme.objects.get(pk=scheme.pk).state == SchemeState.PUBLISHED

    # 4. 梅录街道's secretary reads why, on a phone, and appeals
    secretary = login(browser, live_server, "ml_secretary", PHONE)
    secretary.goto(f"{base}/scoring/{scheme.pk}/organizations/440883001/")
    assert "评委 1" in secretary.content()
    secretary.locator("summary", has_text="申诉").click()
    secretary.locator("#id_reason").fill("“抓基层打基础”评分未体现我街道阵地建设成效，申请复核。")
    secretary.get_by_role("button", name="提交申诉").click()
    assert fits(secretary)
    shot(secretary, "scoring-4-explanation-appeal-phone")

    # 5. staff uphold it: a corrected version, aggregated again, announced, then locked
    staff.goto(f"{base}/scoring/{scheme.pk}/appeals/")
    staff.get_by_label("申诉成立：更正结果").check()
    staff.locator('textarea[name$="-resolution"]').fill("复核属实，评委评分重新核定。")
    staff.get_by_role("button", name="决定").click()
    corrected = Scheme.objects.get(previous=scheme)
    assert "第 2 版" in staff.locator("h1").inner_text()
    staff.get_by_role("button", name="汇总年终结果").click()
    staff.locator("summary", has_text="公示结果").wait_for(timeout=30000)  # the page refreshes when done
    staff.locator("summary", has_text="公示结果").click()
    staff.locator("#id_publish-publication_ends_on").fill(str(timezone.localdate()))
    staff.get_by_role("button", name="公示", exact=True).click()
    # the announcement period ends (the test moves it back a day instead of waiting a day)
    Scheme.objects.filter(pk=corrected.pk).update(publication_ends_on=timezone.localdate() - timedelta(days=1))
    staff.reload()
    staff.get_by_role("button", name="定稿").click()
    assert Scheme.objects.get(pk=corrected.pk).state == SchemeState.FINAL
    assert Scheme.objects.get(pk=scheme.pk).state == SchemeState.SUPERSEDED
    shot(staff, "scoring-5-final")
    staff.goto(f"{base}/scoring/{corrected.pk}/board/?print=1")
    staff.emulate_media(media="print")
    shot(staff, "scoring-6-board-print")
