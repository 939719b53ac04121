"""config.models.Model: get_FOO_display() must be Django's own, for every choice of every model
of the site, whatever language is active when it is first and later called."""

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from config.models import Model

SITE_APPS = {"organizations", "checklists", "supervision", "reviews", "scoring", "notifications", "spreadsheets"}


def _site_models():
    return [model for model in apps.get_models() if model._meta.app_label in SITE_APPS]


def _choice_fields(model):
    return [field for field in model._meta.concrete_fields if field.choices is not None]


def test_every_model_of_the_site_with_choices_derives_from_the_base():
    with_choices = [model for model in _site_models() if _choice_fields(model)]
    assert len(with_choices) > 30  # the historical models of simple_history are among them
    missing = [
        model._meta.label
        for model in with_choices
        if not issubclass(model, Model) and not model._meta.label.split(".")[1].startswith("Historical")
    ]
    assert missing == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_display_of_every_choice_is_djangos(language):
    other = "en" if language == "zh-hans" else "zh-hans"
    checked = 0
    for model in _site_models():
        if not issubclass(model, Model):
            continue
        for field in _choice_fields(model):
            values = [value for value, _label in field.flatchoices] + ["no-such-value", None, 987654]
            for value in values:
                instance = model()
                setattr(instance, field.attname, value)
                display = getattr(instance, f"get_{field.name}_display")
                for active in (language, other, language):  # the table is built in one, read in both
                    with translation.override(active):
                        assert display() == models.Model._get_FIELD_display(instance, field), (field, value)
                        checked += 1
    assert checked > 300


def test_a_label_is_shown_in_the_language_of_the_moment():
    from supervision.models import Problem, Status

    problem = Problem(status=Status.CLOSED)
    with translation.override("zh-hans"):
        chinese = problem.get_status_display()
    with translation.override("en"):
        english = problem.get_status_display()
    assert (chinese, english) == ("已销号", "closed")


def test_choices_from_a_function_are_read_on_each_call():
    labels = {"a": "first"}

    class Chosen(Model):
        letter = models.CharField(max_length=1, choices=lambda: list(labels.items()))

        class Meta:
            app_label = "organizations"
            managed = False

    try:
        chosen = Chosen(letter="a")
        assert chosen.get_letter_display() == "first"
        labels["a"] = "changed"
        assert chosen.get_letter_display() == "changed"
    finally:
        apps.all_models["organizations"].pop("chosen", None)
        apps.clear_cache()
