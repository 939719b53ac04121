"""The list filters `day` and `short` (organizations/templatetags/listing.py) write what Django's
`date:"Y-m-d"` and `truncatechars` write, through a template as the pages use them."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.template import engines
from django.utils import timezone
from django.utils.safestring import mark_safe


def _render(source, value, **context):
    return engines["django"].from_string("{% load listing %}" + source).render({"value": value, **context})


TODAY = timezone.localdate()
MIDNIGHT_UTC = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
DAYS = [
    TODAY,
    date(987, 1, 2),
    MIDNIGHT_UTC,  # 08:00 in Shanghai, the same day
    MIDNIGHT_UTC - timedelta(hours=9),  # 23:00 UTC the day before, 07:00 of the day in Shanghai
    MIDNIGHT_UTC + timedelta(hours=17),  # 17:00 UTC, already the next day in Shanghai
    datetime.combine(TODAY, datetime.min.time()),  # naive
    None,
    "",
    TODAY.isoformat(),  # a string: the date filter writes nothing for it
]


@pytest.mark.parametrize("value", DAYS, ids=repr)
def test_day_is_the_date_filter_with_year_month_day(value):
    assert _render("{{ value|day }}", value) == _render('{{ value|date:"Y-m-d" }}', value)


def test_day_shows_an_aware_time_on_the_local_calendar():
    late = MIDNIGHT_UTC + timedelta(hours=17)
    assert _render("{{ value|day }}", late) == (TODAY + timedelta(days=1)).isoformat()


TEXTS = [
    "整改会议记录未按时上传",
    "一" * 50,
    "一" * 51,
    "e\u0301" * 30,  # combining accents: not counted by truncatechars
    "e\u0301" * 20,  # short, but composed by truncatechars
    'a "quoted" <b>text</b> & more, long enough to be cut somewhere in the middle of it',
    mark_safe("<em>safe</em> text that is long enough to be cut at forty characters"),
    "",
    None,
    12345678901234567890,
]


@pytest.mark.parametrize("length", ["50", "40", "1", "0", "x"])
@pytest.mark.parametrize("value", TEXTS, ids=repr)
def test_short_is_truncatechars(value, length):
    assert _render("{{ value|short:length }}", value, length=length) == _render(
        "{{ value|truncatechars:length }}", value, length=length
    )
