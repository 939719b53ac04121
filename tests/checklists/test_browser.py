"""The main journey in a browser, with screenshots (screenshots/checklists-*.png):
county staff issue a branch list, a village secretary claims it on a phone and records a
支委会 and a ledger entry with a photo, a town clerk reviews, the county reads progress."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.browser import new_page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "zhanjiang2026"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200


def _login(browser, live_server, username, viewport):
    page = new_page(browser, viewport)  # watched for what the Content-Security-Policy refuses
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def _shot(page, name):
    page.screenshot(path=SCREENSHOTS / f"checklists-{name}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_issue_claim_record_review_progress(live_server, browser, tmp_path):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    SCREENSHOTS.mkdir(exist_ok=True)
    photo = tmp_path / "签到表.jpg"
    photo.write_bytes(JPEG)

    # County staff copy the branch list to next year and issue it to every village of 吴川市.
    staff = _login(browser, live_server, "wc_staff", DESKTOP)
    staff.get_by_role("link", name="责任清单", exact=True).click()
    staff.get_by_role("link", name="村（社区）党组织党建责任清单").first.click()
    staff.get_by_role("button", name="复制").click()
    staff.get_by_label("下发范围").fill("440883")
    staff.get_by_label("认领时限").fill(f"{timezone.localdate().year + 1}-02-28")
    staff.get_by_role("button", name="下发", exact=True).click()
    assert staff.locator(".message", has_text="已开始下发").is_visible()
    staff.locator("#issue-run", has_text="已下发到吴川市").wait_for()
    _shot(staff, "1-issued")

    # The village secretary, on a phone, claims this year's list and records a 支委会.
    secretary = _login(browser, live_server, "village_secretary", PHONE)
    secretary.get_by_role("button", name="菜单").click()  # on a phone the menu folds behind a button
    secretary.get_by_role("link", name="责任清单", exact=True).click()
    secretary.locator("a", has_text="村（社区）党组织党建责任清单").first.click()
    from organizations.models import Person

    own_name = Person.objects.get(user__username="village_secretary").name
    secretary.locator("#id_signature").fill(own_name)  # typed, never prefilled
    secretary.get_by_role("button", name="签字认领").click()
    assert secretary.get_by_text("已认领").first.is_visible()
    _shot(secretary, "2-claimed")
    assert secretary.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    secretary.goto(f"{live_server.url}/checklists/meetings/new/?org=440883001002")
    secretary.get_by_label("会议类型").select_option(label="支委会")
    secretary.get_by_label("会议主题").fill("研究冬季党员培训安排")
    secretary.get_by_label("应到人数").fill("5")
    secretary.get_by_label("实到人数").fill("5")
    secretary.get_by_label("会议记录", exact=True).fill("一、学习上级文件；二、研究冬训安排。")
    _shot(secretary, "3-meeting-form")
    secretary.get_by_role("button", name="提交审核").click()
    assert secretary.get_by_text("研究冬季党员培训安排").first.is_visible()

    # …and a ledger entry with a photo of the sign-in sheet, for an open item.
    secretary.goto(f"{live_server.url}/checklists/")
    secretary.locator("a", has_text="村（社区）党组织党建责任清单").first.click()
    secretary.locator(".items a", has_text="党费").first.click()
    secretary.get_by_role("link", name="填报台账").first.click()
    secretary.get_by_label("工作内容").fill("收缴本月党费，党费台账已登记。")
    secretary.locator("input[type=file]").set_input_files(str(photo))
    _shot(secretary, "4-entry-form")
    secretary.get_by_role("button", name="提交审核").click()
    # Sent with a progress bar, then on to the item's page.
    secretary.get_by_text("待审核").first.wait_for()
    assert secretary.get_by_text("待审核").first.is_visible()

    # The town clerk approves the meeting and returns the entry with a comment.
    clerk = _login(browser, live_server, "ml_clerk", PHONE)
    clerk.goto(f"{live_server.url}/checklists/review/")
    _shot(clerk, "5-review-queue")
    clerk.get_by_role("link", name="研究冬季党员培训安排").first.click()
    clerk.get_by_role("button", name="审核通过").click()
    clerk.goto(f"{live_server.url}/checklists/review/")
    clerk.locator("a", has_text="党费").first.click()
    clerk.get_by_label("审核意见").fill("请补充党费收缴登记表。")
    clerk.get_by_role("button", name="退回修改").click()
    _shot(clerk, "6-returned")

    # The county reads progress by town.
    staff.goto(f"{live_server.url}/checklists/progress/?org=440883")
    assert staff.locator("#chart-completion tbody tr").count() >= 15
    _shot(staff, "7-progress")
