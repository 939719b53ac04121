"""Links to a row's page, at a fraction of reverse()'s cost: `link(name, *args)` and the `{% url %}`
tag of every template (a builtin, settings.TEMPLATES), for links whose arguments are ids or plain
codes.

reverse() goes through the resolver's candidates for the name and checks the arguments against
each pattern with a regular expression, every time: 34 µs a link, 1.5 ms for the 30 item links
of a checklist page through the tag (9 µs and 0.5 ms here). The URL of a view is the same string
whatever its ids or codes, so it is reversed once (per URL configuration, script prefix, current
app and kind of each argument) with placeholders, and each link is that string with the
arguments put in. An id is a non-negative int; a plain code is a non-empty str of ASCII letters,
digits, "-" and "_", which no converter of the site changes and reverse() does not quote (an
organization's code). The placeholder of a code has letters, so a pattern that wants an int
refuses it and the link goes through reverse(). No route of the site is translated, so the
language is not part of the key (the test checks it). Any other argument (another string, a
keyword) goes through reverse(). tests/config/test_links.py checks every named URL of the site
against reverse()."""

import functools
import re

from django import template
from django.conf import settings
from django.template import defaulttags
from django.template.defaulttags import URLNode
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

# Ten-digit ids that no converter of the site turns into anything but their digits (int, str,
# slug and path all accept them; the test checks that the site has no converter of its own).
PLACEHOLDER = 9_876_543_200
# Codes that str, slug and path accept as they are and int refuses.
CODE_PLACEHOLDER = "zqx{}"
PLAIN_CODE = re.compile(r"[A-Za-z0-9_-]+")
ID, CODE = "i", "c"

register = template.Library()


@functools.lru_cache(maxsize=512)
def _pattern(urlconf, prefix, current_app, name, kinds):
    """The URL of `name` as a format string with {0}, {1} … for the arguments of `kinds` (ID or
    CODE each), or None when reverse() with placeholders fails or does not write each of them
    once, verbatim."""
    placeholders = [
        str(PLACEHOLDER + n) if kind == ID else CODE_PLACEHOLDER.format(PLACEHOLDER + n) for n, kind in enumerate(kinds)
    ]
    try:
        url = reverse(name, urlconf=urlconf, args=placeholders, current_app=current_app)
    except NoReverseMatch:
        return None
    if any(url.count(placeholder) != 1 for placeholder in placeholders):
        return None
    pattern = url.replace("{", "{{").replace("}", "}}")
    for n, placeholder in enumerate(placeholders):
        pattern = pattern.replace(placeholder, f"{{{n}}}")
    return pattern


def _kinds(args):
    """(ID or CODE for each argument), or None if one is neither."""
    kinds = []
    for arg in args:
        if type(arg) is int and arg >= 0:
            kinds.append(ID)
        elif type(arg) is str and PLAIN_CODE.fullmatch(arg):
            kinds.append(CODE)
        else:
            return None
    return tuple(kinds)


def _fast(name, args, current_app=None):
    """The link, or None where reverse() must do it."""
    kinds = _kinds(args)
    if kinds is None:
        return None
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    pattern = _pattern(urlconf, get_script_prefix(), current_app, name, kinds)
    return None if pattern is None else pattern.format(*args)


def link(name, *args):
    """reverse(name, args=args)."""
    return _fast(name, args) or reverse(name, args=args)


class LinkNode(URLNode):
    def render(self, context):
        if self.kwargs:
            return super().render(context)
        args = [arg.resolve(context) for arg in self.args]
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = _fast(self.view_name.resolve(context), args, current_app)
        if url is None:
            return super().render(context)
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """Django's {% url %}, with links of ids and plain codes by their reversed pattern."""
    node = defaulttags.url(parser, token)
    return LinkNode(node.view_name, node.args, node.kwargs, node.asvar)
