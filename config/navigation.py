"""The main menu, by role. The project level knows every app, so the menu lives here; each
entry says which roles see it (DESIGN.md 1: who uses what)."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.links import link
from notifications.selectors import unread_count
from organizations.models import Role
from organizations.permissions import role_assignments_of


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    roles: frozenset | None  # any of these roles shows the entry; None: every signed-in user
    superuser: bool = False  # superusers see it whatever their roles


MENU = [
    Entry(_("Home"), "home", None),
    Entry(_("Organizations"), "organizations:tree", frozenset(Role), superuser=True),
    Entry(_("Checklists"), "checklists:home", frozenset(Role) - {Role.JUDGE}, superuser=True),
    Entry(_("Problems"), "supervision:board", frozenset(Role) - {Role.JUDGE}, superuser=True),
    Entry(_("Reviews"), "reviews:home", frozenset({Role.STAFF, Role.SECRETARY, Role.VIEWER}), superuser=True),
    Entry(
        _("Assessment"),
        "scoring:home",
        frozenset({Role.STAFF, Role.SECRETARY, Role.VIEWER, Role.JUDGE}),
        superuser=True,
    ),
    Entry(_("Excel import"), "spreadsheets:import", frozenset({Role.STAFF, Role.ADMIN}), superuser=True),
    Entry(_("My exports"), "spreadsheets:exports", frozenset(Role), superuser=True),
    Entry(_("Accounts"), "accounts:list", frozenset({Role.ADMIN}), superuser=True),
    Entry(_("Administration"), "admin:index", frozenset(), superuser=True),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    assignments = role_assignments_of(user)
    roles = {assignment.role for assignment in assignments}
    items = [
        {
            "label": entry.label,
            "url": link(entry.url_name),
            "active": request.resolver_match and request.resolver_match.view_name == entry.url_name,
        }
        for entry in MENU
        if entry.roles is None or roles & entry.roles or (entry.superuser and user.is_superuser)
    ]
    return {
        "menu": items,
        "my_roles": assignments,
        "unread_count": unread_count(user),
        "today_date": timezone.localdate(),
    }
