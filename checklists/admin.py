from django.contrib import admin

from config.admin import HistoryAdmin

from .models import (
    Attachment,
    Checklist,
    ChecklistItem,
    ChecklistTemplate,
    DutyRecord,
    DutyReport,
    IssueRun,
    LedgerEntry,
    MeetingRecord,
    Occurrence,
    ProgressSnapshot,
    TemplateItem,
)


class TemplateItemInline(admin.TabularInline):
    model = TemplateItem
    extra = 0
    fields = ["position", "code", "category", "title", "frequency", "deadline", "score", "meeting_kind"]


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(HistoryAdmin):
    list_display = ["name", "year", "owner", "late_share"]
    list_filter = ["year"]
    search_fields = ["name", "owner__name"]
    autocomplete_fields = ["owner"]
    inlines = [TemplateItemInline]


@admin.register(Checklist)
class ChecklistAdmin(HistoryAdmin):
    list_display = ["organization", "template", "claim_deadline", "claimed_at", "signature"]
    list_filter = ["template__year", "template"]
    search_fields = ["organization__name", "organization__code", "template__name"]
    autocomplete_fields = ["organization", "template", "claimed_by"]
    readonly_fields = ["claim_snapshot"]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(HistoryAdmin):
    list_display = ["code", "title", "checklist", "frequency", "score", "override_score"]
    list_filter = ["frequency", "checklist__template__year"]
    search_fields = ["code", "title", "checklist__organization__name"]
    raw_id_fields = ["checklist", "template_item", "responsible"]


@admin.register(Occurrence)
class OccurrenceAdmin(admin.ModelAdmin):
    list_display = ["item", "index", "deadline", "done_at", "late"]
    list_filter = ["late"]
    raw_id_fields = ["item"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(HistoryAdmin):
    list_display = ["occurrence", "organization", "date", "status", "version", "submitted_by", "reviewed_by"]
    list_filter = ["status"]
    search_fields = ["content", "organization__name"]
    raw_id_fields = ["occurrence", "organization", "previous", "meeting", "attachments"]


@admin.register(MeetingRecord)
class MeetingRecordAdmin(HistoryAdmin):
    list_display = ["date", "kind", "topic", "organization", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["topic", "organization__name"]
    raw_id_fields = ["organization", "attachments"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "organization", "content_type", "size", "uploaded_by", "uploaded_at"]
    search_fields = ["original_name", "organization__name"]
    raw_id_fields = ["organization"]


@admin.register(DutyRecord)
class DutyRecordAdmin(HistoryAdmin):
    list_display = ["date", "kind", "organization", "author", "report"]
    list_filter = ["kind"]
    search_fields = ["content", "organization__name"]
    raw_id_fields = ["organization", "report"]


@admin.register(DutyReport)
class DutyReportAdmin(HistoryAdmin):
    list_display = ["month", "organization", "status", "submitted_by", "reviewed_by"]
    list_filter = ["status"]
    raw_id_fields = ["organization"]


@admin.register(ProgressSnapshot)
class ProgressSnapshotAdmin(admin.ModelAdmin):
    list_display = ["month", "organization", "due", "done", "overdue", "taken_at"]
    raw_id_fields = ["organization"]


@admin.register(IssueRun)
class IssueRunAdmin(admin.ModelAdmin):
    list_display = ["template", "root", "status", "progress", "checklists_created", "items_added", "started_at"]
    list_filter = ["status"]
    raw_id_fields = ["template", "root"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
