import pytest
from django.urls import reverse

from tests.organizations.factories import PairingFactory, PersonFactory, PostFactory, UserFactory

MODELS = ["user", "organization", "person", "post", "roleassignment", "pairing"]


@pytest.fixture
def filled(world):
    person = PersonFactory(organization=world.village_a1a)
    PostFactory(person=person)
    PairingFactory(village=world.village_a1a, unit=world.department)
    return world


@pytest.mark.parametrize("model", MODELS)
def test_superuser_reads_every_list_with_search_and_history(filled, client, model):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = reverse(f"admin:organizations_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "A1"}).status_code == 200


def test_organization_list_reads_as_a_tree(filled, client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(reverse("admin:organizations_organization_changelist"))
    text = response.text
    assert text.index("组织C") < text.index("组织A") < text.index("组织A1a")
    assert "padding-left:4.5em" in text  # a village four levels down is indented three steps


def test_history_page_of_an_organization(filled, client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(reverse("admin:organizations_organization_history", args=[filled.town_a1.pk]))
    assert response.status_code == 200


def test_staff_status_alone_does_not_open_the_admin(db, client):
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "login" in response.url
