"""Every write of the scoring app, each in one transaction with its operation-log rows."""

import itertools
import logging
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from checklists.models import Checklist, Frequency
from checklists.services import attachments_for, checklist_item_add
from config.numbers import plain
from notifications.services import notify
from organizations.models import Organization, Pairing, Person, Post, PostTitle, RoleAssignment

from . import aggregation
from .models import (
    DEFAULT_THRESHOLDS,
    AggregationRun,
    Appeal,
    AppealStatus,
    Deduction,
    Grant,
    Indicator,
    JudgeScore,
    JudgeSheet,
    Panel,
    Project,
    ProjectReport,
    ProjectStatus,
    QuarterlyScore,
    RunStatus,
    Scheme,
    SchemeKind,
    SchemeMember,
    SchemeState,
    SheetStatus,
    Spending,
)

logger = logging.getLogger(__name__)

# A run that has given no sign of life for this long lost its worker: a new run may start.
STALE_RUN = timedelta(minutes=15)
PROJECT_INDICATORS = [("XM01", "创新性", 40), ("XM02", "前瞻性", 30), ("XM03", "实效性", 30)]


def _save(instance, *, actor, reason):
    instance.full_clean()
    instance._history_user = actor
    instance._change_reason = reason
    instance.save()
    return instance


def _inputs_changed(scheme_id):
    """Mark that the scheme's own inputs changed (see Scheme.inputs_changed_at)."""
    Scheme.objects.filter(pk=scheme_id).update(inputs_changed_at=timezone.now())


def _editable(scheme):
    """Called by every write to the scheme's set-up, which it marks as an input change."""
    if not scheme.is_editable:
        raise ValidationError(
            _("The scheme is %(state)s: its set-up can no longer change.") % {"state": scheme.get_state_display()}
        )
    _inputs_changed(scheme.pk)


# --- schemes ---------------------------------------------------------------------------------


def _rules_check(scheme):
    if not scheme.thresholds:
        scheme.thresholds = list(DEFAULT_THRESHOLDS)
    thresholds = list(scheme.thresholds)
    if (
        len(thresholds) != 3
        or any(not 0 < value <= 100 for value in thresholds)
        or any(higher <= lower for higher, lower in itertools.pairwise(thresholds))
    ):
        raise ValidationError(
            {
                "thresholds": _(
                    "Give three thresholds between 0 and 100, each lower than the one before, from the best grade "
                    "down, e.g. 90, 80, 60."
                )
            }
        )
    if scheme.scoring_date and scheme.year and scheme.scoring_date.year != scheme.year:
        raise ValidationError(
            {"scoring_date": _("The scoring date falls in the scheme's year, %(year)s.") % {"year": scheme.year}}
        )
    total = sum(scheme.weights.values(), Decimal(0))
    if total != 100:
        raise ValidationError(_("The weights must add up to 100 (now %(total)s).") % {"total": total})
    if scheme.quota_count is not None and scheme.quota_numerator is not None:
        raise ValidationError({"quota": _("Give the quota as a number or as a share, not both.")})


@transaction.atomic
def scheme_create(*, actor, owner, **fields):
    scheme = Scheme(owner=owner, created_by=actor, **fields)
    _rules_check(scheme)
    return _save(scheme, actor=actor, reason=_("created"))


@transaction.atomic
def scheme_update(*, actor, scheme, **fields):
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    _editable(scheme)
    for name, value in fields.items():
        setattr(scheme, name, value)
    _rules_check(scheme)
    return _save(scheme, actor=actor, reason=_("rules changed"))


def _same_day(day, year):
    if day is None:
        return None
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return date(year, 2, 28)


RULE_FIELDS = [
    "kind",
    "weight_checklist",
    "weight_panel",
    "weight_mass",
    "weight_ordinary",
    "trim_min_judges",
    "thresholds",
    "quota_count",
    "quota_numerator",
    "quota_denominator",
    "deduction_cap",
    "notice_cap",
    "overdue_problem_points",
    "overdue_problem_cap",
    "late_item_points",
    "late_item_cap",
]


@transaction.atomic
def scheme_copy(*, actor, scheme, year, name):
    """A scheme for another year from this one: rules, indicators, organizations and panels
    (judges and the organizations they score); dates move to the same day of that year. A
    project evaluation is not copied: next year's projects are other projects."""
    if scheme.kind == SchemeKind.PROJECTS:
        raise ValidationError(_("A project evaluation is made anew from the year's projects, not copied."))
    copy = scheme_create(
        actor=actor,
        owner=scheme.owner,
        year=year,
        name=name,
        scoring_date=_same_day(scheme.scoring_date, year),
        **{field: getattr(scheme, field) for field in RULE_FIELDS},
    )
    Indicator.objects.bulk_create(
        [
            Indicator(scheme=copy, code=i.code, name=i.name, max_score=i.max_score, guide=i.guide, position=i.position)
            for i in scheme.indicators.all()
        ]
    )
    members_add(actor=actor, scheme=copy, organizations=Organization.objects.filter(scheme_memberships__scheme=scheme))
    for panel in scheme.panels.prefetch_related("judges", "organizations"):
        new = panel_add(actor=actor, scheme=copy, name=panel.name)
        panel_assign(
            actor=actor, panel=new, judges=list(panel.judges.all()), organizations=list(panel.organizations.all())
        )
    return copy


@transaction.atomic
def members_add(*, actor, scheme, organizations):
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    _editable(scheme)
    have = set(scheme.members.values_list("organization_id", flat=True))
    new = [SchemeMember(scheme=scheme, organization=o) for o in organizations if o.pk not in have]
    SchemeMember.objects.bulk_create(new)
    Scheme.history.bulk_history_create(
        [scheme], update=True, default_user=actor, default_change_reason=_("organizations added")
    )
    return len(new)


@transaction.atomic
def member_remove(*, actor, scheme, organization):
    _editable(scheme)
    if JudgeScore.objects.filter(sheet__scheme=scheme, sheet__organization=organization).exists():
        raise ValidationError(_("Judges have scored this organization already; it stays in the scheme."))
    JudgeSheet.objects.filter(scheme=scheme, organization=organization).delete()
    for panel in scheme.panels.all():
        panel.organizations.remove(organization)
    scheme.members.filter(organization=organization).delete()
    Scheme.history.bulk_history_create(
        [scheme], update=True, default_user=actor, default_change_reason=_("organization removed")
    )


def _indicators_open(scheme):
    """Indicators change until the first score: every judge scores every indicator, and a sheet
    submitted without one would be scaled over the others in silence."""
    _editable(scheme)
    if JudgeScore.objects.filter(sheet__scheme=scheme).exists():
        raise ValidationError(
            _("Judges have started scoring: the indicators can no longer change (correct the scheme instead).")
        )


@transaction.atomic
def indicator_add(*, actor, scheme, **fields):
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    _indicators_open(scheme)
    fields["code"] = fields["code"].strip().upper()  # told apart without case: A1 is a1
    if scheme.indicators.filter(code=fields["code"]).exists():
        raise ValidationError({"code": _("This scheme has an indicator %(code)s already.") % {"code": fields["code"]}})
    fields.setdefault("position", scheme.indicators.count() + 1)
    return _save(Indicator(scheme=scheme, **fields), actor=actor, reason=_("indicator added"))


@transaction.atomic
def indicator_update(*, actor, indicator, **fields):
    """The name, guide and order may change while scoring; the maximum only until the first score."""
    _editable(indicator.scheme)
    if "max_score" in fields and fields["max_score"] != indicator.max_score:
        _indicators_open(indicator.scheme)
    for name, value in fields.items():
        setattr(indicator, name, value)
    return _save(indicator, actor=actor, reason=_("indicator changed"))


@transaction.atomic
def indicator_remove(*, actor, indicator):
    _indicators_open(indicator.scheme)
    indicator._history_user, indicator._change_reason = actor, _("indicator removed")
    indicator.delete()


# --- panels and the conflict rule --------------------------------------------------------------------


def conflicts(judges, organizations, *, year):
    """{(judge id, organization id): reason} for every pair the rule forbids (DESIGN.md 5): the
    judge belongs to the organization (a post, a role or the judge's own organization there or
    below), or is paired with it (挂钩) that year (as the paired leader or responsible person, or
    through a unit the judge belongs to). A few queries for all the pairs."""
    judges, organizations = list(judges), list(organizations)
    judge_ids = [judge.pk for judge in judges]
    belongs = {}  # judge id → [(path, what)]
    for user_id, path, title in (
        Post.objects.current(timezone.localdate())
        .filter(person__user_id__in=judge_ids)
        .values_list("person__user_id", "organization__path", "title")
    ):
        belongs.setdefault(user_id, []).append(
            (path, _("holds a post there (%(post)s)") % {"post": PostTitle(title).label})
        )
    for user_id, path in RoleAssignment.objects.filter(user_id__in=judge_ids).values_list(
        "user_id", "organization__path"
    ):
        belongs.setdefault(user_id, []).append((path, _("holds a role there")))
    for user_id, path in Person.objects.filter(user_id__in=judge_ids).values_list("user_id", "organization__path"):
        belongs.setdefault(user_id, []).append((path, _("is a person of it")))
    persons = dict(Person.objects.filter(user_id__in=judge_ids).values_list("pk", "user_id"))
    unit_paths = {user_id: [path for path, _reason in rows] for user_id, rows in belongs.items()}
    all_paths = {path for paths in unit_paths.values() for path in paths}
    pairings = list(
        Pairing.objects.filter(year=year)
        .filter(Q(leader_id__in=persons) | Q(responsible_id__in=persons) | Q(unit__path__in=all_paths))
        .values_list("village__path", "leader_id", "responsible_id", "unit__path")
    )
    found = {}
    for judge in judges:
        for organization in organizations:
            reason = None
            for path, what in belongs.get(judge.pk, []):
                if path.startswith(organization.path):
                    reason = what
                    break
            if reason is None:
                for village_path, leader_id, responsible_id, unit_path in pairings:
                    if not village_path.startswith(organization.path):
                        continue
                    paired_person = persons.get(leader_id) == judge.pk or persons.get(responsible_id) == judge.pk
                    paired_unit = unit_path and any(unit_path == path for path in unit_paths.get(judge.pk, []))
                    if paired_person or paired_unit:
                        reason = _("is paired with it (挂钩) this year")
                        break
            if reason is not None:
                found[(judge.pk, organization.pk)] = reason
    return found


@transaction.atomic
def panel_add(*, actor, scheme, name):
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    _editable(scheme)
    if scheme.panels.filter(name=name.strip()).exists():
        raise ValidationError({"name": _("This scheme has a panel named %(name)s already.") % {"name": name.strip()}})
    return _save(Panel(scheme=scheme, name=name.strip()), actor=actor, reason=_("panel added"))


@transaction.atomic
def panel_assign(*, actor, panel, judges=(), organizations=()):
    """Add judges and organizations to a panel: every judge of it scores every organization of it,
    except the pairs the conflict rule forbids. Returns the refused pairs [(judge, organization,
    reason)]. Organizations must be in the scheme."""
    scheme = Scheme.objects.select_for_update().get(pk=panel.scheme_id)
    _editable(scheme)
    members = set(scheme.members.values_list("organization_id", flat=True))
    outside = [o for o in organizations if o.pk not in members]
    if outside:
        raise ValidationError(
            _("%(names)s are not assessed in this scheme.") % {"names": "、".join(o.name for o in outside)}
        )
    panel.judges.add(*judges)
    panel.organizations.add(*organizations)
    all_judges, all_organizations = list(panel.judges.all()), list(panel.organizations.all())
    refused = conflicts(all_judges, all_organizations, year=scheme.year)
    have = set(JudgeSheet.objects.filter(scheme=scheme).values_list("judge_id", "organization_id"))
    JudgeSheet.objects.bulk_create(
        [
            JudgeSheet(scheme=scheme, panel=panel, judge=judge, organization=organization)
            for judge in all_judges
            for organization in all_organizations
            if (judge.pk, organization.pk) not in refused and (judge.pk, organization.pk) not in have
        ]
    )
    Panel.history.bulk_history_create(
        [panel], update=True, default_user=actor, default_change_reason=_("panel assigned")
    )
    return named_pairs(refused, all_judges, all_organizations)


def named_pairs(pairs, judges, organizations):
    """{(judge id, organization id): reason} as [(judge, organization, reason)]: the two kinds of
    id are looked up apart (a judge and an organization may share a number)."""
    judges_by_id = {judge.pk: judge for judge in judges}
    organizations_by_id = {organization.pk: organization for organization in organizations}
    return [(judges_by_id[j], organizations_by_id[o], reason) for (j, o), reason in pairs.items()]


@transaction.atomic
def panel_remove_judge(*, actor, panel, judge):
    _editable(panel.scheme)
    if JudgeScore.objects.filter(sheet__panel=panel, sheet__judge=judge).exists():
        raise ValidationError(_("This judge has scored already; the scores stay."))
    JudgeSheet.objects.filter(panel=panel, judge=judge).delete()
    panel.judges.remove(judge)
    Panel.history.bulk_history_create(
        [panel], update=True, default_user=actor, default_change_reason=_("judge removed")
    )


# --- judges' sheets ------------------------------------------------------------------------------------


def _sheet_open(sheet):
    """Called by every write to a sheet's scores, which it marks as an input change."""
    if sheet.status != SheetStatus.OPEN:
        raise ValidationError(_("This sheet has been submitted and is locked."))
    if sheet.scheme.state != SchemeState.SCORING:
        raise ValidationError(_("Scoring is not open for this scheme."))
    _inputs_changed(sheet.scheme_id)


@transaction.atomic
def sheet_save(*, actor, sheet, scores):
    """Save what the judge typed so far (a draft): scores = {indicator id: Decimal or None}.
    A score outside 0..max is refused with the indicator named; nothing is lost meanwhile."""
    sheet = JudgeSheet.objects.select_for_update().select_related("scheme").get(pk=sheet.pk)
    if sheet.judge_id != actor.pk:
        raise ValidationError(_("Only the judge scores his or her own sheet."))
    _sheet_open(sheet)
    indicators = {i.pk: i for i in sheet.scheme.indicators.all()}
    errors = {}
    for indicator_id, score in scores.items():
        indicator = indicators.get(indicator_id)
        if indicator is None:
            continue
        if score is None:
            JudgeScore.objects.filter(sheet=sheet, indicator=indicator).delete()
            continue
        if not 0 <= score <= indicator.max_score:
            errors[indicator_id] = _("%(indicator)s: a score from 0 to %(max)s.") % {
                "indicator": indicator.name,
                "max": plain(indicator.max_score),
            }
            continue
        found = JudgeScore.objects.filter(sheet=sheet, indicator=indicator).first()
        if found is None:
            _save(JudgeScore(sheet=sheet, indicator=indicator, score=score), actor=actor, reason=_("scored"))
        elif found.score != score:
            found.score = score
            _save(found, actor=actor, reason=_("score changed"))
    if errors:
        raise ValidationError(errors)
    return sheet


@transaction.atomic
def sheet_submit(*, actor, sheet):
    sheet = JudgeSheet.objects.select_for_update().select_related("scheme").get(pk=sheet.pk)
    if sheet.judge_id != actor.pk:
        raise ValidationError(_("Only the judge submits his or her own sheet."))
    _sheet_open(sheet)
    missing = sheet.scheme.indicators.exclude(scores__sheet=sheet).values_list("name", flat=True)
    if missing:
        raise ValidationError(_("Score every indicator first: %(names)s.") % {"names": "、".join(missing)})
    moved = JudgeSheet.objects.filter(pk=sheet.pk, status=SheetStatus.OPEN).update(
        status=SheetStatus.SUBMITTED, submitted_at=timezone.now()
    )
    if not moved:
        raise ValidationError(_("This sheet has been submitted and is locked."))
    fresh = JudgeSheet.objects.get(pk=sheet.pk)
    JudgeSheet.history.bulk_history_create(
        [fresh], update=True, default_user=actor, default_change_reason=_("submitted")
    )
    return fresh


@transaction.atomic
def sheets_reopen_for(*, actor, panel, organization, reason):
    """Reopen every submitted sheet of the panel for one organization, with one reason (after an
    upheld appeal the organization is scored again); returns how many were reopened."""
    sheets = list(
        JudgeSheet.objects.filter(panel=panel, organization=organization, status=SheetStatus.SUBMITTED).select_related(
            "scheme", "organization"
        )
    )
    if not sheets:
        raise ValidationError(_("No submitted sheet of this organization to reopen."))
    for sheet in sheets:
        sheet_reopen(actor=actor, sheet=sheet, reason=reason)
    return len(sheets)


@transaction.atomic
def sheet_reopen(*, actor, sheet, reason):
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the sheet is reopened.")})
    if sheet.scheme.state != SchemeState.SCORING:
        raise ValidationError(_("Scoring is not open for this scheme."))
    _inputs_changed(sheet.scheme_id)
    moved = JudgeSheet.objects.filter(pk=sheet.pk, status=SheetStatus.SUBMITTED).update(
        status=SheetStatus.OPEN, submitted_at=None, reopen_reason=reason.strip()
    )
    if not moved:
        raise ValidationError(_("Only a submitted sheet can be reopened."))
    fresh = JudgeSheet.objects.get(pk=sheet.pk)
    JudgeSheet.history.bulk_history_create(
        [fresh], update=True, default_user=actor, default_change_reason=_("reopened")
    )
    notify(
        users=[fresh.judge],
        title=_("A scoring sheet was reopened: %(organization)s") % {"organization": fresh.organization.name_with_town},
        body=reason,
        url=reverse("scoring:sheet", args=[fresh.pk]),
    )
    return fresh


@transaction.atomic
def sheet_import(*, actor, sheet, scores):
    """Scores from the 评委评分 sheet (a panel that scored on paper): saved and submitted."""
    sheet = JudgeSheet.objects.select_for_update().select_related("scheme").get(pk=sheet.pk)
    _sheet_open(sheet)
    for indicator, score in scores:
        found = JudgeScore.objects.filter(sheet=sheet, indicator=indicator).first() or JudgeScore(
            sheet=sheet, indicator=indicator
        )
        found.score = score
        _save(found, actor=actor, reason=_("scored on paper, imported"))
    if not sheet.scheme.indicators.exclude(scores__sheet=sheet).exists():
        sheet.status, sheet.submitted_at = SheetStatus.SUBMITTED, timezone.now()
        _save(sheet, actor=actor, reason=_("submitted"))
    return sheet


# --- deductions and quarterly scores -----------------------------------------------------------------


def _results_open(scheme, *, actor, reason):
    """A change to what the results are computed from: refused once they are announced; after an
    aggregation the scheme goes back to scoring, so that it is aggregated again before it is
    announced (the results on record never miss a change)."""
    if scheme.state in {SchemeState.FINAL, SchemeState.SUPERSEDED, SchemeState.PUBLISHED}:
        raise ValidationError(_("The results are announced: a change needs a correction."))
    _inputs_changed(scheme.pk)
    if scheme.state == SchemeState.AGGREGATED:
        scheme.state = SchemeState.SCORING
        _save(scheme, actor=actor, reason=reason)


@transaction.atomic
def deduction_add(*, actor, scheme, organization, points, reason):
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    _results_open(scheme, actor=actor, reason=_("deduction entered: to be aggregated again"))
    if not scheme.members.filter(organization=organization).exists():
        raise ValidationError({"organization": _("This organization is not assessed in this scheme.")})
    return _save(
        Deduction(scheme=scheme, organization=organization, points=points, reason=reason.strip(), created_by=actor),
        actor=actor,
        reason=_("deduction entered"),
    )


@transaction.atomic
def deduction_remove(*, actor, deduction):
    scheme = Scheme.objects.select_for_update().get(pk=deduction.scheme_id)
    _results_open(scheme, actor=actor, reason=_("deduction removed: to be aggregated again"))
    deduction._history_user, deduction._change_reason = actor, _("deduction removed")
    deduction.delete()


@transaction.atomic
def quarterly_score_set(*, actor, organization, year, quarter, score):
    found = QuarterlyScore.objects.filter(organization=organization, year=year, quarter=quarter).first()
    if found is None:
        found = QuarterlyScore(organization=organization, year=year, quarter=quarter)
    elif found.score == score:
        return found
    found.score, found.entered_by = score, actor
    return _save(found, actor=actor, reason=_("quarterly score entered"))


# --- states, aggregation, publication, appeals, corrections ---------------------------------------------


@transaction.atomic
def scheme_advance(*, actor, scheme, to, publication_ends_on=None):
    """draft → scoring → (aggregation) → aggregated → announced → final; aggregated → scoring
    to fix something before the announcement. Announcing sets the last day of the announcement
    (publication_ends_on), which stays fixed from then on."""
    moves = {
        SchemeState.SCORING: {SchemeState.DRAFT, SchemeState.AGGREGATED},
        SchemeState.PUBLISHED: {SchemeState.AGGREGATED},
        SchemeState.FINAL: {SchemeState.PUBLISHED},
    }
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    if to not in moves or scheme.state not in moves[to]:
        raise ValidationError(
            _("This cannot be done now: the scheme is %(state)s.") % {"state": scheme.get_state_display()}
        )
    if to == SchemeState.SCORING and not scheme.members.exists():
        raise ValidationError(_("Add the organizations to assess first."))
    if to == SchemeState.SCORING and scheme.weight_panel and not scheme.indicators.exists():
        raise ValidationError(_("Add the panel's indicators first."))
    if to == SchemeState.PUBLISHED:
        if publication_ends_on is not None:
            scheme.publication_ends_on = publication_ends_on
        if scheme.publication_ends_on is None or scheme.publication_ends_on < timezone.localdate():
            raise ValidationError({"publication_ends_on": _("Set the last day of the announcement, today or later.")})
        if AggregationRun.objects.filter(scheme=scheme, status=RunStatus.RUNNING).exists():
            raise ValidationError(_("An aggregation is running: announce the results once it has finished."))
    if to == SchemeState.FINAL:
        from .selectors import versions_of

        # Appeals against the versions this one corrects are decided too before the lock.
        if Appeal.objects.filter(scheme__in=versions_of(scheme), status=AppealStatus.PENDING).exists():
            raise ValidationError(_("Decide every appeal first, those against the earlier versions too."))
        if scheme.publication_ends_on >= timezone.localdate():
            raise ValidationError(
                _("The announcement runs until %(day)s: the results can be made final after it.")
                % {"day": scheme.publication_ends_on.isoformat()}
            )
    scheme.state = to
    _save(scheme, actor=actor, reason=str(SchemeState(to).label))
    if to == SchemeState.PUBLISHED:
        _notify_members(scheme)
    return scheme


def _notify_members(scheme):
    users = {
        assignment.user
        for assignment in RoleAssignment.objects.filter(
            organization__scheme_memberships__scheme=scheme, role="secretary", user__is_active=True
        ).select_related("user")
    }
    if scheme.previous_id:
        title = _("The corrected results (version %(version)s) of %(scheme)s are announced until %(day)s")
    else:
        title = _("The results of %(scheme)s are announced until %(day)s")
    notify(
        users=users,
        title=title % {"scheme": scheme.name, "day": scheme.publication_ends_on.isoformat(), "version": scheme.version},
        url=reverse("scoring:board", args=[scheme.pk]),
        key=f"scheme-published:{scheme.pk}",
    )


def aggregation_start(*, actor, scheme, enqueue=True):
    """Start the year-end aggregation as a job. Single flight: a second request while one runs
    is refused (the database allows one running run per scheme); a run whose worker died
    (no sign of life for STALE_RUN) is marked failed, and a new one may start."""
    from .tasks import aggregate

    with transaction.atomic():
        scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
        if scheme.state not in {SchemeState.SCORING, SchemeState.AGGREGATED}:
            raise ValidationError(
                _("This cannot be done now: the scheme is %(state)s.") % {"state": scheme.get_state_display()}
            )
        AggregationRun.objects.filter(
            scheme=scheme, status=RunStatus.RUNNING, heartbeat_at__lt=timezone.now() - STALE_RUN
        ).update(
            status=RunStatus.FAILED, error=_("Its worker stopped giving signs of life."), finished_at=timezone.now()
        )
        try:
            with transaction.atomic():
                run = AggregationRun.objects.create(scheme=scheme, requested_by=actor)
        except IntegrityError:
            raise ValidationError(_("An aggregation of this scheme is running already; wait for it.")) from None
        Scheme.history.bulk_history_create(
            [scheme], update=True, default_user=actor, default_change_reason=_("aggregation started")
        )
        if enqueue:  # the management command runs it in its own process instead
            aggregate.delay_on_commit(run.pk)
    return run


def aggregation_run(*, run_id):
    """The job: compute (reading, with progress) and store the results in one transaction.
    Safe to run twice and after a lost worker: a rerun replaces the rows with the same ones."""
    run = AggregationRun.objects.select_related("scheme").filter(pk=run_id, status=RunStatus.RUNNING).first()
    if run is None:
        return None
    scheme = run.scheme

    def progress(step, percent):
        AggregationRun.objects.filter(pk=run_id).update(step=step, progress=percent, heartbeat_at=timezone.now())

    try:
        with translation.override(settings.LANGUAGE_CODE):
            computed = aggregation.compute(scheme, progress=progress)
            progress("store", 90)
            with transaction.atomic():
                locked = Scheme.objects.select_for_update().get(pk=scheme.pk)
                refusal = None
                if locked.state not in {SchemeState.SCORING, SchemeState.AGGREGATED}:
                    refusal = _("The results were announced meanwhile; this run wrote nothing.")
                elif locked.inputs_changed_at and locked.inputs_changed_at >= run.started_at:
                    refusal = _("Scores or deductions changed while it ran; it wrote nothing: aggregate again.")
                if refusal:
                    AggregationRun.objects.filter(pk=run_id).update(
                        status=RunStatus.FAILED, error=refusal, finished_at=timezone.now()
                    )
                    return None
                aggregation.store(locked, computed)
                Scheme.objects.filter(pk=scheme.pk, state=SchemeState.SCORING).update(state=SchemeState.AGGREGATED)
                AggregationRun.objects.filter(pk=run_id).update(
                    status=RunStatus.DONE, progress=100, step="", finished_at=timezone.now()
                )
        Scheme.history.bulk_history_create(
            [Scheme.objects.get(pk=scheme.pk)],
            update=True,
            default_user=run.requested_by,
            default_change_reason=_("aggregated"),
        )
    except Exception as error:
        logger.exception("aggregation run %s failed", run_id)
        AggregationRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    return computed


@transaction.atomic
def appeal_file(*, actor, scheme, organization, reason):
    """申诉 by the organization's secretary while the results are announced."""
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    if scheme.state != SchemeState.PUBLISHED or timezone.localdate() > scheme.publication_ends_on:
        raise ValidationError(_("Appeals are filed while the results are announced."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say what you appeal against, and why.")})
    if scheme.appeals.filter(organization=organization, status=AppealStatus.PENDING).exists():
        raise ValidationError(_("An appeal of this organization is waiting for a decision already."))
    appeal = _save(
        Appeal(scheme=scheme, organization=organization, reason=reason.strip(), filed_by=actor),
        actor=actor,
        reason=_("appeal filed"),
    )
    notify(
        users=[scheme.created_by],
        title=_("An appeal against %(scheme)s: %(organization)s")
        % {"scheme": scheme.name, "organization": organization.name_with_town},
        body=reason[:200],
        url=reverse("scoring:appeals", args=[scheme.pk]),
    )
    return appeal


@transaction.atomic
def appeal_resolve(*, actor, appeal, upheld, resolution):
    """Upheld: the scheme is corrected (a new version, the announced one kept); rejected: with
    the reason. One conditional update, so two staff cannot both decide it."""
    if not resolution.strip():
        raise ValidationError({"resolution": _("Give the reason of the decision.")})
    scheme = appeal.scheme
    correction = None
    if upheld:
        # The latest version: one being corrected takes this appeal too; an announced one is
        # corrected again.
        latest = scheme
        while getattr(latest, "correction", None) is not None:
            latest = latest.correction
        if latest.pk != scheme.pk and latest.state in {SchemeState.DRAFT, SchemeState.SCORING, SchemeState.AGGREGATED}:
            correction = latest
        else:
            correction = scheme_correct(
                actor=actor,
                scheme=latest,
                reason=_("appeal of %(organization)s upheld: %(resolution)s")
                % {"organization": appeal.organization.name_with_town, "resolution": resolution.strip()},
            )
    moved = Appeal.objects.filter(pk=appeal.pk, status=AppealStatus.PENDING).update(
        status=AppealStatus.UPHELD if upheld else AppealStatus.REJECTED,
        resolution=resolution.strip(),
        resolved_by=actor,
        resolved_at=timezone.now(),
        correction=correction,
    )
    if not moved:
        raise ValidationError(_("This appeal has been decided already."))
    fresh = Appeal.objects.get(pk=appeal.pk)
    Appeal.history.bulk_history_create(
        [fresh], update=True, default_user=actor, default_change_reason=str(fresh.get_status_display())
    )
    notify(
        users=[fresh.filed_by],
        title=_("Your appeal against %(scheme)s: %(status)s")
        % {"scheme": scheme.name, "status": fresh.get_status_display()},
        body=resolution,
        url=reverse("scoring:explain", args=[scheme.pk, fresh.organization.code]),
    )
    return fresh


@transaction.atomic
def scheme_correct(*, actor, scheme, reason):
    """A correction of announced or final results: a new version of the scheme, with everything
    of the old one copied (indicators, organizations, panels, sheets and scores, deductions),
    open for scoring again; the old version is kept, marked replaced."""
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    if scheme.state not in {SchemeState.PUBLISHED, SchemeState.FINAL}:
        raise ValidationError(_("Only announced or final results are corrected through a new version."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the results are corrected.")})
    fields = {f: getattr(scheme, f) for f in RULE_FIELDS}
    new = Scheme(
        owner=scheme.owner,
        year=scheme.year,
        name=scheme.name,
        version=scheme.version + 1,
        previous=scheme,
        correction_reason=reason.strip(),
        scoring_date=scheme.scoring_date,
        checklist_template=scheme.checklist_template,
        state=SchemeState.SCORING,
        created_by=actor,
        **fields,
    )
    _save(new, actor=actor, reason=_("correction"))
    indicators = {}
    for indicator in scheme.indicators.all():
        indicators[indicator.pk] = Indicator.objects.create(
            scheme=new,
            code=indicator.code,
            name=indicator.name,
            max_score=indicator.max_score,
            guide=indicator.guide,
            position=indicator.position,
        )
    SchemeMember.objects.bulk_create(
        [
            SchemeMember(scheme=new, organization_id=m.organization_id, project_id=m.project_id)
            for m in scheme.members.all()
        ]
    )
    for panel in scheme.panels.prefetch_related("judges", "organizations"):
        copy = Panel.objects.create(scheme=new, name=panel.name)
        copy.judges.set(panel.judges.all())
        copy.organizations.set(panel.organizations.all())
        for sheet in panel.sheets.prefetch_related("scores"):
            sheet_copy = JudgeSheet.objects.create(
                scheme=new,
                panel=copy,
                judge_id=sheet.judge_id,
                organization_id=sheet.organization_id,
                status=sheet.status,
                submitted_at=sheet.submitted_at,
            )
            JudgeScore.objects.bulk_create(
                [
                    JudgeScore(sheet=sheet_copy, indicator=indicators[s.indicator_id], score=s.score)
                    for s in sheet.scores.all()
                ]
            )
    Deduction.objects.bulk_create(
        [
            Deduction(
                scheme=new, organization_id=d.organization_id, points=d.points, reason=d.reason, created_by=d.created_by
            )
            for d in scheme.deductions.all()
        ]
    )
    Scheme.objects.filter(pk=scheme.pk).update(state=SchemeState.SUPERSEDED)
    Scheme.history.bulk_history_create(
        [Scheme.objects.get(pk=scheme.pk)],
        update=True,
        default_user=actor,
        default_change_reason=_("replaced by a correction"),
    )
    return new


# --- secretary projects ------------------------------------------------------------------------------------

PROJECT_FIELDS = ["title", "background", "problem", "measures", "schedule", "expected_result", "budget"]


@transaction.atomic
def project_file(*, actor, organization, year, **fields):
    """The secretary's 立项书: the secretary in post files it for his or her organization."""
    person = getattr(actor, "person", None)
    post = Post.objects.current(timezone.localdate()).filter(
        organization=organization, title=PostTitle.SECRETARY, person=person
    )
    if person is None or not post.exists():
        raise ValidationError(_("The secretary in post at the organization files its project."))
    project = Project(year=year, organization=organization, secretary=person, filed_by=actor, **fields)
    return _save(project, actor=actor, reason=_("filed"))


@transaction.atomic
def project_update(*, actor, project, **fields):
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.status not in {ProjectStatus.FILED, ProjectStatus.RETURNED}:
        raise ValidationError(_("The project is in the library: its 立项书 no longer changes."))
    for name, value in fields.items():
        setattr(project, name, value)
    project.status = ProjectStatus.FILED
    return _save(project, actor=actor, reason=_("resubmitted"))


@transaction.atomic
def project_review(
    *, actor, project, approve, small_scope, difficult, exemplary, feasible, comment, item_score=Decimal(0)
):
    """The review against 切口小、有难度、示范强、能落实: approved into the project library and, as an
    item, into the organization's checklist of the year; or returned with what to change."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.status != ProjectStatus.FILED:
        raise ValidationError(_("Only a project waiting for review can be reviewed."))
    if not approve and not comment.strip():
        raise ValidationError({"comment": _("Say what to change.")})
    if approve and not all([small_scope, difficult, exemplary, feasible]):
        raise ValidationError(
            _("A project goes into the library when it meets all four: 切口小、有难度、示范强、能落实.")
        )
    project.small_scope, project.difficult, project.exemplary, project.feasible = (
        small_scope,
        difficult,
        exemplary,
        feasible,
    )
    project.review_comment, project.reviewed_by, project.reviewed_at = comment.strip(), actor, timezone.now()
    project.status = ProjectStatus.APPROVED if approve else ProjectStatus.RETURNED
    if approve:
        checklist = (
            Checklist.objects.filter(organization=project.organization, template__year=project.year)
            .order_by("pk")
            .first()
        )
        if checklist is None:
            raise ValidationError(
                _(
                    "No checklist of %(year)s has been issued to %(organization)s: "
                    "issue it first, the project becomes one of its items."
                )
                % {"year": project.year, "organization": project.organization.name_with_town}
            )
        code = f"SJXM{project.pk}"
        project.checklist_item = checklist_item_add(
            actor=actor,
            checklist=checklist,
            reason=_("secretary project approved"),
            code=code,
            category="书记项目",
            title=f"书记项目：{project.title}",
            requirement=project.measures[:2000],
            evidence="项目进展报告、验收材料",
            frequency=Frequency.ONCE,
            deadline=date(project.year, 12, 31),
            score=item_score,
        )
    _save(project, actor=actor, reason=_("approved into the project library") if approve else _("returned"))
    notify(
        users=[project.filed_by],
        title=(
            _("Your secretary project is in the library: %(title)s")
            if approve
            else _("Your secretary project was returned: %(title)s")
        )
        % {"title": project.title},
        body=comment,
        url=reverse("scoring:project", args=[project.pk]),
    )
    return project


@transaction.atomic
def project_report_add(*, actor, project, stage, date, content, uploads=(), attachment_ids=()):
    project = Project.objects.select_for_update().select_related("organization").get(pk=project.pk)
    if project.status != ProjectStatus.APPROVED:
        raise ValidationError(_("Progress is reported for a project in the library, until its acceptance."))
    if date > timezone.localdate():
        raise ValidationError({"date": _("The date of work done cannot be after today.")})
    report = _save(
        ProjectReport(project=project, stage=stage, date=date, content=content, submitted_by=actor),
        actor=actor,
        reason=_("progress reported"),
    )
    report.attachments.set(
        attachments_for(actor=actor, organization=project.organization, uploads=uploads, existing_ids=attachment_ids)
    )
    return report


@transaction.atomic
def project_accept(*, actor, project, passed, notes):
    """验收: the acceptance check with its verdict."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.status != ProjectStatus.APPROVED:
        raise ValidationError(_("Only a project in the library is checked for acceptance."))
    if not notes.strip():
        raise ValidationError({"notes": _("Record what the acceptance check found.")})
    project.status = ProjectStatus.ACCEPTED if passed else ProjectStatus.NOT_ACCEPTED
    project.acceptance_notes, project.accepted_by, project.accepted_at = notes.strip(), actor, timezone.now()
    return _save(project, actor=actor, reason=_("accepted") if passed else _("not accepted"))


@transaction.atomic
def evaluation_create(*, actor, owner, year, name, projects, scoring_date):
    """The competitive evaluation of projects by a jury (创新性、前瞻性、实效性) on the panel
    machinery: a scheme whose members are the projects' organizations, panel weight 100."""
    projects = list(projects)
    if not projects:
        raise ValidationError(_("Choose the projects to evaluate."))
    scheme = scheme_create(
        actor=actor,
        owner=owner,
        year=year,
        name=name,
        kind=SchemeKind.PROJECTS,
        weight_checklist=0,
        weight_panel=100,
        weight_mass=0,
        weight_ordinary=0,
        scoring_date=scoring_date,
    )
    for position, (code, title, maximum) in enumerate(PROJECT_INDICATORS, start=1):
        Indicator.objects.create(scheme=scheme, code=code, name=title, max_score=maximum, position=position)
    organizations = {}
    for project in projects:
        if project.organization_id in organizations:
            raise ValidationError(_("One project per organization in an evaluation."))
        organizations[project.organization_id] = project
    SchemeMember.objects.bulk_create(
        [SchemeMember(scheme=scheme, organization_id=o, project=p) for o, p in organizations.items()]
    )
    return scheme


@transaction.atomic
def grants_award(*, actor, evaluation, projects, amount):
    """专项党费 for the projects selected from the evaluation's ranking (e.g. the top 5)."""
    evaluation = Scheme.objects.select_for_update().get(pk=evaluation.pk)
    if evaluation.kind != SchemeKind.PROJECTS or evaluation.state not in {SchemeState.PUBLISHED, SchemeState.FINAL}:
        raise ValidationError(_("Grants follow an announced evaluation of projects."))
    if amount is None or amount <= 0:
        raise ValidationError({"amount": _("Give the amount of each grant.")})
    allowed = set(evaluation.members.values_list("project_id", flat=True))
    grants = []
    for project in projects:
        if project.pk not in allowed:
            raise ValidationError(_("%(title)s was not evaluated here.") % {"title": project.title})
        if Grant.objects.filter(project=project).exists():
            continue
        grants.append(
            _save(
                Grant(
                    project=project,
                    evaluation=evaluation,
                    amount=amount,
                    awarded_by=actor,
                    awarded_on=timezone.localdate(),
                ),
                actor=actor,
                reason=_("grant awarded"),
            )
        )
    return grants


@transaction.atomic
def spending_record(*, actor, grant, date, purpose, amount, receipt=None):
    """What the grant was spent on; the grant's row is locked, so two records at the same moment
    cannot together go over it."""
    grant = Grant.objects.select_for_update().select_related("project__organization").get(pk=grant.pk)
    if date > timezone.localdate():
        raise ValidationError({"date": _("The date of work done cannot be after today.")})
    spent = grant.spendings.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    if spent + amount > grant.amount:
        raise ValidationError(
            {
                "amount": _("That would spend %(total)s of a grant of %(grant)s.")
                % {"total": spent + amount, "grant": grant.amount}
            }
        )
    attachment = None
    if receipt is not None:
        (attachment,) = attachments_for(
            actor=actor, organization=grant.project.organization, uploads=[receipt], existing_ids=[]
        )
    return _save(
        Spending(grant=grant, date=date, purpose=purpose.strip(), amount=amount, receipt=attachment, recorded_by=actor),
        actor=actor,
        reason=_("spending recorded"),
    )
