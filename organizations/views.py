from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import AccountCreateForm, AccountEditForm, PairingReportForm, PasswordResetForm, RoleAssignForm
from .listing import page_of
from .models import Pairing, RoleAssignment
from .permissions import Action, granted_on, organizations_where
from .timelines import log_response, wants_log


def _visible_or_404(user, code):
    organization = selectors.organization_get_visible(user, code)
    if organization is None:
        # 404 rather than 403: an organization outside the user's area is not shown to exist.
        raise Http404
    return organization


@login_required
def organization_tree(request):
    query = request.GET.get("q", "").strip()
    context = {"query": query}
    if query:
        context["results"] = selectors.organization_search(request.user, query)
    else:
        nodes = list(selectors.organization_roots(request.user))
        if len(nodes) == 1:  # one root (the usual case): show it opened
            nodes[0].preloaded = list(selectors.organization_children(request.user, nodes[0]))
        context["nodes"] = nodes
    if request.htmx:
        return render(request, "organizations/_tree_body.html", context)
    return render(request, "organizations/tree.html", context)


@login_required
def organization_children(request, code):
    organization = _visible_or_404(request.user, code)
    nodes = selectors.organization_children(request.user, organization)
    return render(request, "organizations/_tree_nodes.html", {"nodes": nodes})


@login_required
def organization_options(request):
    """<option>s for the organization-code inputs: the user's search within their area. Each
    input sends its own field name (organization, root, organizer, responsible_unit …), so the
    first value given is the query."""
    query = next((value for value in request.GET.values() if value.strip()), "")
    results = selectors.organization_search(request.user, query, limit=20)
    return render(request, "organizations/_options.html", {"results": results})


@login_required
def organization_detail(request, code):
    user = request.user
    # The user's area, worked out once for the organization, its breadcrumbs and its children.
    visible = selectors.organizations_visible(user)
    organization = visible.filter(code=code).first()
    if organization is None:
        raise Http404  # as _visible_or_404: outside the area, not shown to exist
    if wants_log(request):
        return log_response(request, organization, lambda: selectors.organization_timeline(organization))
    granted = granted_on(user, [Action.MANAGE_ACCOUNTS, Action.MAINTAIN_ORGANIZATIONS], [organization])
    can_manage_accounts = organization.pk in granted[Action.MANAGE_ACCOUNTS]
    context = {
        "organization": organization,
        "ancestors": selectors.organization_ancestors(organization, user),
        "children": selectors.organization_children(user, organization, visible=visible),
        "posts": selectors.posts_current(organization),
        "pairings": selectors.pairings_of(organization),
        "can_manage_accounts": can_manage_accounts,
        "can_export_people": organization.pk in granted[Action.MAINTAIN_ORGANIZATIONS],
        "role_assignments": selectors.role_assignments_at(organization) if can_manage_accounts else None,
    }
    return render(request, "organizations/detail.html", context)


@login_required
def pairing_detail(request, pk):
    pairing = get_object_or_404(
        Pairing.objects.select_related("village__parent__parent", "unit", "leader", "responsible"), pk=pk
    )
    _visible_or_404(request.user, pairing.village.code)
    may_report = selectors.pairing_may_report(request.user, pairing)
    form = PairingReportForm(request.POST or None, initial={"month": timezone.localdate()})
    if request.method == "POST":
        if not may_report:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.pairing_report_submit(actor=request.user, pairing=pairing, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The progress report has been saved."))
                return redirect("organizations:pairing", pk=pairing.pk)
    context = {
        "pairing": pairing,
        "reports": selectors.pairing_reports(pairing),
        "form": form if may_report else None,
    }
    return render(request, "organizations/pairing.html", context)


# --- account management for the admin role -------------------------------------------------


def _admin_scope(user):
    scope = organizations_where(user, Action.MANAGE_ACCOUNTS)
    if not scope.exists():
        raise PermissionDenied
    return scope


def _manageable_or_404(admin_user, username):
    return get_object_or_404(selectors.accounts_manageable(admin_user), username=username)


@login_required
def account_list(request):
    _admin_scope(request.user)
    query = request.GET.get("q", "").strip()
    accounts = selectors.accounts_manageable(request.user)
    if query:
        accounts = accounts.filter(username__icontains=query) | accounts.filter(full_name__icontains=query)
    page = page_of(request, accounts.select_related("organization"))
    return render(
        request, "organizations/accounts/list.html", {"accounts": page.object_list, "page": page, "query": query}
    )


@login_required
def account_create(request):
    scope = _admin_scope(request.user)
    form = AccountCreateForm(request.POST or None, scope=scope, initial={"organization": request.GET.get("org", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        account = services.account_create(
            actor=request.user,
            username=data["username"],
            full_name=data["full_name"],
            password=data["password"],
            organization=data["organization"],
            role=data["role"] or None,
        )
        messages.success(request, _("Account %(username)s has been created.") % {"username": account.username})
        return redirect("accounts:detail", username=account.username)
    return render(request, "organizations/accounts/create.html", {"form": form})


@login_required
def account_detail(request, username):
    scope = _admin_scope(request.user)
    account = _manageable_or_404(request.user, username)
    editable = selectors.account_fully_in_scope(request.user, account)
    assignments = selectors.user_role_assignments(account)
    in_scope = set(assignments.filter(organization__in=scope).values_list("pk", flat=True))
    action = request.POST.get("action") if request.method == "POST" else None
    forms = {
        "role_form": RoleAssignForm(
            request.POST if action == "assign" else None,
            scope=scope,
            initial={"organization": request.GET.get("org", "")},
        ),
        "edit_form": AccountEditForm(
            request.POST if action == "edit" else None,
            initial={"full_name": account.full_name, "is_active": account.is_active},
        ),
        "password_form": PasswordResetForm(request.POST if action == "password" else None, user=account),
    }
    if action in {"edit", "password", "unlock"} and not editable:
        raise PermissionDenied
    # An admin's own account, roles included, is managed from above: no admin gives himself a
    # role or takes his own away (selectors.account_fully_in_scope).
    own = account.pk == request.user.pk
    if action == "assign" and own:
        raise PermissionDenied
    if action == "assign" and forms["role_form"].is_valid():
        try:
            services.role_assign(actor=request.user, user=account, **forms["role_form"].cleaned_data)
        except ValidationError as error:
            forms["role_form"].add_error(None, error)
        else:
            messages.success(request, _("The role has been assigned."))
            return redirect("accounts:detail", username=account.username)
    if action == "edit" and forms["edit_form"].is_valid():
        services.user_update(actor=request.user, user=account, **forms["edit_form"].cleaned_data)
        messages.success(request, _("The account has been saved."))
        return redirect("accounts:detail", username=account.username)
    if action == "unlock":
        services.account_unlock(actor=request.user, user=account)
        messages.success(request, _("The account can log in again."))
        return redirect("accounts:detail", username=account.username)
    if action == "password" and forms["password_form"].is_valid():
        services.user_set_password(
            actor=request.user, user=account, password=forms["password_form"].cleaned_data["password"]
        )
        messages.success(request, _("The password has been reset."))
        return redirect("accounts:detail", username=account.username)
    context = {
        "account": account,
        "editable": editable,
        "own": own,
        "login_locked": selectors.account_login_locked(account),
        "assignments": [(assignment, assignment.pk in in_scope) for assignment in assignments],
        "outside_count": len(assignments) - len(in_scope),
        **forms,
    }
    return render(request, "organizations/accounts/detail.html", context)


@login_required
@require_POST
def role_revoke(request, pk):
    scope = _admin_scope(request.user)
    assignment = get_object_or_404(RoleAssignment.objects.filter(organization__in=scope), pk=pk)
    if assignment.user_id == request.user.pk:
        raise PermissionDenied  # one's own roles are managed from above (account_detail)
    username = assignment.user.username
    services.role_revoke(actor=request.user, assignment=assignment)
    messages.success(request, _("The role has been revoked."))
    return redirect("accounts:detail", username=username)
