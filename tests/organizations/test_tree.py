import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organizations import services
from organizations.models import Organization, OrganizationKind, PartyType


def test_subtree_is_one_query_on_the_path(world):
    with CaptureQueriesContext(connection) as queries:
        codes = set(Organization.objects.subtree(world.county_a).values_list("code", flat=True))
    assert codes == {"A", "A1", "A2", "AD", "A1a", "A1b", "A2a"}
    assert len(queries) == 1
    assert "LIKE" in queries[0]["sql"] or "GLOB" in queries[0]["sql"]


def test_ancestors_are_one_query_root_first(world):
    with CaptureQueriesContext(connection) as queries:
        names = [o.code for o in Organization.objects.ancestors(world.village_a1b)]
    assert names == ["C", "A", "A1"]
    assert len(queries) == 1


def test_path_prefix_does_not_match_a_longer_sibling_code(world):
    # "A1" must not take in an organization coded "A10" placed elsewhere.
    services.organization_create(
        actor=None,
        code="A10",
        name="十号",
        kind=OrganizationKind.TOWN,
        party_type=PartyType.COMMITTEE,
        parent=world.county_b,
    )
    assert "A10" not in set(Organization.objects.subtree(world.town_a1).values_list("code", flat=True))


def test_moving_a_town_moves_its_villages_and_records_each_in_history(world, django_user_model):
    staff = django_user_model.objects.create(username="mover")

    services.organization_update(actor=staff, organization=world.town_a1, parent=world.county_b)

    village = Organization.objects.get(code="A1a")
    assert village.path == "/C/B/A1/A1a/"
    assert set(Organization.objects.subtree(world.county_b).values_list("code", flat=True)) >= {"A1", "A1a", "A1b"}
    latest = village.history.first()
    assert latest.history_user == staff
    assert latest.path == "/C/B/A1/A1a/"
    assert latest.history_change_reason


def test_changing_a_code_rewrites_the_paths_below(world):
    services.organization_update(actor=None, organization=world.town_a2, code="A2X")
    assert Organization.objects.get(code="A2a").path == "/C/A/A2X/A2a/"


def test_an_organization_cannot_move_under_its_own_subtree(world):
    with pytest.raises(ValidationError):
        services.organization_update(actor=None, organization=world.county_a, parent=world.village_a1a)
    assert Organization.objects.get(code="A").path == "/C/A/"


def test_a_bad_code_is_refused_and_nothing_is_written(world):
    with pytest.raises(ValidationError) as error:
        services.organization_create(
            actor=None,
            code="有 空格",
            name="x",
            kind=OrganizationKind.VILLAGE,
            party_type=PartyType.BRANCH,
            parent=world.town_a1,
        )
    assert "code" in error.value.message_dict
    assert not Organization.objects.filter(name="x").exists()
