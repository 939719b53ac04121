"""Repair through the Django admin (superusers only), every change in the history. Results and
runs are read-only: they are worked out by the aggregation, never typed."""

from django.contrib import admin

from config.admin import HistoryAdmin

from .models import AggregationRun, Appeal, Grant, Indicator, Panel, Project, QuarterlyScore, Scheme, SchemeResult


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ["code", "name", "max_score", "position"]


@admin.register(Scheme)
class SchemeAdmin(HistoryAdmin):
    list_display = ["name", "year", "owner", "kind", "state", "version"]
    list_filter = ["state", "kind", "year"]
    search_fields = ["name", "owner__name"]
    raw_id_fields = ["owner", "previous", "checklist_template", "created_by"]
    # The state moves only through scoring.services; announced results change by a correction.
    readonly_fields = ["state", "version", "previous", "aggregated_at"]
    inlines = [IndicatorInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [field.name for field in obj._meta.fields]
        return super().get_readonly_fields(request, obj)


@admin.register(Panel)
class PanelAdmin(HistoryAdmin):
    list_display = ["name", "scheme"]
    raw_id_fields = ["scheme"]
    filter_horizontal = ["judges"]
    readonly_fields = ["organizations"]


@admin.register(SchemeResult)
class SchemeResultAdmin(admin.ModelAdmin):
    list_display = ["organization", "scheme", "rank", "total", "grade"]
    list_filter = ["scheme__year"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(AggregationRun)
class AggregationRunAdmin(admin.ModelAdmin):
    list_display = ["scheme", "status", "progress", "started_at", "finished_at"]
    list_filter = ["status"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


for model in [Appeal, Project, Grant, QuarterlyScore]:
    admin.site.register(model, HistoryAdmin)
