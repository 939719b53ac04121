"""config.links: links of ids from a reversed pattern must be reverse()'s own, for every named
URL of the site, through link() and through the {% url %} tag."""

import sys
import types

import pytest
from django.template import engines
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, path, reverse, set_script_prefix
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter
from django.urls.resolvers import LocalePrefixPattern

from config.links import LinkNode, link


def _named_urls(resolver=None, namespace=""):
    """(namespaced name, number of parameters, converters) of every named URL of the site."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            for name, _arity, converters in _named_urls(entry, inner):
                converters = [*entry.pattern.converters.values(), *converters]
                yield name, len(converters), converters
        elif isinstance(entry, URLPattern) and entry.name:
            converters = list(entry.pattern.converters.values())
            yield f"{namespace}{entry.name}", len(converters), converters


NAMED = sorted({(name, arity) for name, arity, _converters in _named_urls()})


def _outcome(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except NoReverseMatch:
        return NoReverseMatch


def test_the_site_has_many_links_of_ids():
    assert sum(1 for _name, arity in NAMED if arity) > 50


def test_no_route_of_the_site_is_translated():
    """A link does not depend on the language (config.links keeps one pattern for all)."""

    def routes(resolver):
        for entry in resolver.url_patterns:
            yield entry.pattern
            if isinstance(entry, URLResolver):
                yield from routes(entry)

    for pattern in routes(get_resolver()):
        assert not isinstance(pattern, LocalePrefixPattern), pattern
        assert type(getattr(pattern, "_route", getattr(pattern, "_regex", ""))) is str, pattern


def test_the_site_has_no_converter_of_its_own():
    """The placeholder ids are digits, which the int, str, slug and path converters write as they
    are (uuid would refuse them)."""
    used = {type(converter) for _name, _arity, converters in _named_urls() for converter in converters}
    assert used <= {IntConverter, StringConverter, SlugConverter, PathConverter}, used


ARGUMENT_SETS = [
    lambda arity: [7] * arity,
    lambda arity: list(range(arity)),
    lambda arity: [123456789012 + n for n in range(arity)],
    lambda arity: ["SCX0001"] * arity,  # plain codes, where a pattern may want an int
    lambda arity: [f"a-b_{n}" for n in range(arity)],
    lambda arity: ["12"] * arity,  # digits as a str: an int pattern takes them too
    lambda arity: [n if n % 2 else f"C{n}" for n in range(arity)],  # ids and codes mixed
]


@pytest.mark.parametrize(("name", "arity"), NAMED)
def test_every_named_url_is_linked_as_reverse_links_it(name, arity):
    for arguments in ARGUMENT_SETS:
        args = arguments(arity)
        assert _outcome(link, name, *args) == _outcome(reverse, name, args=args), args


def test_other_arguments_go_through_reverse():
    assert link("organizations:detail", "XC01") == reverse("organizations:detail", args=["XC01"])
    for code in ["X&1", "a b", "塘边村", "{0}", "a.b", "x%20"]:
        assert link("organizations:detail", code) == reverse("organizations:detail", args=[code]), code
    for code in ["", "a/b"]:
        with pytest.raises(NoReverseMatch):
            link("organizations:detail", code)
    with pytest.raises(NoReverseMatch):
        link("checklists:item", -1)
    with pytest.raises(NoReverseMatch):
        link("checklists:item", True)
    with pytest.raises(NoReverseMatch):
        link("no such name", 1)


def test_the_script_prefix_is_kept():
    set_script_prefix("/party/")
    try:
        assert link("checklists:item", 5) == "/party/checklists/items/5/" == reverse("checklists:item", args=[5])
    finally:
        set_script_prefix("/")
    assert link("checklists:item", 5) == "/checklists/items/5/"


def test_the_url_tag_of_every_template_is_ours():
    template = engines["django"].from_string(
        "{% url 'checklists:item' pk %}|{% url 'organizations:detail' code %}"
        "|{% url 'checklists:item' pk as x %}{{ x }}|{% url 'checklists:item' pk=pk %}"
    )
    assert isinstance(template.template.nodelist[0], LinkNode)
    item = reverse("checklists:item", args=[5])
    assert template.render({"pk": 5, "code": "X&1"}) == "|".join(
        [item, reverse("organizations:detail", args=["X&1"]).replace("&", "&amp;"), item, item]
    )
    with pytest.raises(NoReverseMatch):
        engines["django"].from_string("{% url 'no such name' 5 %}").render({})


def test_another_url_configuration_gets_its_own_links(settings, monkeypatch):
    link("checklists:item", 5)
    module = types.ModuleType("other_urls")
    module.urlpatterns = [path("elsewhere/<int:pk>/", lambda request, pk: None, name="item")]
    monkeypatch.setitem(sys.modules, "other_urls", module)
    try:
        settings.ROOT_URLCONF = "other_urls"
        assert link("item", 5) == "/elsewhere/5/"
        with pytest.raises(NoReverseMatch):
            link("checklists:item", 5)
    finally:
        settings.ROOT_URLCONF = "config.urls"
    assert link("checklists:item", 5) == reverse("checklists:item", args=[5])
