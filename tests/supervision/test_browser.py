"""The 挂牌销号 cycle in a browser, with screenshots (screenshots/problems-*.png)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.browser import new_page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _login(browser, live_server, username, viewport):
    page = new_page(browser, viewport)  # watched for what the Content-Security-Policy refuses
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("zhanjiang2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_list_claim_rectify_close(live_server, browser):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    SCREENSHOTS.mkdir(exist_ok=True)

    supervisor = _login(browser, live_server, "wc_supervisor", DESKTOP)
    supervisor.goto(f"{live_server.url}/problems/?org=440883")
    supervisor.screenshot(path=SCREENSHOTS / "problems-1-board.png", full_page=True)
    supervisor.goto(f"{live_server.url}/problems/new/?org=440883001002")
    supervisor.locator("#id_category").fill("阵地建设")
    supervisor.locator("#id_description").fill("村党群服务中心未按时开放")
    from organizations.models import Person

    supervisor.locator("#id_responsible_person").fill(Person.objects.get(user__username="village_secretary").name)
    supervisor.locator("#id_deadline").fill(str(timezone.localdate() + timedelta(days=60)))
    supervisor.get_by_role("button", name="挂牌", exact=True).click()
    problem_url = supervisor.url
    assert "/problems/" in problem_url

    secretary = _login(browser, live_server, "village_secretary", PHONE)
    secretary.goto(problem_url)
    secretary.get_by_role("button", name="签收问题").click()
    secretary.locator("summary", has_text="整改方案").click()
    secretary.locator("#id_measures").fill("明确值班人员，公示开放时间。")
    secretary.locator("#id_person").fill("邓平")
    secretary.locator("#id_deadline").fill(str(timezone.localdate() + timedelta(days=50)))
    secretary.locator("button[value=plan]").click()
    secretary.locator("summary", has_text="记录整改进展").click()
    secretary.locator("#id_content").fill("已安排专人值班。")
    secretary.locator("button[value=record]").click()
    secretary.locator("summary", has_text="申请销号").click()
    secretary.locator("#id_report").fill("已公示开放时间，安排专人值班。")
    secretary.locator("button[value=request_closing]").click()
    secretary.screenshot(path=SCREENSHOTS / "problems-2-closing-requested.png", full_page=True)
    assert secretary.locator("h1 .tag").inner_text() == "已申请销号"

    supervisor.goto(problem_url)
    supervisor.locator("summary", has_text="核查").click()
    supervisor.locator("button[value=close]").click()
    assert supervisor.locator("h1 .tag").inner_text() == "已销号"
    supervisor.screenshot(path=SCREENSHOTS / "problems-3-closed.png", full_page=True)
    supervisor.goto(problem_url + "print/")
    supervisor.screenshot(path=SCREENSHOTS / "problems-4-handover-notice.png", full_page=True)
