"""The demo on a 360×640 phone and a 1366×768 desktop (issue 14 point 6, issue 11 points 17–20):
the menu folds behind a button, every target is at least 44 px high, no page is wider than
the screen, photos show as previews, and a file too big is refused before it is sent.
Screenshots: screenshots/phone-*.png and screenshots/desktop-*.png."""

import pytest
from django.core.management import call_command

from checklists.models import ChecklistItem, Occurrence
from supervision.models import Problem
from tests.browser import SCREENSHOTS, login

PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1366, "height": 768}

# Every control a finger taps, and links that are a row or a cell of their own; links inside
# sentences are exempt (WCAG 2.5.8). A control inside a label counts with its label.
SMALL_TARGETS = """() => {
  const selector = "button, input:not([type=hidden]), select, textarea, summary, .menu a, a.button,"
    + " li > a, td > a, .breadcrumbs a";
  const small = [];
  for (const element of document.querySelectorAll(selector)) {
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(element).visibility === "hidden") continue;
    const label = element.closest("label");
    const height = Math.max(box.height, label ? label.getBoundingClientRect().height : 0);
    const text = (element.textContent || element.name || "").trim().slice(0, 20);
    if (height < 43.5) small.push(`${element.tagName.toLowerCase()} «${text}» ${Math.round(height)}px`);
  }
  return small;
}"""


def _check(page, name, *, phone):
    page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{'phone' if phone else 'desktop'}-{name}.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{name} is {width} px wide"
    if phone:
        assert page.evaluate(SMALL_TARGETS) == [], name


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_demo_on_a_phone_and_a_desktop(live_server, browser, tmp_path):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    item = ChecklistItem.objects.filter(checklist__organization__code="440883001002").order_by("pk").first()
    occurrence = Occurrence.objects.filter(item=item).order_by("index").first()
    problem = Problem.objects.filter(organization__code="440883001002").first() or Problem.objects.first()

    # The village secretary on a phone: the menu is one button until tapped.
    secretary = login(browser, live_server, "village_secretary", PHONE)
    assert not secretary.locator("#main-menu").is_visible()
    _check(secretary, "1-home", phone=True)
    secretary.get_by_role("button", name="菜单").click()
    assert secretary.get_by_role("link", name="责任清单", exact=True).is_visible()
    _check(secretary, "2-menu-open", phone=True)
    for name, path in [
        ("3-checklists", "/checklists/"),
        ("4-checklist", f"/checklists/{item.checklist_id}/"),
        ("5-item", f"/checklists/items/{item.pk}/"),
        ("6-meeting-form", "/checklists/meetings/new/?org=440883001002"),
        ("7-problems", "/problems/"),
        ("8-problem", f"/problems/{problem.pk}/"),
        ("9-inbox", "/inbox/"),
    ]:
        secretary.goto(f"{live_server.url}{path}")
        _check(secretary, name, phone=True)

    # A 21 MB photo is refused in the browser, before anything is sent; the entry form keeps it.
    secretary.goto(f"{live_server.url}/checklists/occurrences/{occurrence.pk}/entries/new/")
    big = tmp_path / "大照片.jpg"
    big.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * (21 * 1024 * 1024))
    secretary.get_by_label("工作内容").fill("召开支委会")
    secretary.locator("input[type=file]").set_input_files(str(big))
    refusal = secretary.locator(".file-problems").inner_text()
    assert "大照片.jpg" in refusal
    assert "20 MB" in refusal
    sent = []
    secretary.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    secretary.get_by_role("button", name="提交审核").click()
    assert sent == []
    assert secretary.get_by_label("工作内容").input_value() == "召开支委会"
    _check(secretary, "10-entry-too-big", phone=True)

    # The town clerk reviews on a phone: the queue names each village with its town.
    clerk = login(browser, live_server, "ml_clerk", PHONE)
    clerk.goto(f"{live_server.url}/checklists/review/")
    _check(clerk, "11-review-queue", phone=True)
    assert clerk.locator(".list a", has_text="（梅录街道）").count() > 0
    clerk.locator(".list a", has_text="（梅录街道）").first.click()
    _check(clerk, "12-entry", phone=True)

    # County staff on a desktop: the board, a problem, the review queue, progress.
    staff = login(browser, live_server, "wc_staff", DESKTOP)
    assert staff.locator("#main-menu").is_visible()
    assert not staff.get_by_role("button", name="菜单").is_visible()
    for name, path in [
        ("1-home", "/"),
        ("2-review-queue", "/checklists/review/"),
        ("3-board", "/problems/?org=440883"),
        ("4-problem", f"/problems/{problem.pk}/"),
        ("5-progress", "/checklists/progress/?org=440883"),
        ("6-template-form", "/checklists/templates/new/"),
    ]:
        staff.goto(f"{live_server.url}{path}")
        _check(staff, name, phone=False)
