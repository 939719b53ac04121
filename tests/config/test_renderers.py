"""config.renderers.FormRenderer writes the inputs and selects in Python: the HTML must be
Django's own, byte for byte, with Django's widget templates as the reference."""

from pathlib import Path

import django.forms
import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from config.renderers import INPUT, INPUTS, FormRenderer

TODAY = timezone.localdate()
DJANGO = DjangoTemplates()
OURS = FormRenderer()

CHOICES = [
    ("", "—"),
    (1, "一"),
    ("b", 'quote " & <b>'),
    ("safe", mark_safe("<em>safe</em>")),
    ("lazy", gettext_lazy("overdue")),
]
GROUPED = [("", "none"), ("Town <A>", [("a1", "A 1"), ("a2", "A 2")]), ("Town B", [(3, "B 3")])]

WIDGETS = [
    (forms.TextInput(), None),
    (forms.TextInput(attrs={"placeholder": gettext_lazy("organization"), "list": "orgs"}), 'x "y" <z> & 1'),
    (forms.TextInput(attrs={"required": True, "disabled": False, "maxlength": 20, "data-n": 0, "title": ""}), "值"),
    (forms.TextInput(attrs={"data-x": mark_safe("<safe>")}), mark_safe("<b>")),
    (forms.NumberInput(attrs={"min": 2000, "step": 1}), TODAY.year),
    (forms.NumberInput(), 1234567),
    (forms.DateInput(attrs={"type": "month"}), TODAY.replace(day=1)),
    (forms.DateInput(), TODAY),
    (forms.HiddenInput(), ("a", 1)),
    (forms.EmailInput(), "a@b.cn"),
    (forms.PasswordInput(), "secret"),
    (forms.PasswordInput(render_value=True), "secret"),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(), False),
    (forms.Select(choices=CHOICES), None),
    (forms.Select(choices=CHOICES, attrs={"onchange": "this.form.submit()"}), 1),
    (forms.Select(choices=CHOICES), "b"),
    (forms.Select(choices=GROUPED), "a2"),
    (forms.Select(choices=[]), None),
    (forms.SelectMultiple(choices=CHOICES), ["b", 1]),
    (forms.NullBooleanSelect(), None),
    (forms.NullBooleanSelect(), True),
]


def _name(parameter):
    return type(parameter).__name__ if isinstance(parameter, forms.Widget) else None


@pytest.mark.parametrize(("widget", "value"), WIDGETS, ids=_name)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_each_widget_renders_as_djangos_templates_do(widget, value, language, settings):
    from django.utils import translation

    settings.USE_THOUSAND_SEPARATOR = True  # numbers are localized as in a template
    with translation.override(language):
        expected = widget.render("field", value, attrs={"id": "id_field"}, renderer=DJANGO)
        assert widget.render("field", value, attrs={"id": "id_field"}, renderer=OURS) == expected


@pytest.mark.django_db
def test_the_filter_bars_render_as_djangos_templates_do():
    from organizations.models import Organization
    from supervision.filters import AdmonishmentFilter, ProblemFilter

    data = {
        "status": "overdue",
        "source": "",
        "year": str(TODAY.year),
        "found": f"{TODAY:%Y-%m}",
        "sort": "-deadline",
        "org": "<x>",
    }
    for filterset_class in (ProblemFilter, AdmonishmentFilter):
        filterset = filterset_class(data, filterset_class._meta.model.objects.none(), scope=Organization.objects.all())
        for field in filterset.form.visible_fields():
            widget = field.field.widget
            value = field.value()
            attrs = field.build_widget_attrs({"id": field.auto_id})
            ours = widget.render(field.html_name, value, attrs=attrs, renderer=OURS)
            assert ours == widget.render(field.html_name, value, attrs=attrs, renderer=DJANGO), field.name


def test_a_widget_with_a_template_of_its_own_is_left_to_its_template():
    class Starred(forms.Select):
        option_template_name = "django/forms/widgets/attrs.html"  # any other template

    widget = Starred(choices=[("a", "A")])
    assert widget.render("f", "a", renderer=OURS) == widget.render("f", "a", renderer=DJANGO)


def test_the_inputs_written_out_are_exactly_djangos_include_only_templates():
    """Were a Django upgrade to give one of these templates markup of its own, the renderer
    would no longer write what Django writes."""
    folder = Path(django.forms.__file__).parent / "templates"
    include_only = {
        f"django/forms/widgets/{path.name}"
        for path in (folder / "django/forms/widgets").glob("*.html")
        if path.read_text().strip() == f'{{% include "{INPUT}" %}}'
    }
    assert include_only == INPUTS


def test_the_site_uses_it():
    assert isinstance(get_default_renderer(), FormRenderer)
