"""Links to a row's page, at a fraction of reverse()'s cost: `link(name, *ids)` and the `{% url %}`
tag of every template (a builtin, settings.TEMPLATES), for links whose arguments are ids.

reverse() goes through the resolver's candidates for the name and checks the arguments against
each pattern with a regular expression, every time: 34 µs a link, 1.5 ms for the 30 item links
of a checklist page through the tag (9 µs and 0.5 ms here). The URL of a view with N ids is the
same string whatever the ids, so it is reversed once (per URL configuration, script prefix and
current app) with placeholder ids, and each link is that string with the ids put in. No route
of the site is translated, so the language is not part of the key (the test checks it). Any
other argument (a code, a string, a keyword) goes through reverse(). tests/config/test_links.py
checks every named URL of the site against reverse()."""

import functools

from django import template
from django.conf import settings
from django.template import defaulttags
from django.template.defaulttags import URLNode
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

# Ten-digit ids that no converter of the site turns into anything but their digits (int, str,
# slug and path all accept them; the test checks that the site has no converter of its own).
PLACEHOLDER = 9_876_543_200

register = template.Library()


@functools.lru_cache(maxsize=512)
def _pattern(urlconf, prefix, current_app, name, arity):
    """The URL of `name` as a format string with {0}…{arity-1} for the ids, or None when
    reverse() with placeholder ids fails or does not write each of them once, verbatim."""
    placeholders = [str(PLACEHOLDER + n) for n in range(arity)]
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


def _ids(args):
    return all(type(arg) is int and arg >= 0 for arg in args)


def _fast(name, args, current_app=None):
    """The link, or None where reverse() must do it."""
    if not _ids(args):
        return None
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    pattern = _pattern(urlconf, get_script_prefix(), current_app, name, len(args))
    return None if pattern is None else pattern.format(*args)


def link(name, *ids):
    """reverse(name, args=ids)."""
    return _fast(name, ids) or reverse(name, args=ids)


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
    """Django's {% url %}, with links of ids by their reversed pattern."""
    node = defaulttags.url(parser, token)
    return LinkNode(node.view_name, node.args, node.kwargs, node.asvar)
