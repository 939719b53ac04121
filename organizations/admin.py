from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.admin import HistoryAdmin

from .models import Organization, Pairing, PairingReport, Person, Post, RoleAssignment, User

# The admin is for repair by superusers; each save goes through the model's history, so
# the operation log names the superuser (HistoryRequestMiddleware supplies the user).


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["organization"]


@admin.register(User)
class AccountAdmin(HistoryAdmin, UserAdmin):
    list_display = ["username", "full_name", "organization", "is_active", "is_superuser", "last_login"]
    list_filter = ["is_active", "is_superuser", "role_assignments__role"]
    search_fields = ["username", "full_name"]
    autocomplete_fields = ["organization"]
    fieldsets = [
        *UserAdmin.fieldsets,
        (_("Platform"), {"fields": ["full_name", "organization"]}),
    ]
    inlines = [RoleAssignmentInline]
    actions = ["unlock_login"]

    @admin.action(description=_("Unlock login after wrong passwords"))
    def unlock_login(self, request, queryset):
        from .services import account_unlock

        for account in queryset:
            account_unlock(actor=request.user, user=account)
        self.message_user(request, _("The selected accounts can log in again."))


class ChildInline(admin.TabularInline):
    model = Organization
    fk_name = "parent"
    fields = ["code", "name", "kind", "party_type"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("child organizations")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(HistoryAdmin):
    list_display = ["indented_name", "code", "kind", "party_type", "parent"]
    list_filter = ["kind", "party_type"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]
    list_per_page = 100
    inlines = [ChildInline]

    @admin.display(description=_("organization name"), ordering="path")
    def indented_name(self, obj):
        # Ordered by path, the list reads as the tree: each level indented one step.
        return format_html('<span style="padding-left:{}em">{}</span>', 1.5 * (obj.depth - 1), obj.name)

    def save_model(self, request, obj, form, change):
        from .services import organization_create, organization_update

        fields = {name: form.cleaned_data[name] for name in ["code", "name", "kind", "party_type", "parent"]}
        if change:
            organization_update(actor=request.user, organization=obj, **fields)
        else:
            created = organization_create(actor=request.user, **fields)
            obj.pk, obj.path = created.pk, created.path


class PostInline(admin.TabularInline):
    model = Post
    extra = 0
    autocomplete_fields = ["organization"]


@admin.register(Person)
class PersonAdmin(HistoryAdmin):
    list_display = ["name", "gender", "phone", "political_status", "organization"]
    list_filter = ["political_status", "gender", "organization__kind"]
    search_fields = ["name", "phone", "organization__name", "organization__code"]
    autocomplete_fields = ["organization", "user"]
    inlines = [PostInline]


@admin.register(Post)
class PostAdmin(HistoryAdmin):
    list_display = ["person", "title", "organization", "start_date", "end_date"]
    list_filter = ["title", "organization__kind"]
    search_fields = ["person__name", "organization__name", "organization__code"]
    autocomplete_fields = ["person", "organization"]
    date_hierarchy = "start_date"


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(HistoryAdmin):
    list_display = ["user", "role", "organization", "created_at"]
    list_filter = ["role", "organization__kind"]
    search_fields = ["user__username", "user__full_name", "organization__name", "organization__code"]
    autocomplete_fields = ["user", "organization"]


class PairingReportInline(admin.TabularInline):
    model = PairingReport
    extra = 0
    autocomplete_fields = ["reported_by"]


@admin.register(Pairing)
class PairingAdmin(HistoryAdmin):
    list_display = ["year", "village", "unit", "leader", "responsible"]
    list_filter = ["year"]
    search_fields = ["village__name", "unit__name", "leader__name", "responsible__name"]
    autocomplete_fields = ["village", "unit", "leader", "responsible"]
    inlines = [PairingReportInline]
