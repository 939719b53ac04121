"""Rules of the supervision app found in use (issue 11)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from organizations.models import Role
from supervision import services
from supervision.models import Admonishment, Aspect, Problem, Source
from tests.organizations.factories import PersonFactory


@pytest.fixture
def people(world, user_with_role):
    class People:
        staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部")
        other_staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部二")
        supervisor = user_with_role(Role.SUPERVISOR, world.county_a, full_name="督导组")
        secretary = user_with_role(Role.SECRETARY, world.village_a1a, full_name="村书记")
        clerk = user_with_role(Role.CLERK, world.village_a1a, full_name="村台账员")

    return People


def _problem(world, people, **overrides):
    fields = {
        "organization": world.village_a1a,
        "source": Source.SUPERVISION,
        "category": "组织生活",
        "description": "三会一课记录不全",
        "found_on": timezone.localdate(),
        "found_by": "督导组",
        "deadline": timezone.localdate() + timedelta(days=30),
    }
    fields.update(overrides)
    return services.problem_list(actor=people.supervisor, **fields)


def _admonishment(world, people):
    return services.admonishment_recommend(
        actor=people.staff,
        organization=world.village_a1a,
        person=PersonFactory(name="李书记"),
        cause="述职评议不称职",
        on=timezone.localdate(),
    )


# --- point 10: an admonishment is decided by one conditional update ---------------------------


def test_a_second_decision_on_what_was_read_as_recommended_is_refused(world, people):
    admonishment = _admonishment(world, people)
    services.admonishment_decide(actor=people.staff, admonishment=admonishment, outcome="talk", notes="约谈")
    with pytest.raises(ValidationError, match="已被处理"):
        services.admonishment_decide(actor=people.other_staff, admonishment=admonishment, outcome="dismissed")
    fresh = Admonishment.objects.get()
    assert (fresh.outcome, fresh.decided_by, fresh.notes) == ("talk", people.staff, "约谈")
    assert fresh.history.count() == 2  # recommended, decided


def test_a_second_post_of_the_page_gets_a_message_not_an_overwrite(world, people, client):
    admonishment = _admonishment(world, people)
    data = {"pk": admonishment.pk, "outcome": "warning", "held_on": "", "notes": "诫勉", "seen": ""}
    client.force_login(people.staff)
    assert client.post(reverse("supervision:admonishments"), data).status_code == 302
    client.force_login(people.other_staff)
    response = client.post(reverse("supervision:admonishments"), {**data, "outcome": "dismissed"}, follow=True)
    assert "已被处理" in response.text
    fresh = Admonishment.objects.get()
    assert (fresh.outcome, fresh.decided_by) == ("warning", people.staff)


def test_a_decision_read_may_be_completed_with_the_date_held(world, people):
    admonishment = services.admonishment_decide(
        actor=people.staff, admonishment=_admonishment(world, people), outcome="talk"
    )
    today = timezone.localdate()
    services.admonishment_decide(
        actor=people.staff, admonishment=admonishment, outcome="talk", held_on=today, seen=admonishment.decided_at
    )
    assert Admonishment.objects.get().held_on == today


def test_recommended_is_not_a_decision(world, people):
    admonishment = _admonishment(world, people)
    with pytest.raises(ValidationError):
        services.admonishment_decide(actor=people.staff, admonishment=admonishment, outcome="recommended")
    assert Admonishment.objects.get().decided_at is None


# --- point 6: extensions and closing ---------------------------------------------------------


def test_refusing_an_extension_needs_a_reason(world, people):
    problem = _problem(world, people)
    extension = services.extension_request(
        actor=people.secretary, problem=problem, reason="施工", new_deadline=problem.deadline + timedelta(days=9)
    )
    with pytest.raises(ValidationError, match="不予延期的理由"):
        services.extension_decide(actor=people.staff, extension=extension, approve=False, comment="  ")
    extension.refresh_from_db()
    assert extension.decision == "pending"
    services.extension_decide(actor=people.staff, extension=extension, approve=False, comment="理由不充分")
    extension.refresh_from_db()
    assert (extension.decision, extension.comment) == ("rejected", "理由不充分")


def _pending_extension_page(world, people, client):
    problem = _problem(world, people)
    services.extension_request(
        actor=people.secretary, problem=problem, reason="施工", new_deadline=problem.deadline + timedelta(days=9)
    )
    client.force_login(people.staff)
    return reverse("supervision:problem", args=[problem.pk])


def test_each_extension_decision_has_its_own_button_and_message(world, people, client):
    url = _pending_extension_page(world, people, client)
    page = client.get(url).text
    assert 'value="approve_extension" type="submit">批准延期</button>' in page
    assert 'value="reject_extension" type="submit">不予延期</button>' in page
    response = client.post(url, {"action": "approve_extension", "comment": ""}, follow=True)
    assert "已批准延期" in response.text
    assert "操作成功" not in response.text


def test_a_refusal_from_the_page_without_a_reason_is_refused_and_says_why(world, people, client):
    url = _pending_extension_page(world, people, client)
    response = client.post(url, {"action": "reject_extension", "comment": ""})
    assert response.status_code == 200
    assert "请说明不予延期的理由" in response.text
    response = client.post(url, {"action": "reject_extension", "comment": "不符合延期条件"}, follow=True)
    assert "已不予延期" in response.text


def test_closing_is_not_requested_with_an_empty_rectification_ledger(world, people, client):
    problem = services.problem_claim(actor=people.secretary, problem=_problem(world, people))
    problem = services.problem_plan(
        actor=people.secretary, problem=problem, measures="补齐", person="村书记", deadline=problem.deadline
    )
    client.force_login(people.clerk)
    url = reverse("supervision:problem", args=[problem.pk])
    response = client.post(url, {"action": "request_closing", "report": "已整改"})
    assert response.status_code == 200
    assert "问题整改台账为空" in response.text
    problem.refresh_from_db()
    assert problem.status == "rectifying"
    response = client.post(url, {"action": "request_closing", "report": ""})
    assert response.status_code == 200
    problem.refresh_from_db()
    assert problem.status == "rectifying"


def test_a_plan_beyond_the_problems_deadline_is_warned_about_first(world, people, client):
    problem = services.problem_claim(actor=people.secretary, problem=_problem(world, people))
    client.force_login(people.secretary)
    url = reverse("supervision:problem", args=[problem.pk])
    late = str(problem.deadline + timedelta(days=10))
    data = {"action": "plan", "measures": "补齐记录", "person": "村书记", "deadline": late}
    response = client.post(url, data)
    assert response.status_code == 200
    assert f"晚于该问题的整改时限 {problem.deadline.isoformat()}" in response.text
    problem.refresh_from_db()
    assert problem.status == "claimed"
    client.post(url, {**data, "beyond_deadline": "on"})
    problem.refresh_from_db()
    assert (problem.status, problem.plan.deadline.isoformat()) == ("rectifying", late)


def test_a_plan_within_the_deadline_passes_without_a_warning(world, people, client):
    problem = services.problem_claim(actor=people.secretary, problem=_problem(world, people))
    client.force_login(people.secretary)
    data = {"action": "plan", "measures": "补齐记录", "person": "村书记", "deadline": str(problem.deadline)}
    client.post(reverse("supervision:problem", args=[problem.pk]), data)
    problem.refresh_from_db()
    assert problem.status == "rectifying"


def test_a_rectification_record_dated_tomorrow_is_refused(world, people):
    problem = services.problem_claim(actor=people.secretary, problem=_problem(world, people))
    problem = services.problem_plan(
        actor=people.secretary, problem=problem, measures="补齐", person="村书记", deadline=problem.deadline
    )
    with pytest.raises(ValidationError, match="日期不能晚于今天"):
        services.rectification_record_add(
            actor=people.clerk, problem=problem, date=timezone.localdate() + timedelta(days=1), content="明天的"
        )


# --- point 7: responsible person and the checklist item cited ------------------------------


def _form_data(**overrides):
    data = {
        "organization": "A1a",
        "responsible_unit": "",
        "source": "supervision",
        "category": "组织生活",
        "description": "三会一课记录不全",
        "found_on": str(timezone.localdate()),
        "found_by": "督导组",
        "responsible_person": "李书记",
        "deadline": str(timezone.localdate() + timedelta(days=20)),
        "severity": "general",
        "checklist_item": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def cited_item(world, people):
    from checklists import services as checklists
    from checklists.models import ChecklistItem, Frequency

    template = checklists.template_create(
        actor=people.staff,
        owner=world.county_a,
        year=timezone.localdate().year,
        name="村党组织清单",
        target_types=["branch"],
    )
    checklists.template_item_create(
        actor=people.staff,
        template=template,
        code="Z01",
        category="组织生活",
        title="支委会",
        requirement="每月召开",
        frequency=Frequency.MONTHLY,
        score=10,
    )
    checklists.checklist_issue(
        actor=people.staff, template=template, root=world.village_a1a, claim_deadline=timezone.localdate()
    )
    return ChecklistItem.objects.get(checklist__organization=world.village_a1a, code="Z01")


def test_the_problem_form_takes_the_responsible_person_and_a_checklist_item(world, people, client, cited_item):
    person = PersonFactory(name="李书记", organization=world.village_a1a)
    client.force_login(people.supervisor)
    page = client.get(reverse("supervision:problem_create")).text
    assert "责任人" in page
    assert "整改时限" in page
    client.post(reverse("supervision:problem_create"), _form_data(checklist_item="Z01"))
    problem = Problem.objects.get()
    assert (problem.responsible_person, problem.checklist_item) == (person, cited_item)
    printed = client.get(reverse("supervision:problem_print", args=[problem.pk])).text
    assert "李书记" in printed
    assert "Z01 支委会" in printed
    assert "Z01 支委会" in client.get(reverse("supervision:problem", args=[problem.pk])).text


def test_an_unknown_responsible_person_or_item_is_refused_with_what_was_typed_kept(world, people, client):
    PersonFactory(name="李书记", organization=world.village_b1a)  # another county's
    client.force_login(people.supervisor)
    response = client.post(reverse("supervision:problem_create"), _form_data(checklist_item="Z99"))
    assert response.status_code == 200
    assert "该组织或责任单位没有叫这个名字的人员" in response.text
    assert "没有编号为 Z99 的事项" in response.text
    assert 'value="李书记"' in response.text
    assert not Problem.objects.exists()


def test_the_deadline_label_and_its_error_say_the_same_word(world, people, client):
    PersonFactory(name="李书记", organization=world.village_a1a)
    client.force_login(people.supervisor)
    response = client.post(
        reverse("supervision:problem_create"),
        _form_data(deadline=str(timezone.localdate() - timedelta(days=1))),
    )
    form = response.context["form"]
    assert str(form["deadline"].label) == "整改时限"
    assert form.errors["deadline"][0].startswith("整改时限")


# --- point 8: supervision visits can be read -----------------------------------------------


def _visit(world, people):
    answers = {aspect: {"ok": True, "note": f"{aspect}好"} for aspect in Aspect}
    answers["solved"] = {"ok": False, "note": "路灯未修"}
    return services.visit_record(
        actor=people.supervisor,
        organization=world.village_a1a,
        date=timezone.localdate(),
        answers=answers,
        new_problems=[
            {
                "aspect": "solved",
                "description": "群众反映的路灯问题未解决",
                "deadline": timezone.localdate() + timedelta(days=15),
                "category": "责任落实",
            }
        ],
    )


def test_a_problem_from_a_visit_has_a_real_category_and_links_back(world, people, client):
    visit, [problem] = _visit(world, people)
    assert (problem.category, problem.visit) == ("责任落实", visit)
    client.force_login(people.secretary)
    page = client.get(reverse("supervision:problem", args=[problem.pk])).text
    assert reverse("supervision:visit", args=[visit.pk]) in page


def test_a_problem_from_a_visit_needs_its_category(world, people):
    answers = {aspect: {"ok": aspect != "solved", "note": ""} for aspect in Aspect}
    with pytest.raises(ValidationError):
        services.visit_record(
            actor=people.supervisor,
            organization=world.village_a1a,
            date=timezone.localdate(),
            answers=answers,
            new_problems=[{"aspect": "solved", "description": "x", "deadline": timezone.localdate()}],
        )
    assert not Problem.objects.exists()


def test_visits_are_listed_and_read_with_their_answers_notes_and_problems(world, people, client, user_with_role):
    visit, [problem] = _visit(world, people)
    client.force_login(people.staff)
    listing = client.get(reverse("supervision:visits")).text
    assert reverse("supervision:visit", args=[visit.pk]) in listing
    page = client.get(reverse("supervision:visit", args=[visit.pk])).text
    assert "路灯未修" in page
    assert "claimed好" in page
    assert "群众反映的路灯问题未解决" in page
    assert reverse("supervision:problem", args=[problem.pk]) in page
    # outside the area: not found
    client.force_login(user_with_role(Role.STAFF, world.county_b))
    assert client.get(reverse("supervision:visit", args=[visit.pk])).status_code == 404
    assert reverse("supervision:visit", args=[visit.pk]) not in client.get(reverse("supervision:visits")).text


# --- point 22: the page offers what the transition table and the permissions allow ---------


@pytest.mark.parametrize(
    ("status", "who", "offered"),
    [
        ("listed", "secretary", {"claim", "extend"}),
        ("listed", "clerk", {"extend"}),
        ("listed", "staff", {"cancel", "carry_over"}),
        ("claimed", "secretary", {"plan", "extend"}),
        ("rectifying", "clerk", {"record", "request_closing", "extend"}),
        ("submitted", "supervisor", {"close", "fail", "cancel", "carry_over"}),
        ("closed", "staff", set()),
        ("closed", "secretary", set()),
    ],
)
def test_problem_actions_follow_the_transition_table_and_the_permissions(world, people, status, who, offered):
    from supervision.models import Problem as ProblemModel
    from supervision.selectors import problem_actions

    problem = _problem(world, people)
    ProblemModel.objects.filter(pk=problem.pk).update(status=status, closed_at=timezone.now())
    problem.refresh_from_db()
    assert problem_actions(getattr(people, who), problem) == offered


def test_a_pending_extension_is_offered_for_decision_to_staff_above_only(world, people):
    from supervision.selectors import problem_actions

    problem = _problem(world, people)
    services.extension_request(
        actor=people.secretary, problem=problem, reason="r", new_deadline=problem.deadline + timedelta(days=3)
    )
    assert {"approve_extension", "reject_extension"} <= problem_actions(people.staff, problem)
    assert "extend" not in problem_actions(people.secretary, problem)
    assert not {"approve_extension", "reject_extension"} & problem_actions(people.secretary, problem)


def test_a_second_claim_gets_the_reason_not_a_403(world, people, client):
    problem = _problem(world, people)
    client.force_login(people.secretary)
    url = reverse("supervision:problem", args=[problem.pk])
    client.post(url, {"action": "claim"})
    response = client.post(url, {"action": "claim"}, follow=True)
    assert response.status_code == 200
    assert "已签收" in response.text


def test_a_supervisor_does_not_decide_admonishments_staff_above_do(world, people, client):
    from organizations.permissions import Action, has_permission

    admonishment = _admonishment(world, people)
    data = {"pk": admonishment.pk, "outcome": "talk", "held_on": "", "notes": "", "seen": ""}
    client.force_login(people.supervisor)
    assert client.post(reverse("supervision:admonishments"), data).status_code == 403
    assert has_permission(people.staff, Action.DECIDE_ADMONISHMENT, world.village_a1a)
    assert not has_permission(people.supervisor, Action.DECIDE_ADMONISHMENT, world.village_a1a)


def test_samples_are_drawn_and_read_over_the_draw_sample_area(world, people, user_with_role, client):
    from supervision.selectors import follow_up_roots

    town_staff = user_with_role(Role.STAFF, world.town_a1)
    assert set(follow_up_roots(town_staff).values_list("code", flat=True)) == {"A1", "A1a", "A1b"}
    assert not follow_up_roots(people.secretary).exists()
    sample = services.sample_draw(actor=people.supervisor, root=world.town_a1, kinds=["village"], size=1, seed=3)
    client.force_login(town_staff)
    assert client.get(reverse("supervision:sample", args=[sample.pk])).status_code == 200
    client.force_login(people.secretary)
    assert client.get(reverse("supervision:sample", args=[sample.pk])).status_code == 404
