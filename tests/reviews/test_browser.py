"""A whole 述职评议 meeting in a browser, each step by its own role, with screenshots
(screenshots/reviews-*.png): pre-report check, slips and forms printed, phones voting (one code
tried twice), a paper count entered twice (once with a mismatch), the live tally, 点评 with a
listed problem, closing, results, consequences, and the reportee's own result on a phone."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from organizations.models import Organization, PostTitle, User
from reviews import services
from reviews.models import GradeSet, Level, Reportee, ReviewSession, State
from tests.browser import DESKTOP, PHONE, fits, login, new_page, shot


def _meeting():
    """梅录街道 reviews its villages' secretaries: one venue, 街道干部 by phone (3 expected) and
    村民代表 on paper (5 expected); set up and in its pre-report check, nothing checked yet."""
    staff = User.objects.get(username="wc_staff")
    meilu = Organization.objects.get(code="440883001")
    today = timezone.localdate()
    session = services.session_create(
        actor=staff,
        organizer=meilu,
        year=today.year,
        title="梅录街道村党组织书记述职评议（测试）",
        level=Level.VILLAGE_SECRETARIES,
        starts_on=today,
        ends_on=today,
        grade_set=GradeSet.CADRE,
    )
    venue = services.venue_add(actor=staff, session=session, name="街道会场", organization=meilu, held_on=today)
    services.group_add(actor=staff, venue=venue, name="街道干部", weight=Decimal(50), expected=3)
    services.group_add(actor=staff, venue=venue, name="村民代表", weight=Decimal(50), expected=5)
    services.reportees_add(
        actor=staff,
        session=session,
        organizations=Organization.objects.filter(code__in=["440883001002", "440883001003"]),
        titles=[PostTitle.SECRETARY],
        venues=[venue],
    )
    services.session_advance(actor=staff, session=session, to=State.PRE_CHECK)
    return session, venue


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_whole_meeting(live_server, browser):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    session, venue = _meeting()
    own = Reportee.objects.get(session=session, organization__code="440883001002")  # village_secretary
    other = Reportee.objects.get(session=session, organization__code="440883001003")
    base = live_server.url

    # 1. county staff: the pre-report check beside the platform's records, then open the rating
    staff = login(browser, live_server, "wc_staff", DESKTOP)
    staff.goto(f"{base}/reviews/{session.pk}/precheck/")
    shot(staff, "reviews-1-precheck")
    for reportee, verdict in ((own, "consistent"), (other, "partly")):
        staff.goto(f"{base}/reviews/reportees/{reportee.pk}/")
        staff.locator(f"input[name=verdict][value={verdict}]").check()
        if verdict == "partly":
            staff.locator("#id_notes").fill("报告称按月召开支委会，平台记录有2个月逾期。")
        staff.get_by_role("button", name="记录核查结论").click()
    staff.goto(f"{base}/reviews/{session.pk}/")
    staff.get_by_role("button", name="开始测评").click()
    assert "测评进行中" in staff.locator("h1 .tag").inner_text()
    shot(staff, "reviews-2-open")

    # 2. slips with QR codes and the paper 测评表, printed
    staff.goto(f"{base}/reviews/venues/{venue.pk}/form/")
    staff.emulate_media(media="print")
    shot(staff, "reviews-3-rating-form-print")
    staff.emulate_media(media="screen")
    staff.goto(f"{base}/reviews/venues/{venue.pk}/")
    with staff.expect_popup() as popup:
        staff.locator("form[action$='/codes/'] button").first.click()
    slips = popup.value
    slips.wait_for_load_state()
    shot(slips, "reviews-4-slips")
    codes = re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", slips.locator(".slips").inner_text())
    assert len(codes) == 3

    # 3. raters on phones: the first scans (the code arrives after '#'), the others type it
    for index, code in enumerate(codes):
        rater = new_page(browser, PHONE)
        if index == 0:
            rater.goto(f"{base}/vote/#{code}")
            assert rater.locator("#id_code").input_value() == code
            assert "#" not in rater.url  # dropped from the address bar
            shot(rater, "reviews-5-phone-code")
        else:
            rater.goto(f"{base}/vote/")
            rater.locator("#id_code").fill(code.lower().replace("-", " "))
        rater.get_by_role("button", name="下一步").click()
        rater.locator(f"input[name=r{own.pk}_grade][value='{index % 2}']").check()
        rater.locator(f"input[name=r{other.pk}_grade][value='3']").check()
        if index == 0:
            assert fits(rater)
            shot(rater, "reviews-6-phone-ballot")
        rater.get_by_role("button", name="提交测评票").click()
        assert "已提交" in rater.locator("h1").inner_text()
    again = new_page(browser, PHONE)
    again.goto(f"{base}/vote/")
    again.locator("#id_code").fill(codes[0])
    again.get_by_role("button", name="下一步").click()
    assert "已被使用" in again.locator(".message.error").inner_text()
    shot(again, "reviews-7-code-used")

    # 4. the paper count of 村民代表, entered by two tellers; the second first types one cell wrong
    group = venue.groups.get(name="村民代表")
    header = {"teller": "林芳", "present": "5", "issued": "5", "collected": "5", "valid": "5", "invalid": "0"}

    def enter(page, number, teller, own_competent):
        page.goto(f"{base}/reviews/groups/{group.pk}/paper/{number}/")
        for name, value in {**header, "teller": teller}.items():
            page.locator(f"#id_{name}").fill(value)
        page.locator(f"input[name=r{own.pk}_grade_0]").fill(str(5 - own_competent))
        page.locator(f"input[name=r{own.pk}_grade_1]").fill(str(own_competent))
        page.locator(f"input[name=r{other.pk}_grade_3]").fill("5")
        page.get_by_role("button", name="保存本次录入").click()

    enter(staff, 1, "林芳", 2)
    second = login(browser, live_server, "zj_staff", DESKTOP)
    enter(second, 2, "陈静", 3)
    assert second.locator(".card.warn").is_visible()
    shot(second, "reviews-8-paper-mismatch")
    enter(second, 2, "陈静", 2)
    assert "已确认" in second.locator(".message").first.inner_text()

    # 5. the big screen: ballots in per group, no result while rating is open
    screen = login(browser, live_server, "zj_viewer", {"width": 1366, "height": 768})
    screen.goto(f"{base}/reviews/venues/{venue.pk}/live/")
    assert "3</strong> / 3" in screen.content()
    assert "称职" not in screen.locator(".bigscreen").inner_text()
    shot(screen, "reviews-9-live-tally")

    # 6. 点评 with one point listed as a problem
    staff.goto(f"{base}/reviews/reportees/{other.pk}/")
    staff.locator("summary", has_text="记录点评").click()
    staff.locator("#id_commented_by").fill("梅录街道党工委书记")
    staff.locator("#id_comment").fill("组织生活不经常，台账不规范。")
    staff.locator("#id_problem").fill("述职评议点评：支委会未按月召开")
    staff.locator("#id_category").fill("组织生活")
    staff.locator("#id_deadline").fill(str(timezone.localdate().replace(day=28)))
    staff.get_by_role("button", name="保存点评").click()
    assert staff.locator("a", has_text="支委会未按月召开").is_visible()
    shot(staff, "reviews-10-comment-problem")

    # 7. close, results, publish, consequences
    staff.goto(f"{base}/reviews/{session.pk}/")
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.get_by_role("button", name="结束测评").click()
    staff.goto(f"{base}/reviews/{session.pk}/results/")
    assert "不称职" in staff.locator("main").inner_text()
    shot(staff, "reviews-11-results")
    staff.goto(f"{base}/reviews/{session.pk}/")
    staff.get_by_role("button", name="公布结果").click()
    assert ReviewSession.objects.get(pk=session.pk).state == State.PUBLISHED
    staff.goto(f"{base}/reviews/{session.pk}/consequences/")
    assert "不得享受绩效补贴" in staff.locator("main").inner_text()
    shot(staff, "reviews-12-consequences")
    staff.goto(f"{base}/reviews/{session.pk}/results/print/")
    staff.emulate_media(media="print")
    shot(staff, "reviews-13-announcement-print")

    # 8. the reportee, on a phone, sees his own result and nobody else's
    secretary = login(browser, live_server, "village_secretary", PHONE)
    secretary.goto(f"{base}/reviews/mine/")
    text = secretary.locator("main").inner_text()
    assert own.person.name in text or "称职" in text
    assert other.person.name not in text
    assert fits(secretary)
    shot(secretary, "reviews-14-my-result")
