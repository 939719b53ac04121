"""A judge's home (issue 14): the scoring tasks, each count equal to the sheets it opens."""

from decimal import Decimal

from django.urls import reverse

from scoring import services
from scoring.models import JudgeSheet, SchemeState
from tests.home_links import mismatches, tiles
from tests.scoring.conftest import make_scheme


def test_the_judge_home_counts_the_sheets_still_to_score(client, world, towns, staff, judges):
    scheme = make_scheme(staff, world)
    services.members_add(actor=staff, scheme=scheme, organizations=list(towns.values()))
    services.indicator_add(actor=staff, scheme=scheme, code="I1", name="组织建设", max_score=Decimal(30))
    panel = services.panel_add(actor=staff, scheme=scheme, name="第一评委团")
    services.panel_assign(actor=staff, panel=panel, judges=judges[:3], organizations=[towns["T1"], towns["T2"]])
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)
    judge = judges[0]
    sheet = JudgeSheet.objects.filter(judge=judge).order_by("pk").first()
    indicator = scheme.indicators.get()
    services.sheet_save(actor=judge, sheet=sheet, scores={indicator.pk: Decimal(25)})
    services.sheet_submit(actor=judge, sheet=sheet)

    client.force_login(judge)
    html = client.get(reverse("home")).content.decode()
    counts = {key: value for key, value, _href, _match in tiles(html)}
    assert counts == {"sheets_open": 1, "sheets": 2}
    assert mismatches(lambda url: client.get(url).content.decode(), html) == []
    # A judge on no panel of this scheme has nothing to score.
    client.force_login(judges[4])
    assert "sheets_open" not in client.get(reverse("home")).content.decode()
