"""organizations.bulk: rows written in bulk are on record like rows saved one by one — the same
history rows, naming the acting user and the reason, as django-simple-history's bulk helpers."""

from organizations.bulk import bulk_create_recorded, bulk_update_recorded, history_of
from organizations.models import Person, PoliticalStatus
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
