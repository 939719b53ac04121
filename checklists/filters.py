"""Filters of the checklists app's lists (organizations.listing): the review queue, the
meeting records of an organization and the checklists issued from a template."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from organizations.listing import AreaFilterSet, MonthFilter, SortFilter

from .models import Checklist, MeetingKind, MeetingRecord, ReviewStatus


class WaitingFilter(AreaFilterSet):
    """The review queue: by organization (with its subtree) and the month submitted."""

    month = MonthFilter(field_name="submitted_at__date", label=_("submitted in"))
    sort = SortFilter(
        label=_("sort by"),
        empty_label=_("oldest first"),
        fields=[("submitted_at", "submitted"), ("organization__path", "organization")],
        field_labels={"submitted_at": _("submitted at"), "organization__path": _("organization")},
    )

    class Meta:
        model = MeetingRecord
        fields = []


class MeetingFilter(AreaFilterSet):
    status = django_filters.ChoiceFilter(label=_("status"), choices=ReviewStatus.choices, empty_label=_("all states"))
    kind = django_filters.ChoiceFilter(label=_("meeting"), choices=MeetingKind.choices, empty_label=_("all meetings"))
    month = MonthFilter(field_name="date")
    sort = SortFilter(
        label=_("sort by"),
        empty_label=_("newest first"),
        fields=[("date", "date"), ("topic", "topic")],
        field_labels={"date": _("date"), "topic": _("topic")},
    )

    class Meta:
        model = MeetingRecord
        fields = []


CLAIM_STATES = [
    ("claimed", pgettext_lazy("state", "claimed")),
    ("unclaimed", _("not claimed")),
    ("late", _("not claimed by the deadline")),
]


class IssuedFilter(AreaFilterSet):
    """The checklists issued from a template: by organization, claim state and deadline colour."""

    claim = django_filters.ChoiceFilter(
        label=_("claim"), choices=CLAIM_STATES, empty_label=_("any claim state"), method="filter_claim"
    )
    colour = django_filters.ChoiceFilter(
        label=_("deadline"),
        choices=[("red", _("overdue")), ("yellow", _("due soon")), ("green", _("in time"))],
        empty_label=_("any deadline"),
        method="filter_colour",
    )
    sort = SortFilter(
        label=_("sort by"),
        empty_label=_("by organization"),
        fields=[("organization__path", "organization"), ("overdue_count", "overdue"), ("claimed_at", "claimed")],
        field_labels={
            "organization__path": _("organization"),
            "overdue_count": _("overdue"),
            "claimed_at": _("claimed at"),
        },
    )

    class Meta:
        model = Checklist
        fields = []

    def filter_claim(self, queryset, name, value):
        if value == "claimed":
            return queryset.filter(claimed_at__isnull=False)
        if value == "late":
            return queryset.filter(claimed_at__isnull=True, claim_deadline__lt=timezone.localdate())
        return queryset.filter(claimed_at__isnull=True)

    def filter_colour(self, queryset, name, value):
        # The mark of a checklist (selectors.status_of): red with an overdue occurrence, yellow
        # with one due within the reminder days, green otherwise; from the list's own counts.
        if value == "red":
            return queryset.filter(overdue_count__gt=0)
        if value == "yellow":
            return queryset.filter(overdue_count=0, soon_count__gt=0)
        return queryset.filter(Q(overdue_count=0) & Q(soon_count=0))
