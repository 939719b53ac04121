"""seed_scale (issue 10): a county-sized year built in the database, whose numbers the
platform's own selectors read back the same way as rows built through the services."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from organizations.scale import SCALES, insert_select


@pytest.mark.postgres
@pytest.mark.django_db
def test_seed_scale_builds_a_county_that_the_selectors_read():
    from checklists.models import Checklist, Occurrence
    from checklists.selectors import completion_score, completion_scores, progress_by_child
    from organizations.models import Organization, User
    from reviews.models import Ballot
    from scoring.models import JudgeScore
    from supervision.models import Problem

    call_command("seed_scale", scale="county")
    spec = SCALES["county"]
    counts = {
        kind: Organization.objects.filter(code__startswith="SC", kind=kind).count()
        for kind in ["province", "city", "county", "town", "village"]
    }
    assert counts == {
        "province": 1,
        "city": spec.cities,
        "county": spec.counties,
        "town": spec.towns,
        "village": spec.villages,
    }
    # Every village and town has its checklist of 30 items and 118 occurrences.
    assert Checklist.objects.filter(organization__code__startswith="SC").count() == spec.towns + spec.villages
    assert Occurrence.objects.filter(item__checklist__organization__code__startswith="SC").count() == 118 * (
        spec.towns + spec.villages
    )
    assert Problem.objects.filter(organization__code__startswith="SC").exists()
    assert JudgeScore.objects.filter(sheet__scheme__owner__code__startswith="SC").count() == spec.towns * 15 * 20
    assert Ballot.objects.filter(venue__organization__code__startswith="SC").count() == spec.villages * 70
    # The generated work is work the platform recognises: scores as one by one, progress per town.
    county = Organization.objects.get(code="SCX0001")
    staff = User.objects.get(username="scale-staff-scx0001")
    today = timezone.localdate()
    sample = list(Checklist.objects.filter(organization__path__startswith=county.path).order_by("pk")[:25])
    scores = completion_scores(Checklist.objects.filter(pk__in=[c.pk for c in sample]), on=today)
    assert scores == {c.pk: completion_score(c, on=today) for c in sample}
    assert all(0 < score < 100 for score in scores.values())
    towns = progress_by_child(county, staff, year=today.year, today=today)
    assert len(towns) == spec.towns
    assert all(town.due and 0 < town.done < town.due for town in towns)
    # Each row has the creation row of its operation log, as the services write it.
    from checklists.selectors import checklist_timeline
    from organizations.selectors import organization_timeline
    from supervision.selectors import problem_timeline

    town = county.children.order_by("code").first()
    from django.utils.translation import gettext

    from organizations.models import Person, Post, RoleAssignment

    assert {(str(entry["model"]), entry["reason"]) for entry in organization_timeline(town)} == {
        (str(model._meta.verbose_name), gettext(reason))
        for model, reason in [
            (Organization, "created"),
            (Person, "created"),
            (Post, "appointed"),
            (RoleAssignment, "role assigned"),
        ]
    }
    problem = Problem.objects.filter(organization__path__startswith=county.path).first()
    assert [entry["type"] for entry in problem_timeline(problem)] == ["+"]
    assert len(checklist_timeline(sample[0], limit=100)) == 1 + 30
    # Run twice, it adds nothing.
    call_command("seed_scale", scale="county")
    assert Organization.objects.filter(code__startswith="SC").count() == spec.organizations


@pytest.mark.django_db
def test_insert_select_names_a_required_field_without_a_value():
    from organizations.models import Organization

    with pytest.raises(ValueError, match=r"Organization\.name needs a value"):
        insert_select(Organization, "FROM (SELECT 1) AS one", code="'X1'")
