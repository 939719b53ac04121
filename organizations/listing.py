"""Lists of records in a user's area: a total, pages, filters and sorting (issue 14, point 7).

No list is cut off at a fixed length: a page shows `PER_PAGE` rows and says how many there are
in all. A list page costs the same number of queries whatever the data: Django's Paginator
counts once and reads one slice.

The filters are django-filter FilterSets built on `AreaFilterSet`: an organization of the
user's area with its whole subtree (the spine's index-friendly prefix, organizations.subtree),
a period, a deadline colour, a sort order. An export applies the same FilterSet to the query
string the list page was filtered with (`filters_from`), so the workbook holds what the page
listed.
"""

from datetime import timedelta

import django_filters
from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .forms import OrganizationCodeField
from .subtree import within

PER_PAGE = 50


def page_of(request, queryset, *, param="page", per_page=PER_PAGE):
    """One page of the list (a number out of range gives the nearest page), with
    `paginator.count` the total over the whole filtered list. An empty list's page holds [], so
    that showing it does not compile the list's statement only to find it has nothing to read
    (Django slices [0:0] and learns that the slice is empty after compiling every column and
    join: a review queue's three empty lists took 13 ms of its rendering, 4.7 ms with [])."""
    page = Paginator(queryset, per_page).get_page(request.GET.get(param))
    if page.paginator.count == 0:
        page.object_list = []
    return page


def count_of(rows, key):
    """An annotation: how many of `rows` have `key` (a foreign key) pointing at the row, 0 if
    none, as a subquery on that key, which its index serves. Count("reverse relation") would
    join the rows into the list's statement and GROUP BY every column selected: PostgreSQL took
    2 ms to plan that for a page of names, and QuerySet.count() must then count the groups
    (4.4 ms for a county's duty reports waiting for review, against 0.9)."""
    counted = rows.filter(**{key: OuterRef("pk")}).order_by().values(key).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class OrganizationFilter(django_filters.Filter):
    """An organization typed by code or name, limited to the user's area; rows of its whole
    subtree match. The scope is set by the FilterSet (`AreaFilterSet.__init__`)."""

    field_class = OrganizationCodeField

    def __init__(self, *, through="organization__", **kwargs):
        self.through = through
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        if value is None:
            return queryset
        return queryset.filter(within(value, through=self.through))


class MonthFilter(django_filters.Filter):
    """A month (YYYY-MM) of a date or datetime field."""

    field_class = forms.DateField

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m"])
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
        kwargs.setdefault("label", _("month"))
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        first = value.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return queryset.filter(**{f"{self.field_name}__gte": first, f"{self.field_name}__lt": following})


class YearFilter(django_filters.NumberFilter):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("year"))
        kwargs.setdefault("min_value", 2000)
        kwargs.setdefault("max_value", 2100)
        super().__init__(**kwargs)


COLOURS = [("red", _("overdue")), ("yellow", _("due soon")), ("green", _("in time"))]


def deadline_colour_condition(colour, *, field="deadline", still_open=None, today=None):
    """The traffic light of DESIGN.md: red past the deadline, yellow within the reminder days,
    green later; only rows still open (`still_open`) have a colour."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=settings.REMINDER_DAYS)
    condition = {
        "red": Q(**{f"{field}__lt": today}),
        "yellow": Q(**{f"{field}__gte": today, f"{field}__lte": soon}),
        "green": Q(**{f"{field}__gt": soon}),
    }[colour]
    return (still_open or Q()) & condition


class DeadlineColourFilter(django_filters.ChoiceFilter):
    def __init__(self, *, still_open=None, **kwargs):
        self.still_open = still_open
        kwargs.setdefault("choices", COLOURS)
        kwargs.setdefault("label", _("deadline"))
        kwargs.setdefault("empty_label", _("any deadline"))
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(deadline_colour_condition(value, field=self.field_name, still_open=self.still_open))


class SortFilter(django_filters.OrderingFilter):
    """django-filter's OrderingFilter, with the descending choices named in our own words."""

    descending_fmt = _("%s, last first")


class AreaFilterSet(django_filters.FilterSet):
    """A list's filters: `org` (with its subtree, within `scope`) and whatever the subclass
    declares; `sort` where the subclass declares an OrderingFilter of that name."""

    org = OrganizationFilter(label=_("organization"))

    def __init__(self, data=None, queryset=None, *, scope, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.form.fields["org"].scope = scope

    @property
    def qs(self):
        # A form with errors filters by its valid fields only, and says what was wrong,
        # instead of listing nothing (django-filter's default for invalid data).
        if not hasattr(self, "_qs"):
            self.form.is_valid()
            queryset = self.queryset.all()
            for name, value in self.form.cleaned_data.items():
                queryset = self.filters[name].filter(queryset, value)
            self._qs = queryset
        return self._qs

    def query_string(self):
        """The filters as a query string (no page), for an export or a link."""
        query = QueryDict(mutable=True)
        for name in self.filters:
            value = self.data.get(name) if self.data else None
            if value:
                query[name] = value
        return query.urlencode()


def filters_from(data):
    """The filters an export got from the list page ("filters": its query string), as a
    plain dict to store in the job's parameters."""
    raw = str(data.get("filters", ""))[:2000]
    return {key: value[:100] for key, value in QueryDict(raw).items() if key not in {"page"}}
