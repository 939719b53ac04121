"""Repair through the Django admin (superusers only), every change in the history. Ballots and
codes are not here: they are anonymous by design and nothing about them needs repair by hand."""

from django.contrib import admin

from config.admin import HistoryAdmin

from .models import Consequence, PastResult, RaterGroup, Reportee, ReviewSession, Venue


class VenueInline(admin.TabularInline):
    model = Venue
    extra = 0
    fields = ["name", "organization", "held_on", "position"]
    raw_id_fields = ["organization"]


@admin.register(ReviewSession)
class ReviewSessionAdmin(HistoryAdmin):
    list_display = ["title", "year", "organizer", "state"]
    list_filter = ["state", "year", "level"]
    search_fields = ["title", "organizer__name", "organizer__code"]
    raw_id_fields = ["organizer", "created_by"]
    # The state moves only through reviews.services (each step checks what it needs).
    readonly_fields = ["state", "results_at"]
    inlines = [VenueInline]

    def get_readonly_fields(self, request, obj=None):
        # Once rating has opened, rules and venues are fixed: a repair would change results.
        if obj is not None and not obj.is_editable:
            return [field.name for field in obj._meta.fields]
        return super().get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.is_editable


@admin.register(Reportee)
class ReporteeAdmin(HistoryAdmin):
    list_display = ["person", "post_label", "organization", "session", "check_verdict"]
    list_filter = ["check_verdict", "session__year"]
    search_fields = ["person__name", "organization__name"]
    raw_id_fields = ["session", "person", "post", "organization", "report", "checked_by"]
    filter_horizontal = ["venues"]
    readonly_fields = ["problems"]


@admin.register(RaterGroup)
class RaterGroupAdmin(HistoryAdmin):
    list_display = ["name", "venue", "weight", "expected"]
    raw_id_fields = ["venue"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.venue.session.is_editable:
            return ["venue", "name", "weight", "expected", "position"]
        return super().get_readonly_fields(request, obj)


@admin.register(Consequence)
class ConsequenceAdmin(HistoryAdmin):
    list_display = ["person", "kind", "status", "applies_to"]
    list_filter = ["kind", "status", "applies_to"]
    raw_id_fields = ["result", "person", "decided_by", "admonishment"]
    readonly_fields = ["status"]


@admin.register(PastResult)
class PastResultAdmin(HistoryAdmin):
    list_display = ["person", "organization", "year", "grade_label"]
    list_filter = ["year", "grade_label"]
    raw_id_fields = ["person", "organization"]
