"""The operation log: every write to the spine's records is kept with who and when."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from organizations import services
from organizations.models import Organization, OrganizationKind, PartyType, Person, PostTitle, Role
from tests.organizations.factories import PersonFactory, UserFactory


def test_services_record_who_and_why(world):
    clerk = UserFactory(username="clerk")
    person = services.person_create(
        actor=clerk, name="梁秀英", organization=world.village_a1a, political_status="party_member", phone="13900000001"
    )
    post = services.post_create(
        actor=clerk,
        person=person,
        organization=world.village_a1a,
        title=PostTitle.SECRETARY,
        start_date=timezone.localdate() - timedelta(days=1500),
    )
    ended = timezone.localdate() - timedelta(days=400)
    services.post_end(actor=clerk, post=post, end_date=ended)

    rows = list(post.history.order_by("history_date"))
    assert [row.history_type for row in rows] == ["+", "~"]
    assert {row.history_user for row in rows} == {clerk}
    assert rows[-1].end_date == ended
    assert person.history.get().history_change_reason == "新建"


def test_a_failed_write_changes_nothing_and_logs_nothing(world):
    before = Person.history.count()
    with pytest.raises(ValidationError, match="手机号码"):
        services.person_create(
            actor=None, name="错号", organization=world.village_a1a, political_status="party_member", phone="12345"
        )
    assert not Person.objects.filter(name="错号").exists()
    assert Person.history.count() == before


def test_organization_page_shows_the_timeline(world, user_with_role, client):
    staff = user_with_role(Role.STAFF, world.county_a, full_name="周组织")
    services.organization_update(actor=staff, organization=world.village_a1a, name="新名村")
    client.force_login(staff)
    response = client.get(reverse("organizations:detail", args=["A1a"]) + "?part=log")
    entry = response.context["timeline"][0]
    assert entry["user"] == staff
    assert entry["changed"] == ["组织名称"]
    assert "周组织" in response.text
    assert "修改" in response.text


def test_timeline_includes_posts_people_and_roles(world, user_with_role):
    from organizations.selectors import organization_timeline

    admin = user_with_role(Role.ADMIN, world.county_a)
    person = services.person_create(
        actor=admin, name="吴海", organization=world.town_a2, political_status="party_member"
    )
    services.post_create(
        actor=admin,
        person=person,
        organization=world.town_a2,
        title=PostTitle.SECRETARY,
        start_date=timezone.localdate() - timedelta(days=1000),
    )
    services.role_assign(actor=admin, user=UserFactory(), organization=world.town_a2, role=Role.CLERK)
    models = [entry["model"] for entry in organization_timeline(world.town_a2)]
    assert {"人员", "职务", "角色分配"} <= set(models)


def test_creating_through_the_admin_goes_through_the_service(world, client):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(superuser)
    response = client.post(
        reverse("admin:organizations_organization_add"),
        {
            "code": "A1c",
            "name": "新村",
            "kind": OrganizationKind.VILLAGE,
            "party_type": PartyType.BRANCH,
            "parent": world.town_a1.pk,
            "children-TOTAL_FORMS": "0",
            "children-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].errors if response.context else response
    created = Organization.objects.get(code="A1c")
    assert created.path == "/C/A/A1/A1c/"
    assert created.history.get().history_user == superuser


@pytest.mark.parametrize("limit", [1, 3, 100])
def test_a_timeline_is_the_newest_rows_of_all_its_streams_and_reads_only_the_streams_that_have_them(world, limit):
    """history_timeline: one statement finds the newest rows over every stream (newest first; on
    the same moment, the earlier stream first), then only the streams holding one are read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizations.models import Post
    from organizations.selectors import history_timeline

    village = world.village_a1a
    for name in ("张三", "李四"):
        PersonFactory(organization=village, name=name)
    village.name = "新名村"
    village.save()
    streams = [
        Person.history.filter(organization_id=village.pk),
        Post.history.filter(organization_id=village.pk),  # nothing: never read beyond the first statement
        Organization.history.filter(id=village.pk),
    ]
    ranked = sorted(
        ((row.history_date, index, row.history_id, row) for index, stream in enumerate(streams) for row in stream),
        key=lambda key: (-key[0].timestamp(), key[1], -key[2]),
    )
    expected = [(row.history_date, row.instance._meta.verbose_name, row.id) for *_key, row in ranked[:limit]]

    with CaptureQueriesContext(connection) as captured:
        entries = history_timeline(streams, limit=limit)

    assert [(entry["at"], entry["model"], entry["object"].pk) for entry in entries] == expected
    assert len(entries) == min(limit, len(ranked))
    assert len(ranked) >= 4
    read = [query["sql"] for query in captured if "historicalpost" in query["sql"]]
    assert len(read) == 1
    assert "UNION" in read[0]


def test_every_name_relation_is_a_key_of_its_model():
    """A model's name_relations (what its name reads, for the timelines) lists its own forward keys."""
    from django.apps import apps

    declared = [model for model in apps.get_models() if getattr(model, "name_relations", None) is not None]
    assert len(declared) >= 10
    for model in declared:
        keys = {field.name for field in model._meta.concrete_fields if field.many_to_one or field.one_to_one}
        assert set(model.name_relations) <= keys, model


def test_an_organizations_and_a_problems_timeline_write_their_names_without_a_query(world, user_with_role):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizations.models import Pairing, Post
    from organizations.selectors import organization_timeline
    from supervision import services as supervision_services
    from supervision.selectors import problem_timeline
    from tests.organizations.test_timeline_names import _problem

    staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部")
    village = world.village_a1a
    person = PersonFactory(organization=village, name="张三")
    user_with_role(Role.SECRETARY, village, full_name="王五")
    Post.objects.create(person=person, organization=village, title=PostTitle.SECRETARY, start_date=timezone.localdate())
    Pairing.objects.create(year=timezone.localdate().year, village=village, unit=world.town_a1, responsible=person)
    problem = _problem(world, staff)  # at village A1a
    supervision_services.problem_claim(actor=staff, problem=problem)
    supervision_services.problem_plan(
        actor=staff, problem=problem, measures="补记", person="李四", deadline=timezone.localdate() + timedelta(days=20)
    )

    def names_without_a_query(timeline):
        with CaptureQueriesContext(connection) as naming:
            names = [str(entry["object"]) for entry in timeline]
        assert len(naming) == 0
        assert len(names) >= 3
        return names

    organization_names = names_without_a_query(organization_timeline(village, limit=100))
    names = names_without_a_query(problem_timeline(problem, limit=100))
    assert f"{village.name_with_town} · 三会一课记录不全 · 李四" in names
    # A problem held without its organization's town: the timeline reads the organization itself.
    from supervision.models import Problem

    partial = Problem.objects.select_related("organization").get(pk=problem.pk)
    timeline = problem_timeline(partial, limit=100)
    with CaptureQueriesContext(connection) as naming:
        assert [str(entry["object"]) for entry in timeline] == names
    assert len(naming) == 0
    assert any(name.startswith(f"王五 · {village.name_with_town} · ") for name in organization_names)
