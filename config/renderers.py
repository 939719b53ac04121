"""The form renderer (settings.FORM_RENDERER): Django's own, except that the plain inputs and
the selects are written out in Python. A filter bar of eight fields rendered through Django's
widget templates took 3.3 ms on the board (an include per option and per attribute list, 41 of
them); the same HTML in Python takes 0.8 ms, most of it Django building the options.
tests/config/test_renderers.py compares the two, widget by widget, with Django's templates as
the reference, so that a Django upgrade that changes a template fails there, not on the pages."""

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import escape
from django.utils.safestring import SafeData

INPUT = "django/forms/widgets/input.html"
SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
# The widget templates that are nothing but {% include "django/forms/widgets/input.html" %}.
INPUTS = {
    f"django/forms/widgets/{name}.html"
    for name in [
        "checkbox",
        "color",
        "date",
        "datetime",
        "email",
        "file",
        "hidden",
        "number",
        "password",
        "search",
        "tel",
        "text",
        "time",
        "url",
    ]
}

_CONTEXT = Context()  # autoescape on, localization as in a template


def template_text(value):
    """{{ value }}: localized and escaped as a template does it."""
    return render_value_in_context(value, _CONTEXT)


def _formatted(value):
    """{{ value|stringformat:'s' }}: stringformat keeps safe input safe; anything else is escaped."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs):
    """django/forms/widgets/attrs.html: False leaves an attribute out, True writes its name alone."""
    return "".join(
        f" {template_text(name)}" if value is True else f' {template_text(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget):
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    kind, name = template_text(widget["type"]), template_text(widget["name"])
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>'


def _option(option):
    label = template_text(option["label"])
    return f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>{label}</option>'


def _select(widget):
    parts = [f'<select name="{template_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{template_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION:  # a widget of our own, with options of its own
                return None
            parts.append(f"\n  {_option(option)}\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        html = None
        if widget is not None:
            if template_name in INPUTS or template_name == INPUT:
                html = _input(widget)
            elif template_name == SELECT:
                html = _select(widget)
        if html is None:
            return super().render(template_name, context, request=request)
        return html.strip()
