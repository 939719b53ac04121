"""Every print view on A4 through Chromium's print-to-PDF (issue 14, point 5): the page in
print media is no wider than an A4 sheet's printable width, and the PDF is kept, with a PNG
of its first page where pdftoppm is installed (screenshots/print-*.pdf, *.png): look at them.
The code slips are left out: they exist only as the answer of the POST that generates them."""

import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.browser import SCREENSHOTS, login

# A4 is 210 mm wide: 794 CSS px; Chromium's default print margins take about 0.4 in each side.
A4_PRINTABLE = {"width": 718, "height": 1040}


def _print_views():
    from checklists.models import Checklist
    from reviews.models import ReviewSession, Venue
    from scoring.models import Scheme, SchemeResult
    from supervision.models import Extension, Notice, Problem

    checklist = Checklist.objects.filter(claimed_at__isnull=False, organization__path__contains="/440883/").first()
    extension = Extension.objects.exclude(decision="pending").first() or Extension.objects.first()
    problem = extension.problem if extension else Problem.objects.first()
    scheme = Scheme.objects.filter(pk__in=SchemeResult.objects.values("scheme")).first()
    session = ReviewSession.objects.filter(organizer__code__startswith="440883").first()
    venue = Venue.objects.filter(session=session).first()
    views = {
        "checklist": reverse("checklists:checklist_print", args=[checklist.pk]),
        "extension": reverse("supervision:extension_print", args=[extension.pk]),
        "board": reverse("supervision:board") + "?org=440883&print=1",
        "handover": reverse("supervision:problem_print", args=[problem.pk]),
        "notice": reverse("supervision:notice", args=[Notice.objects.first().pk]),
        "scoring-board": reverse("scoring:board", args=[scheme.pk]) + "?print=1",
        "review-results": reverse("reviews:results_print", args=[session.pk]),
        "review-form": reverse("reviews:form_print", args=[venue.pk]),
        "review-tally": reverse("reviews:tally_print", args=[venue.pk]),
    }
    return views


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_print_view_fits_an_a4_sheet(live_server, browser):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    SCREENSHOTS.mkdir(exist_ok=True)
    page = login(browser, live_server, "wc_staff", A4_PRINTABLE)
    page.emulate_media(media="print")
    too_wide, failed = {}, {}
    for name, url in _print_views().items():
        response = page.goto(f"{live_server.url}{url}")
        if response.status != 200:
            failed[name] = response.status
            continue
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > A4_PRINTABLE["width"]:
            too_wide[name] = width
        pdf = SCREENSHOTS / f"print-{name}.pdf"
        content = page.pdf(path=pdf, format="A4", print_background=True)
        assert content.startswith(b"%PDF")
        if shutil.which("pdftoppm"):
            subprocess.run(
                ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, pdf.with_suffix("")],
                check=True,
            )
    assert not failed, failed
    assert not too_wide, too_wide
