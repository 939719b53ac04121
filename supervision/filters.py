"""Filters of the problem lists (organizations.listing): the board's problems and the
admonishments, shared by each list page and its export."""

from datetime import timedelta

import django_filters
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.listing import (
    AreaFilterSet,
    DeadlineColourFilter,
    MonthFilter,
    OrganizationFilter,
    SortFilter,
    YearFilter,
)
from organizations.subtree import within_either

from .models import (
    AREA_KEYS,
    OPEN_STATUSES,
    Admonishment,
    Decision,
    Extension,
    FollowUp,
    FollowUpMethod,
    Notice,
    Problem,
    Severity,
    Source,
    Status,
)

STILL_OPEN = Q(status__in=OPEN_STATUSES)
PROBLEM_STATES = [
    ("open", _("open")),
    ("overdue", _("overdue")),
    ("soon", _("due soon")),
    ("extension", _("extension requested")),
    *Status.choices,
]


class ProblemAreaFilter(OrganizationFilter):
    """An organization of the area: the problems concerning its subtree and those for which a
    unit of it is responsible (a county department's own problems are on its board)."""

    def filter(self, queryset, value):
        if value is None:
            return queryset
        return queryset.filter(within_either(Problem, value, *AREA_KEYS))


class ProblemFilter(AreaFilterSet):
    org = ProblemAreaFilter(label=_("organization"))
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=PROBLEM_STATES, empty_label=_("all states"), method="filter_status"
    )
    source = django_filters.ChoiceFilter(label=_("source"), choices=Source.choices, empty_label=_("all sources"))
    severity = django_filters.ChoiceFilter(label=_("severity"), choices=Severity.choices, empty_label=_("any severity"))
    colour = DeadlineColourFilter(field_name="deadline", still_open=STILL_OPEN)
    year = YearFilter(field_name="year")
    found = MonthFilter(field_name="found_on", label=_("found in"))
    sort = SortFilter(
        label=_("sort by"),
        empty_label=_("open first, by deadline"),
        fields=[("deadline", "deadline"), ("found_on", "found"), ("organization__path", "organization")],
        field_labels={"deadline": _("deadline"), "found_on": _("found on"), "organization__path": _("organization")},
    )

    class Meta:
        model = Problem
        fields = []

    def filter_status(self, queryset, name, value):
        if value == "open":
            return queryset.filter(STILL_OPEN)
        today = timezone.localdate()
        if value == "overdue":
            return queryset.filter(STILL_OPEN, deadline__lt=today)
        if value == "soon":
            return queryset.filter(
                STILL_OPEN, deadline__gte=today, deadline__lte=today + timedelta(days=settings.REMINDER_DAYS)
            )
        if value == "extension":
            return queryset.filter(Exists(Extension.objects.filter(problem=OuterRef("pk"), decision=Decision.PENDING)))
        return queryset.filter(status=value)


class AdmonishmentFilter(AreaFilterSet):
    outcome = django_filters.ChoiceFilter(
        label=_("decision"), choices=Admonishment.Outcome.choices, empty_label=_("any decision")
    )
    year = YearFilter(field_name="missed_on__year")
    month = MonthFilter(field_name="missed_on", label=_("due since"))
    sort = SortFilter(
        label=_("sort by"),
        empty_label=_("newest first"),
        fields=[("missed_on", "date"), ("organization__path", "organization")],
        field_labels={"missed_on": _("due since"), "organization__path": _("organization")},
    )

    class Meta:
        model = Admonishment
        fields = []


class FollowUpFilter(AreaFilterSet):
    method = django_filters.ChoiceFilter(label=_("method"), choices=FollowUpMethod.choices, empty_label=_("any method"))
    month = MonthFilter(field_name="date")
    sort = SortFilter(
        label=_("sort by"),
        empty_label=_("newest first"),
        fields=[("date", "date"), ("organization__path", "organization")],
        field_labels={"date": _("date"), "organization__path": _("organization")},
    )

    class Meta:
        model = FollowUp
        fields = []


class NoticeFilter(AreaFilterSet):
    org = OrganizationFilter(through="issuer__", label=_("issued by"))
    year = YearFilter(field_name="year")
    sort = SortFilter(
        label=_("sort by"),
        empty_label=_("newest first"),
        fields=[("issued_on", "date"), ("sequence", "number")],
        field_labels={"issued_on": _("issued on"), "sequence": _("number")},
    )

    class Meta:
        model = Notice
        fields = []
