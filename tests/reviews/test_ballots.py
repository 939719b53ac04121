"""Phone ballots: one-time codes, one code one ballot (also under 20 simultaneous submissions),
and anonymity kept by the tables themselves (DESIGN.md 6, issue 8 points 6–7)."""

import logging
import re
import threading

import pytest
from django.db import connection
from django.urls import reverse

from reviews import services
from reviews.codes import ALPHABET, LENGTH, code_digest, code_normalize
from reviews.models import Ballot, BallotAnswer, BallotCode, CodeBatch, State

from .conftest import add_reportees, add_venue, make_session, open_session


@pytest.fixture
def meeting(world, people):
    session = make_session(world, people)
    venue, groups = add_venue(session, world, people, [("党员", 100, 30)])
    reportees = add_reportees(session, world, people, venue)
    open_session(session, people)
    return session, venue, groups["党员"], reportees


def _answers(reportees, grade=1):
    return {reportee.pk: {"grade": grade} for reportee in reportees.values()}


def test_codes_carry_80_bits_and_are_stored_only_as_keyed_hashes(meeting, people):
    _session, _venue, group, _reportees = meeting
    batch, codes = services.codes_generate(actor=people.staff, group=group, count=30)
    assert len(set(codes)) == 30
    assert all(len(code_normalize(code)) == LENGTH for code in codes)
    assert len(ALPHABET) ** LENGTH >= 2**80
    assert not set("ILOU") & set("".join(codes))
    stored = set(BallotCode.objects.filter(batch=batch).values_list("digest", flat=True))
    assert stored == {code_digest(code) for code in codes}
    for code in codes:  # the plain code appears in no column of any row
        assert not BallotCode.objects.filter(digest__contains=code_normalize(code)).exists()


def test_misread_letters_are_read_as_the_digits_they_look_like():
    assert code_normalize("abcd-efgh-jkmn-pq0r") == "ABCDEFGHJKMNPQ0R"
    assert code_normalize("ABCD EFGH JKMN PQOR") == "ABCDEFGHJKMNPQ0R"  # O typed for 0
    assert code_normalize("too short") == ""


def test_one_code_one_ballot_and_clear_messages(meeting, people):
    _session, _venue, group, reportees = meeting
    _batch, (code, _other) = services.codes_generate(actor=people.staff, group=group, count=2)
    services.ballot_cast(code=code, answers=_answers(reportees))
    with pytest.raises(services.BallotRefused, match="已被使用"):
        services.ballot_cast(code=code, answers=_answers(reportees))
    with pytest.raises(services.BallotRefused, match="无效"):
        services.ballot_cast(code="ZZZZ-ZZZZ-ZZZZ-ZZZZ", answers=_answers(reportees))
    assert Ballot.objects.count() == 1
    assert BallotAnswer.objects.count() == 3


def test_every_reportee_must_be_rated_or_abstained(meeting, people):
    _session, _venue, group, reportees = meeting
    _batch, (code,) = services.codes_generate(actor=people.staff, group=group, count=1)
    answers = _answers(reportees)
    answers.pop(reportees["A1b"].pk)
    with pytest.raises(services.ValidationError):
        services.ballot_cast(code=code, answers=answers)
    assert not Ballot.objects.exists()
    assert not BallotCode.objects.filter(used=True).exists()  # nothing spent by a refused form


def test_no_vote_before_opening_or_after_closing(world, people):
    session = make_session(world, people)
    venue, groups = add_venue(session, world, people, [("党员", 100, 3)])
    reportees = add_reportees(session, world, people, venue)
    _batch, (code, later) = services.codes_generate(actor=people.staff, group=groups["党员"], count=2)
    with pytest.raises(services.BallotRefused, match="尚未开放"):
        services.ballot_cast(code=code, answers=_answers(reportees))
    open_session(session, people)
    services.ballot_cast(code=code, answers=_answers(reportees))
    services.session_advance(actor=people.staff, session=session, to=State.CLOSED)
    with pytest.raises(services.BallotRefused):
        services.ballot_cast(code=later, answers=_answers(reportees))
    # Closing deletes the code hashes: nothing is left to match with a ballot.
    assert not BallotCode.objects.filter(batch__group__venue=venue).exists()
    assert CodeBatch.objects.get(group=groups["党员"]).count == 2


def test_voided_slips_stop_working(meeting, people):
    _session, _venue, group, reportees = meeting
    batch, (code,) = services.codes_generate(actor=people.staff, group=group, count=1)
    services.batch_void(actor=people.staff, batch=batch)
    with pytest.raises(services.BallotRefused):
        services.ballot_cast(code=code, answers=_answers(reportees))


# --- anonymity, as a property of the tables ------------------------------------------------------

# The only columns a ballot and its answers may have. A new column (a user, a code, a time, an
# address, a sequence) makes this test fail: that is the point.
BALLOT_COLUMNS = {"id", "venue_id", "group_id", "cast_on"}
ANSWER_COLUMNS = {"ballot_id", "reportee_id", "group_id", "grade", "score", "dimension_scores", "comment"}
CODE_COLUMNS = {"id", "batch_id", "digest", "used"}


def _columns(model):
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, model._meta.db_table)
    return {column.name for column in description}


def test_ballot_tables_hold_nothing_that_identifies_a_rater(db):
    assert _columns(Ballot) == BALLOT_COLUMNS
    assert _columns(BallotAnswer) == ANSWER_COLUMNS
    assert _columns(BallotCode) == CODE_COLUMNS  # no time, no user, no ballot link
    assert Ballot._meta.pk.get_internal_type() == "UUIDField"  # random, not a sequence
    field = Ballot._meta.get_field("cast_on")
    assert field.get_internal_type() == "DateField"  # the day, nothing finer


def test_no_history_is_recorded_for_ballots_or_codes(db):
    from simple_history.models import registered_models

    tracked = {model._meta.label for model in registered_models.values()}
    for label in ("reviews.Ballot", "reviews.BallotAnswer", "reviews.BallotCode"):
        assert label not in tracked
        assert not any(name.startswith("Historical") and label.split(".")[1] == name[10:] for name in tracked)
    from django.apps import apps

    assert not [
        m
        for m in apps.get_models()
        if m.__name__ in {"HistoricalBallot", "HistoricalBallotAnswer", "HistoricalBallotCode"}
    ]


def test_casting_enqueues_no_task(meeting, people, monkeypatch):
    from celery.app.task import Task

    _session, _venue, group, reportees = meeting
    _batch, (code,) = services.codes_generate(actor=people.staff, group=group, count=1)
    sent = []
    monkeypatch.setattr(Task, "apply_async", lambda self, *a, **k: sent.append(self.name))
    services.ballot_cast(code=code, answers=_answers(reportees))
    assert sent == []


def test_the_ballot_path_logs_no_address_and_ignores_the_account(meeting, people, client, caplog):
    _session, _venue, group, reportees = meeting
    _batch, (code, _wrong_then_right) = services.codes_generate(actor=people.staff, group=group, count=2)
    client.force_login(people.leader)  # a leader votes with a code too; the account is ignored
    caplog.set_level(logging.DEBUG)
    address = {"REMOTE_ADDR": "203.0.113.77", "HTTP_X_FORWARDED_FOR": "198.51.100.9"}
    page = client.post(reverse("vote"), {"step": "code", "code": "WRONGCODE"}, **address)
    assert page.status_code == 400
    page = client.post(reverse("vote"), {"step": "code", "code": code}, **address)
    assert page.status_code == 200
    assert "A1a书记" in page.text
    data = {"step": "cast", "code": code, **{f"r{r.pk}_grade": "1" for r in reportees.values()}}
    page = client.post(reverse("vote"), data, **address)
    assert "已提交" in page.text
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "203.0.113.77" not in logged
    assert "198.51.100.9" not in logged
    assert code not in logged
    assert code_normalize(code) not in logged
    assert Ballot.objects.count() == 1


def test_the_code_is_never_in_a_url(meeting, people, client):
    """The slip's QR code puts the code after '#', which browsers never send; every form that
    carries it is a POST."""
    _session, _venue, group, _reportees = meeting
    client.force_login(people.staff)
    page = client.post(reverse("reviews:codes", args=[group.pk]), {"count": 2})
    codes = re.findall(r'<span class="slip-code">([0-9A-Z-]+)</span>', page.text)
    assert len(codes) == 2
    for code in codes:
        assert f"?code={code}" not in page.text
        assert f"/vote/{code}" not in page.text
    vote_page = client.get(reverse("vote"))
    assert 'method="post"' in vote_page.text
    assert {"private", "no-store"} <= set(page["Cache-Control"].split(", "))  # config/middleware.py adds private


def test_wrong_codes_from_one_client_are_slowed_down(meeting, client, settings):
    settings.BALLOT_CODE_FAILURES = 3
    for _attempt in range(3):
        assert client.post(reverse("vote"), {"step": "code", "code": "ABCD-EFGH-JKMN-PQRS"}).status_code == 400
    page = client.post(reverse("vote"), {"step": "code", "code": "ABCD-EFGH-JKMN-PQRS"})
    assert page.status_code == 429
    assert "秒" in page.text
    # another client (another address) is not held up
    assert client.post(reverse("vote"), {"step": "code", "code": "ABCD"}, REMOTE_ADDR="10.0.0.9").status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_submissions_of_one_code_cast_one_ballot(world, people):
    session = make_session(world, people)
    venue, groups = add_venue(session, world, people, [("党员", 100, 30)])
    reportees = add_reportees(session, world, people, venue)
    open_session(session, people)
    _batch, (code,) = services.codes_generate(actor=people.staff, group=groups["党员"], count=1)
    barrier = threading.Barrier(20)
    outcomes = []

    def submit():
        try:
            barrier.wait()
            services.ballot_cast(code=code, answers=_answers(reportees))
            outcomes.append("cast")
        except services.BallotRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("cast") == 1
    assert outcomes.count("refused") == 19
    assert Ballot.objects.count() == 1
    assert BallotAnswer.objects.count() == len(reportees)
