from django.contrib import admin

from config.admin import HistoryAdmin

from .models import (
    Admonishment,
    ClosingRequest,
    Extension,
    FollowUp,
    Notice,
    NoticeEntry,
    Problem,
    RectificationPlan,
    RectificationRecord,
    SupervisionVisit,
    UnannouncedSample,
)


class ExtensionInline(admin.TabularInline):
    model = Extension
    extra = 0
    fields = ["deadline_before", "requested_deadline", "decision", "missed"]
    readonly_fields = fields


@admin.register(Problem)
class ProblemAdmin(HistoryAdmin):
    list_display = ["organization", "description", "status", "deadline", "source", "severity"]
    list_filter = ["status", "source", "severity", "year"]
    search_fields = ["description", "organization__name", "organization__code"]
    raw_id_fields = ["organization", "responsible_unit", "responsible_person", "checklist_item", "carried_from"]
    # The status moves only through supervision.services (the life cycle is enforced there).
    readonly_fields = ["status"]
    inlines = [ExtensionInline]


for model in [
    RectificationPlan,
    RectificationRecord,
    ClosingRequest,
    Extension,
    Admonishment,
    FollowUp,
    SupervisionVisit,
    NoticeEntry,
]:
    admin.site.register(
        model,
        HistoryAdmin,
        raw_id_fields=[field.name for field in model._meta.fields if field.many_to_one or field.one_to_one],
    )


@admin.register(Notice)
class NoticeAdmin(HistoryAdmin):
    list_display = ["number", "title", "issued_on", "issuer"]
    search_fields = ["title", "prefix"]
    raw_id_fields = ["issuer", "created_by"]


@admin.register(UnannouncedSample)
class UnannouncedSampleAdmin(admin.ModelAdmin):
    list_display = ["drawn_at", "root", "size", "seed", "drawn_by"]
    readonly_fields = ["population", "chosen", "seed"]
    raw_id_fields = ["root", "drawn_by"]
