"""Every write of problem tracking and supervision. The problem life cycle of DESIGN.md 4 is
enforced here and only here: TRANSITIONS names each legal move, and a move is one conditional
UPDATE on the current status, so concurrent moves cannot leave an illegal state."""

import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Case, Exists, F, Max, OuterRef, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from checklists.services import attachments_for, work_date_check
from notifications.models import Notification
from notifications.services import notify, notify_many
from organizations.bulk import history_copy, history_of
from organizations.models import Organization, Post, PostTitle, Role, RoleAssignment

from .models import (
    OPEN_STATUSES,
    TRANSITIONS,
    Admonishment,
    Aspect,
    ClosingRequest,
    Decision,
    Extension,
    FollowUp,
    Notice,
    NoticeEntry,
    Problem,
    RectificationPlan,
    RectificationRecord,
    Source,
    Status,
    SupervisionVisit,
    UnannouncedSample,
)


def _save(instance, *, actor, reason):
    instance.full_clean()
    instance._history_user = actor
    instance._change_reason = reason
    instance.save()
    return instance


def _transition(problem, action, *, actor, **fields):
    """Move a problem, or refuse with the reason. Returns the fresh problem."""
    sources, target, verb = TRANSITIONS[action]
    moved = Problem.objects.filter(pk=problem.pk, status__in=sources).update(status=target, **fields)
    fresh = Problem.objects.get(pk=problem.pk)
    if not moved:
        raise ValidationError(
            _("This cannot be done now: the problem is %(status)s.") % {"status": fresh.get_status_display()}
        )
    Problem.history.bulk_history_create([fresh], update=True, default_user=actor, default_change_reason=str(verb))
    return fresh


def _owners(problem):
    """Who is told about a problem: secretary and clerks of the unit and the organization."""
    assignments = RoleAssignment.objects.filter(
        organization__in=[problem.organization_id, problem.responsible_unit_id],
        role__in=[Role.SECRETARY, Role.CLERK],
        user__is_active=True,
    ).select_related("user")
    users = {assignment.user for assignment in assignments}
    if problem.responsible_person_id and problem.responsible_person.user_id:
        users.add(problem.responsible_person.user)
    return users


def _owners_by_organization(problems):
    """{organization id: the active secretaries and clerks} for the organizations and responsible
    units of the problems, in one query (the daily job's _owners)."""
    concerned = Q(organization__in=problems.values("organization_id")) | Q(
        organization__in=problems.values("responsible_unit_id")
    )
    owners = {}
    for assignment in RoleAssignment.objects.filter(
        concerned, role__in=[Role.SECRETARY, Role.CLERK], user__is_active=True
    ).select_related("user"):
        owners.setdefault(assignment.organization_id, set()).add(assignment.user)
    return owners


def _url(problem):
    return reverse("supervision:problem", args=[problem.pk])


# --- the life cycle ------------------------------------------------------------------------


@transaction.atomic
def problem_list(*, actor, organization, deadline, responsible_unit=None, **fields):
    """挂牌: list a problem in the 《存在问题台账》 and tell those responsible."""
    if deadline < fields.get("found_on", deadline):
        raise ValidationError({"deadline": _("The deadline cannot be before the day the problem was found.")})
    item = fields.get("checklist_item")
    if item is not None and item.checklist.organization_id != organization.pk:
        raise ValidationError({"checklist_item": _("The checklist item cited is not the organization's.")})
    problem = Problem(
        organization=organization,
        responsible_unit=responsible_unit or organization,
        deadline=deadline,
        original_deadline=deadline,
        listed_by=actor,
        year=fields.get("found_on", timezone.localdate()).year,
        **fields,
    )
    _save(problem, actor=actor, reason=_("listed"))
    notify(
        users=_owners(problem),
        title=_("A problem was listed for %(organization)s: deadline %(deadline)s")
        % {"organization": organization.name_with_town, "deadline": deadline.isoformat()},
        body=problem.description[:200],
        url=_url(problem),
        key=f"problem-listed:{problem.pk}",
    )
    return problem


@transaction.atomic
def problem_claim(*, actor, problem):
    return _transition(problem, "claim", actor=actor, claimed_by=actor, claimed_at=timezone.now())


@transaction.atomic
def problem_plan(*, actor, problem, measures, person, deadline):
    """整改方案: measures, person and date; rectification starts."""
    problem = _transition(problem, "plan", actor=actor)
    _save(
        RectificationPlan(problem=problem, measures=measures, person=person, deadline=deadline, created_by=actor),
        actor=actor,
        reason=_("rectification plan made"),
    )
    return problem


@transaction.atomic
def rectification_record_add(*, actor, problem, date, content, uploads=(), attachment_ids=()):
    """A line of the 《问题整改台账》, with evidence (the same upload rules as ledgers)."""
    work_date_check(date)
    problem = Problem.objects.select_for_update().get(pk=problem.pk)
    if problem.status != Status.RECTIFYING:
        raise ValidationError(_("Progress is recorded while the problem is being rectified."))
    record = _save(
        RectificationRecord(problem=problem, date=date, content=content, recorded_by=actor),
        actor=actor,
        reason=_("progress recorded"),
    )
    record.attachments.set(
        attachments_for(
            actor=actor, organization=problem.responsible_unit, uploads=uploads, existing_ids=attachment_ids
        )
    )
    return record


@transaction.atomic
def problem_request_closing(*, actor, problem, report):
    """销号申请 with the rectification report, once the 《问题整改台账》 shows the work done."""
    if not report.strip():
        raise ValidationError({"report": _("The rectification report is required.")})
    if not RectificationRecord.objects.filter(problem=problem).exists():
        raise ValidationError(
            _("The rectification ledger is empty: record the progress and its evidence before requesting closing.")
        )
    problem = _transition(problem, "request_closing", actor=actor)
    _save(
        ClosingRequest(problem=problem, report=report, submitted_by=actor), actor=actor, reason=_("closing requested")
    )
    return problem


@transaction.atomic
def problem_check(*, actor, problem, passed, comment="", request_id=None):
    """The check by staff above: closed (销号), or back to rectification. Never by the person
    who submitted the closing request (DESIGN.md 2). With request_id (the request the checker
    read), a newer request is not judged unread."""
    pending = ClosingRequest.objects.select_for_update().filter(problem=problem, passed__isnull=True)
    if request_id is not None:
        pending = pending.filter(pk=request_id)
    request = pending.first()
    if request is None:
        raise ValidationError(_("There is no closing request to check, or it has changed; read it again."))
    if request.submitted_by_id == actor.pk:
        raise ValidationError(_("The closing check cannot be made by the person who requested it."))
    if not passed and not comment.strip():
        raise ValidationError({"comment": _("Say what is still missing.")})
    if passed:
        problem = _transition(problem, "close", actor=actor, closed_at=timezone.now())
    else:
        problem = _transition(problem, "fail_check", actor=actor)
    request.passed, request.checked_by, request.checked_at, request.comment = passed, actor, timezone.now(), comment
    _save(request, actor=actor, reason=_("checked"))
    title = _("Problem closed: %(problem)s") if passed else _("Closing check failed, rectify again: %(problem)s")
    notify(users=_owners(problem), title=title % {"problem": problem}, body=comment, url=_url(problem))
    return problem


@transaction.atomic
def problem_cancel(*, actor, problem, reason):
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the problem was listed in error.")})
    problem = _transition(problem, "cancel", actor=actor, cancel_reason=reason.strip())
    _pending_close(problem, actor=actor)
    return problem


def _pending_close(problem, *, actor):
    """A problem that leaves the cycle takes no decision on its pending requests any more."""
    Extension.objects.filter(problem=problem, decision=Decision.PENDING).update(
        decision=Decision.REJECTED,
        decided_by=actor,
        decided_at=timezone.now(),
        comment=str(_("The problem left the cycle.")),
    )
    ClosingRequest.objects.filter(problem=problem, passed__isnull=True).update(
        passed=False, checked_by=actor, checked_at=timezone.now(), comment=str(_("The problem left the cycle."))
    )


@transaction.atomic
def problem_carry_over(*, actor, problem, deadline):
    """At year end an open problem becomes a new, linked problem of the next year."""
    if deadline.year != problem.year + 1:
        raise ValidationError({"deadline": _("The new deadline must fall in %(year)s.") % {"year": problem.year + 1}})
    old = _transition(problem, "carry_over", actor=actor)
    _pending_close(old, actor=actor)
    fields = {
        name: getattr(old, name)
        for name in [
            "organization",
            "responsible_unit",
            "source",
            "category",
            "description",
            "found_on",
            "found_by",
            "responsible_person",
            "severity",
            "checklist_item",
        ]
    }
    carried = Problem(
        year=old.year + 1,
        deadline=deadline,
        original_deadline=deadline,
        carried_from=old,
        listed_by=actor,
        **fields,
    )
    _save(carried, actor=actor, reason=_("carried over from the previous year"))
    notify(
        users=_owners(carried),
        title=_("A problem was carried over to %(year)s: %(problem)s") % {"year": carried.year, "problem": carried},
        url=_url(carried),
        key=f"problem-listed:{carried.pk}",
    )
    return carried


# --- extensions and admonishments ----------------------------------------------------------


@transaction.atomic
def extension_request(*, actor, problem, reason, new_deadline):
    problem = Problem.objects.select_for_update().get(pk=problem.pk)
    if not problem.is_open:
        raise ValidationError(_("Only an open problem can be extended."))
    if problem.extensions.filter(decision=Decision.PENDING).exists():
        raise ValidationError(_("An extension request is already waiting for a decision."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the extension.")})
    extension = Extension(
        problem=problem,
        reason=reason.strip(),
        deadline_before=problem.deadline,
        requested_deadline=new_deadline,
        requested_by=actor,
        after_deadline=timezone.localdate() > problem.deadline,
    )
    return _save(extension, actor=actor, reason=_("extension requested"))


@transaction.atomic
def extension_decide(*, actor, extension, approve, comment=""):
    """Approve (the deadline moves) or refuse an extension, refusing with a reason."""
    if not approve and not comment.strip():
        raise ValidationError({"comment": _("Say why the extension is refused.")})
    problem = Problem.objects.select_for_update().get(pk=extension.problem_id)
    if not problem.is_open:
        raise ValidationError(_("Only an open problem can be extended."))
    decision = Decision.APPROVED if approve else Decision.REJECTED
    decided = Extension.objects.filter(pk=extension.pk, decision=Decision.PENDING).update(
        decision=decision, decided_by=actor, decided_at=timezone.now(), comment=comment.strip()
    )
    if not decided:
        raise ValidationError(_("This extension has been decided already."))
    extension = Extension.objects.select_related("problem").get(pk=extension.pk)
    Extension.history.bulk_history_create(
        [extension], update=True, default_user=actor, default_change_reason=str(extension.get_decision_display())
    )
    problem = extension.problem
    if approve:
        Problem.objects.filter(pk=problem.pk).update(deadline=extension.requested_deadline)
        problem.refresh_from_db()
        Problem.history.bulk_history_create(
            [problem], update=True, default_user=actor, default_change_reason=_("deadline extended")
        )
    notify(
        users=_owners(problem),
        url=_url(problem),
        body=comment,
        title=(
            _("Extension approved to %(deadline)s: %(problem)s") if approve else _("Extension rejected: %(problem)s")
        )
        % {"deadline": extension.requested_deadline, "problem": problem},
    )
    return extension


def _missed():
    """For an Extension row: was its problem still open when the extended deadline ended?
    Judged as of that day, not today: closing by the end of that day (local time), or a later
    extension approved by then, means it was not missed; nor was it if the problem left the
    cycle (listed in error, or carried into the next year) without being closed. One SQL
    expression, for the daily job's UPDATE."""
    by_then = OuterRef("requested_deadline")  # "before the end of that day": its local date at the latest
    closed_by_then = Exists(Problem.objects.filter(pk=OuterRef("problem_id"), closed_at__date__lte=by_then))
    left_the_cycle = Exists(
        Problem.objects.filter(
            pk=OuterRef("problem_id"), status__in=[Status.CANCELLED, Status.CARRIED], closed_at__isnull=True
        )
    )
    later_extension = Exists(
        Extension.objects.filter(
            problem=OuterRef("problem_id"),
            decision=Decision.APPROVED,
            requested_at__gt=OuterRef("requested_at"),
            decided_at__date__lte=by_then,
        )
    )
    return Case(
        When(Q(closed_by_then) | Q(left_the_cycle) | Q(later_extension), then=Value(False)),
        default=Value(True),
        output_field=BooleanField(),
    )


def _secretary_posts(organization, day):
    """The secretary posts held at the organization that day, the latest started first."""
    return (
        Post.objects.filter(organization=organization, title=PostTitle.SECRETARY)
        .current(day)
        .order_by("-start_date", "-pk")
    )


def secretary_on(organization, day):
    """The person who held the secretary post at the organization that day."""
    post = _secretary_posts(organization, day).select_related("person").first()
    return post.person if post else None


@transaction.atomic
def admonishment_recommend(*, actor, organization, person, cause, on):
    """An admonishment due for a reason other than a missed extension (a review's 不称职)."""
    return _save(
        Admonishment(organization=organization, person=person, cause=cause, missed_on=on),
        actor=actor,
        reason=_("admonishment recommended"),
    )


@transaction.atomic
def admonishment_decide(*, actor, admonishment, outcome, held_on=None, notes="", seen=None):
    """Decide an admonishment in one conditional UPDATE on the state the decider read (`seen`:
    the decision time shown, None for one still recommended), so a second POST (another tab,
    another member of staff) is refused with a message, not silently written over the first.
    A decision once read may still be completed (the date held, notes)."""
    if outcome not in set(Admonishment.Outcome) - {Admonishment.Outcome.RECOMMENDED}:
        raise ValidationError({"outcome": _("Choose the decision.")})
    if held_on is not None:
        work_date_check(held_on, "held_on")
    unchanged = Q(decided_at__isnull=True) if seen is None else Q(decided_at=seen)
    decided = Admonishment.objects.filter(unchanged, pk=admonishment.pk).update(
        outcome=outcome, decided_by=actor, decided_at=timezone.now(), held_on=held_on, notes=notes.strip()
    )
    fresh = Admonishment.objects.select_related("decided_by").get(pk=admonishment.pk)
    if not decided:
        raise ValidationError(
            _("This admonishment has been decided meanwhile (%(outcome)s, by %(who)s); read it again.")
            % {"outcome": fresh.get_outcome_display(), "who": fresh.decided_by or "—"}
        )
    Admonishment.history.bulk_history_create(
        [fresh], update=True, default_user=actor, default_change_reason=_("admonishment decided")
    )
    return fresh


def deadlines_check(*, today=None):
    """The daily job: tell owners of problems due within REMINDER days and overdue (once each);
    each approved extension whose deadline passed with the problem open is marked missed and
    makes the secretary in post that day due an admonishment. Safe to run twice."""
    today = today or timezone.localdate()
    open_problems = Problem.objects.filter(status__in=OPEN_STATUSES)
    notifications = []
    soon = open_problems.filter(deadline__gte=today, deadline__lte=today + timedelta(days=settings.REMINDER_DAYS))
    groups = [
        ("soon", soon, _("A problem is due by %(deadline)s: %(problem)s")),
        (
            "overdue",
            open_problems.filter(deadline__lt=today),
            _("A problem is overdue (deadline %(deadline)s): %(problem)s"),
        ),
    ]
    due = Q(pk__in=soon.values("pk")) | Q(pk__in=open_problems.filter(deadline__lt=today).values("pk"))
    owners = _owners_by_organization(Problem.objects.filter(due))
    for kind, problems, title in groups:
        for problem in problems.select_related("organization__parent__parent", "responsible_person__user"):
            users = owners.get(problem.organization_id, set()) | owners.get(problem.responsible_unit_id, set())
            if problem.responsible_person_id and problem.responsible_person.user_id:
                users = users | {problem.responsible_person.user}
            for user in users:
                notifications.append(
                    Notification(
                        user=user,
                        key=f"problem-{kind}:{problem.pk}:{problem.deadline:%Y%m%d}",
                        url=_url(problem),
                        title=title % {"deadline": problem.deadline.isoformat(), "problem": problem},
                    )
                )
    notify_many(notifications)
    return len(notifications), _extensions_examine(today)


EXAMINE_BATCH = 5000  # extensions per statement: the ids are sent as parameters


def _extensions_examine(today):
    """Mark each approved extension whose deadline has passed examined, and missed or not
    (_missed), once; each missed one makes the secretary in post at the organization on its
    deadline day due an admonishment. A few statements per EXAMINE_BATCH extensions, with their
    history rows. Two runs at once examine each extension once: the candidates are locked
    first, and a run waiting for another's lock finds them examined when it is released.
    Returns the number of admonishments recommended."""
    with transaction.atomic():
        ids = list(
            Extension.objects.select_for_update()
            .filter(decision=Decision.APPROVED, examined=False, requested_deadline__lt=today)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        admonished = 0
        for start in range(0, len(ids), EXAMINE_BATCH):
            admonished += _extensions_judge(ids[start : start + EXAMINE_BATCH])
    return admonished


def _extensions_judge(ids):
    """Judge the locked extensions `ids` (not examined yet) and recommend the admonishments."""
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    Extension.objects.filter(pk__in=ids).update(examined=True, missed=_missed())
    history_of(Extension, ids, actor=None, reason=_("examined after its deadline"), history_type="~")
    missed = (
        Extension.objects.filter(pk__in=ids, missed=True)
        .exclude(Exists(Admonishment.objects.filter(extension=OuterRef("pk"))))
        .annotate(
            a_organization=F("problem__organization_id"),
            a_problem=F("problem_id"),
            a_extension=F("pk"),
            a_day=F("requested_deadline"),
            a_person=Subquery(
                _secretary_posts(OuterRef("problem__organization_id"), OuterRef("requested_deadline")).values("person")[
                    :1
                ]
            ),
        )
        .values("a_organization", "a_problem", "a_extension", "a_day", "a_person")
        .order_by("pk")
    )
    missed_sql, missed_params = missed.query.sql_with_params()
    table = quote(Admonishment._meta.db_table)
    columns = [
        quote(Admonishment._meta.get_field(name).column)
        for name in ["organization", "problem", "extension", "missed_on", "person", "cause", "outcome", "notes"]
    ]
    constants = ["", Admonishment.Outcome.RECOMMENDED.value, ""]
    last = Admonishment.objects.aggregate(last=Max("pk"))["last"] or 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            "SELECT m.a_organization, m.a_problem, m.a_extension, m.a_day, m.a_person, %s, %s, %s "
            f"FROM ({missed_sql}) m",
            constants + list(missed_params),
        )
        admonished = cursor.rowcount
    if admonished:
        history_copy(
            Admonishment,
            f"SELECT id FROM {table} WHERE id > %s AND extension_id IN ({marks})",
            [last, *ids],
            actor=None,
            reason=_("admonishment recommended"),
        )
    return admonished


# --- follow-ups, samples, visits, notices --------------------------------------------------


@transaction.atomic
def follow_up_record(*, actor, organization, method, date, findings, problem=None, sample=None):
    work_date_check(date)
    return _save(
        FollowUp(
            organization=organization,
            problem=problem,
            method=method,
            date=date,
            findings=findings,
            sample=sample,
            recorded_by=actor,
        ),
        actor=actor,
        reason=_("follow-up recorded"),
    )


def sample_choose(population, size, seed):
    """The sample a seed gives: anyone can repeat it from the kept population and seed."""
    return sorted(random.Random(seed).sample(sorted(population), min(size, len(population))))


@transaction.atomic
def sample_draw(*, actor, root, kinds, size, seed=None):
    population = list(Organization.objects.subtree(root).filter(kind__in=kinds).values_list("code", flat=True))
    if not population:
        raise ValidationError(_("There is no organization of those kinds to draw from."))
    seed = secrets.randbits(48) if seed is None else seed
    return UnannouncedSample.objects.create(
        root=root,
        kinds=list(kinds),
        population=sorted(population),
        size=size,
        seed=seed,
        chosen=sample_choose(population, size, seed),
        drawn_by=actor,
    )


@transaction.atomic
def visit_record(*, actor, organization, date, answers, new_problems=()):
    """A supervision visit with the five-aspect check; each "no" may list a new problem in the
    same step, linked to the visit: new_problems = [{"aspect", "description", "deadline", "category"}]."""
    work_date_check(date)
    missing = [aspect for aspect in Aspect if aspect not in answers]
    if missing:
        raise ValidationError(_("Answer all five aspects."))
    visit = _save(
        SupervisionVisit(organization=organization, date=date, answers=answers, recorded_by=actor),
        actor=actor,
        reason=_("visit recorded"),
    )
    problems = []
    for new in new_problems:
        if answers[new["aspect"]]["ok"]:
            raise ValidationError(_("A problem is listed from an aspect answered “no”."))
        if not (new.get("category") or "").strip():
            raise ValidationError(_("Give each problem listed its category."))
        problems.append(
            problem_list(
                actor=actor,
                organization=organization,
                visit=visit,
                source=Source.SUPERVISION,
                category=new["category"].strip(),
                description=new["description"],
                found_on=date,
                found_by=actor.full_name or actor.username,
                deadline=new["deadline"],
            )
        )
    return visit, problems


@transaction.atomic
def notice_issue(*, actor, issuer, prefix, year, title, issued_on, content, entries, sequence=None):
    """通报 with its number; entries = [{"organization", "person", "points", "reason"}]."""
    if not entries:
        raise ValidationError(_("A notice names at least one organization or person."))
    given = sequence
    for _attempt in range(5):
        if given is None:
            last = Notice.objects.filter(prefix=prefix, year=year).order_by("-sequence").first()
            sequence = last.sequence + 1 if last else 1
        try:
            # A savepoint: a number taken meanwhile by another issuer is retried with the next one.
            with transaction.atomic():
                notice = _save(
                    Notice(
                        prefix=prefix,
                        year=year,
                        sequence=sequence,
                        title=title,
                        issued_on=issued_on,
                        content=content,
                        issuer=issuer,
                        created_by=actor,
                    ),
                    actor=actor,
                    reason=_("issued"),
                )
            break
        except (IntegrityError, ValidationError):
            taken = Notice.objects.filter(prefix=prefix, year=year, sequence=sequence).exists()
            if not taken:
                raise  # another field is wrong: say so, do not retry
            if given is not None:
                raise ValidationError({"sequence": _("This document number is taken.")}) from None
    else:
        raise ValidationError(_("No free document number could be taken; try again."))
    for entry in entries:
        _save(NoticeEntry(notice=notice, **entry), actor=actor, reason=_("named in a notice"))
    return notice
