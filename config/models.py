"""The base of every model of the site: Django's Model with a get_FOO_display() that does not
translate every label of the field on each call.

Django's looks the value up in `dict(make_hashable(field.flatchoices))`, built anew on every
call; building it hashes each (value, label) pair, and hashing a lazy label translates it. That
is 50 µs for an organization's kind (20 labels) and 22 µs for a problem's state, paid for every
row of a list that shows one, and for every row of an export. Here the table of values to
(lazy) labels is built once per field, and only the label shown is translated, in the language
of the moment. tests/config/test_models.py checks it against Django's for every choice of every
model, in two languages, and that every model of the site derives from this one. Abstract, so
it leaves no trace in the migrations (Django flattens abstract bases away)."""

import functools

from django.db import models
from django.utils.choices import CallableChoiceIterator
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


@functools.cache
def _labels(field):
    """{value: lazy label} of a field with fixed choices, built once per field (fields live as
    long as their model)."""
    return {make_hashable(value): label for value, label in field.flatchoices}


class Model(models.Model):
    class Meta:
        abstract = True

    def _get_FIELD_display(self, field):
        if isinstance(field.choices, CallableChoiceIterator):  # choices from a function: read each time
            return super()._get_FIELD_display(field)
        value = getattr(self, field.attname)
        return force_str(_labels(field).get(make_hashable(value), value), strings_only=True)
