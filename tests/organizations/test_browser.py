"""County staff on a phone: log in, open the organization tree in Chinese, expand a county."""

from pathlib import Path

import pytest
from django.core.management import call_command

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PHONE = {"width": 390, "height": 844}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_county_staff_opens_the_tree_on_a_phone(live_server, page):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    SCREENSHOTS.mkdir(exist_ok=True)
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/login/")
    assert page.locator("h1").inner_text() == "登录"
    page.screenshot(path=SCREENSHOTS / "login-phone.png")
    page.get_by_label("用户名").fill("wc_staff")
    page.get_by_label("密码").fill("zhanjiang2026")
    page.get_by_role("button", name="登录").click()

    page.get_by_role("button", name="菜单").click()  # on a phone the menu folds behind a button
    page.get_by_role("link", name="组织架构").click()
    page.wait_for_url("**/orgs/")
    assert page.locator("h1").inner_text() == "组织架构"
    # The county is shown opened; a town opens on a tap and its villages load (HTMX).
    assert page.get_by_role("link", name="梅录街道").is_visible()
    town = page.locator('details:has(> summary > a:text-is("长岐镇"))')
    town.locator("summary .muted").click()
    town.locator("ul.tree li.node").first.wait_for()
    assert town.locator("ul.tree li.node").count() == 4
    assert page.get_by_role("link", name="兰石镇").is_visible()
    # Staff of 吴川市 see neither the city above nor a neighbouring county.
    assert page.get_by_text("遂溪县").count() == 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    page.screenshot(path=SCREENSHOTS / "tree-phone.png", full_page=True)

    page.get_by_role("link", name="梅录街道").click()
    page.get_by_role("heading", name="梅录街道").wait_for()
    assert page.get_by_text("班子成员").is_visible()
    page.screenshot(path=SCREENSHOTS / "town-phone.png", full_page=True)
