from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from . import login_throttle
from .models import Role, User


class ThrottledLoginMixin:
    """Refuse, with the wait, a login of an account or from a client locked by wrong passwords."""

    def clean(self):
        minutes = login_throttle.wait_minutes(self.request, self.data.get("username", ""))
        if minutes:
            raise ValidationError(
                _(
                    "Too many wrong passwords: try again in %(minutes)s minutes, "
                    "or ask an administrator to unlock the account."
                ),
                code="locked",
                params={"minutes": minutes},
            )
        return super().clean()


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class OrganizationCodeField(forms.CharField):
    """An organization typed by its code (or picked from the search list), limited to a scope:
    a province has tens of thousands of organizations, too many for a drop-down."""

    def __init__(self, *, scope=None, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "list": "organization-options",
                    "autocomplete": "off",
                    # Suggestions while typing: the options view searches the user's area by name or code.
                    "hx-get": reverse_lazy("organizations:options"),
                    "hx-trigger": "input changed delay:300ms",
                    "hx-target": "#organization-options",
                    "hx-swap": "innerHTML",
                }
            ),
        )
        super().__init__(**kwargs)
        self.scope = scope

    def clean(self, value):
        code = super().clean(value)
        if not code:
            return None
        typed = code.strip()
        organization = self.scope.filter(code=typed).first()
        if organization is not None:
            return organization
        # Typed by its name: taken when exactly one organization of the area bears it.
        named = list(self.scope.filter(name=typed)[:2])
        if len(named) == 1:
            return named[0]
        if named:
            raise forms.ValidationError(
                _("Several organizations of your area are named %(name)s: pick one from the list, or type its code."),
                params={"name": typed},
            )
        raise forms.ValidationError(
            _("No organization of your area has the code or the name %(code)s: type the code, or pick from the list."),
            params={"code": typed},
        )


class OrganizationChoiceField(forms.ModelChoiceField):
    """A drop-down of organizations in tree order, each indented by its level below the first
    choice and named with its town (DESIGN.md 2), so that a county's 制定单位 list reads as a tree.
    Give it a queryset ordered by path with parent__parent loaded."""

    INDENT = "\u3000"  # an ideographic space: browsers keep it at the start of an option

    def label_from_instance(self, obj):
        base = getattr(self, "_base_depth", None)
        if base is None:
            first = self.queryset.first()
            base = self._base_depth = first.depth if first is not None else 0
        return self.INDENT * max(0, obj.depth - base) + obj.name_with_town

    def _set_queryset(self, queryset):
        self._base_depth = None
        super()._set_queryset(queryset)

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)


class PasswordPairMixin:
    """Two password fields that must agree and pass the site's password validators."""

    def clean(self):
        cleaned = super().clean()
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", _("The two passwords do not match."))
        elif password:
            try:
                password_validation.validate_password(password, self._password_user())
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned

    def _password_user(self):
        return None


class AccountCreateForm(PasswordPairMixin, forms.Form):
    username = forms.RegexField(
        label=_("username"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("A username may contain only letters, digits and @ . + - _.")},
    )
    full_name = forms.CharField(label=_("full name"), max_length=50)
    organization = OrganizationCodeField(label=_("home organization (code)"))
    role = forms.ChoiceField(label=_("first role"), choices=[("", "—"), *Role.choices], required=False)
    password = forms.CharField(label=_("password"), widget=forms.PasswordInput(render_value=True), strip=False)
    password_again = forms.CharField(
        label=_("password again"), widget=forms.PasswordInput(render_value=True), strip=False
    )

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].scope = scope

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is taken."))
        return username

    def _password_user(self):
        return User(username=self.cleaned_data.get("username", ""), full_name=self.cleaned_data.get("full_name", ""))


class AccountEditForm(forms.Form):
    full_name = forms.CharField(label=_("full name"), max_length=50)
    is_active = forms.BooleanField(label=_("account enabled"), required=False)


class PasswordResetForm(PasswordPairMixin, forms.Form):
    password = forms.CharField(label=_("new password"), widget=forms.PasswordInput, strip=False)
    password_again = forms.CharField(label=_("new password again"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def _password_user(self):
        return self.user


class RoleAssignForm(forms.Form):
    organization = OrganizationCodeField(label=_("organization (code)"))
    role = forms.ChoiceField(label=_("role"), choices=[("", "—"), *Role.choices])

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].scope = scope


class PairingReportForm(forms.Form):
    month = forms.DateField(
        label=_("month"),
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
    )
    content = forms.CharField(label=_("progress this month"), widget=forms.Textarea(attrs={"rows": 4}))


def form_attempt(form, write):
    """Run a service for a form: its ValidationError lands on the form (by field where it names
    one), which then shows the Chinese reason and keeps what was typed. Returns the service's
    result, or None when it refused."""
    try:
        return write()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return None
