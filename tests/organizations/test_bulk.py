"""organizations.bulk: rows written in bulk are on record like rows saved one by one — the same
history rows, naming the acting user and the reason, as django-simple-history's bulk helpers."""

from datetime import date

from organizations import bulk
from organizations.bulk import bulk_create_recorded, bulk_update_recorded, history_of, insert_recorded
from organizations.models import Person, PoliticalStatus, Post, PostTitle
from tests.organizations.factories import UserFactory


def _people(world, n):
    return [
        Person(
            name=f"张{n}",
            political_status=PoliticalStatus.PARTY_MEMBER,
            organization=world.village_a1a,
            phone=f"139{n:08d}",
        )
        for n in range(n)
    ]


def test_bulk_created_rows_get_one_history_row_each_naming_the_user_and_the_reason(world):
    actor = UserFactory()
    created = bulk_create_recorded(Person, _people(world, 2501), actor=actor, reason="批量导入")
    ids = [person.pk for person in created]
    history = Person.history.filter(id__in=ids)
    assert len(ids) == len(set(ids)) == 2501
    assert None not in ids
    assert history.count() == 2501  # across three id chunks
    assert set(history.values_list("history_type", "history_user", "history_change_reason").distinct()) == {
        ("+", actor.pk, "批量导入")
    }
    # each history row is a copy of its row as written
    sample = history.get(id=ids[-1])
    assert (sample.name, sample.phone, sample.organization_id) == ("张2500", "13900002500", world.village_a1a.pk)


def test_bulk_updated_rows_get_a_change_row_with_the_new_values(world):
    actor = UserFactory()
    people = bulk_create_recorded(Person, _people(world, 3), actor=None, reason="x")
    for person in people:
        person.name += "（改）"
    bulk_update_recorded(Person, people, ["name"], actor=actor, reason="更正姓名")
    changes = Person.history.filter(history_type="~")
    assert sorted(changes.values_list("name", flat=True)) == ["张0（改）", "张1（改）", "张2（改）"]
    assert set(changes.values_list("history_user", flat=True)) == {actor.pk}
    assert Person.history.filter(history_type="+", history_user__isnull=True).count() == 3


def test_history_of_nothing_writes_nothing(world):
    assert history_of(Person, [], actor=None, reason="x") == 0
    assert not Person.history.exists()


def test_inserted_rows_come_back_in_their_order_with_their_values_and_history(world, monkeypatch):
    """insert_recorded's ids are in the order of its rows, across statements (a small chunk
    here: on PostgreSQL one unnest of column arrays per chunk, on SQLite a multi-row VALUES)."""
    monkeypatch.setattr(bulk, "ARRAY_CHUNK", 7)
    actor = UserFactory()
    organizations = [world.village_a1a, world.village_a1b, world.town_a1]
    rows = [
        (f"李{n}", "female" if n % 2 else "", PoliticalStatus.MASSES, f"137{n:08d}" if n % 3 else None, org.pk)
        for n in range(20)
        for org in [organizations[n % 3]]
    ]
    ids = insert_recorded(
        Person, ["name", "gender", "political_status", "phone", "organization"], rows, actor=actor, reason="导入"
    )
    written = Person.objects.in_bulk(ids)
    assert [
        (p.name, p.gender, p.political_status, p.phone, p.organization_id) for p in (written[pk] for pk in ids)
    ] == rows
    posts = insert_recorded(
        Post,
        ["person", "organization", "title", "start_date"],
        [(pk, world.village_a1a.pk, PostTitle.COMMITTEE_MEMBER, date(2024, 3, n + 1)) for n, pk in enumerate(ids)],
        actor=actor,
        reason="导入",
    )
    assert [Post.objects.get(pk=pk).start_date.day for pk in posts] == list(range(1, 21))
    assert Post.objects.get(pk=posts[0]).end_date is None  # a column not named takes its default
    assert Person.history.filter(id__in=ids, history_user=actor, history_change_reason="导入").count() == 20
    assert Post.history.filter(id__in=posts, history_type="+").count() == 20


def test_column_values_are_what_each_field_would_send(db):
    """The values that insert_recorded passes as they are are those get_db_prep_save gives back
    unchanged; the others go through it."""
    from django.db import connection

    from organizations.bulk import _column

    cases = {
        Person._meta.get_field("name"): ["张三", "", None, PoliticalStatus.MASSES, 12],
        Person._meta.get_field("organization"): [1, None, "7", True],
        Post._meta.get_field("start_date"): [date(2024, 3, 1), None],
    }
    for field, values in cases.items():
        assert _column(field, values) == [field.get_db_prep_save(value, connection) for value in values]
        assert [type(value) for value in _column(field, values)] == [
            type(field.get_db_prep_save(value, connection)) for value in values
        ]


def test_any_of_selects_what_in_selects(world):
    """`any_of` (one array on PostgreSQL, a listed IN elsewhere) finds exactly the rows `in`
    finds: text values, foreign key ids, values that match nothing, and no values at all."""
    people = bulk_create_recorded(Person, _people(world, 5), actor=None, reason="批量导入")
    Post.objects.create(
        person=people[1], organization=world.village_a1a, title=PostTitle.SECRETARY, start_date=date(2024, 3, 1)
    )
    phones = ["13900000001", "13900000003", "13900000099"]
    assert (
        set(Person.objects.filter(phone__any_of=phones))
        == set(Person.objects.filter(phone__in=phones))
        == {
            people[1],
            people[3],
        }
    )
    ids = [people[0].pk, people[1].pk]
    assert list(Post.objects.filter(person_id__any_of=ids).values_list("person", flat=True)) == [people[1].pk]
    assert not Person.objects.filter(phone__any_of=[]).exists()
    assert Person.objects.exclude(phone__any_of=phones).count() == Person.objects.count() - 2
