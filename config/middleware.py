import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponse
from django.template import loader
from django.utils import translation
from django.utils.cache import patch_cache_control


class LanguageMiddleware:
    """Activate the language the user chose (a cookie set by Django's set_language view).

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language header, so
    the platform speaks zh-hans by default whatever the browser is set to (DESIGN.md 7).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


# Only the platform's own scripts and styles run (static/js/site.js and vendored HTMX); no inline
# script, no eval. Inline style *attributes* stay allowed (bar widths computed per row, the admin's
# indentation): they cannot run code. Nothing may frame the pages, and forms post only here.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# No page needs a device or a browser feature beyond files (chosen through the file picker).
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in ["camera", "microphone", "geolocation", "payment", "usb", "serial", "bluetooth", "display-capture"]
)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every page, and `Cache-Control:
    private, no-store` on what a logged-in user sees (added to what the anonymous pages set: the
    login and ballot pages), so that no shared or back-button cache keeps a page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.headers["Cache-Control"] = "private, no-store"
        else:
            patch_cache_control(response, private=True, no_store=True)
        return response


class ErrorPagesMiddleware:
    """The project's own Chinese 403/404/500 pages, also with DEBUG on (`make run`, the demo).

    Django answers with its English technical pages in DEBUG mode: a 404 lists every URL
    pattern and a 500 shows settings and code to whoever changes an id in the address bar.
    With DJANGO_TECHNICAL_ERROR_PAGES=true a developer gets Django's pages back; tracebacks go
    to the console log either way. Without DEBUG, Django's own handlers render the same templates.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def _active():
        return settings.DEBUG and not settings.TECHNICAL_ERROR_PAGES

    def __call__(self, request):
        response = self.get_response(request)
        if self._active() and response.status_code == 404 and getattr(request, "resolver_match", None) is None:
            # No URL pattern matched: Django has rendered its technical 404 already.
            return self._page(request, "404.html", 404)
        return response

    def process_exception(self, request, exception):
        if not self._active():
            return None
        if isinstance(exception, Http404):
            return self._page(request, "404.html", 404)
        if isinstance(exception, PermissionDenied):
            return self._page(request, "403.html", 403)
        if isinstance(exception, (BadRequest, SuspiciousOperation)):
            return None  # Django's 400 handling (and its security log) applies
        logging.getLogger("django.request").error(
            "Internal Server Error: %s", request.path, exc_info=exception, extra={"status_code": 500}
        )
        # As Django's own handler500: no request context, which might be what failed.
        return self._page(None, "500.html", 500)

    @staticmethod
    def _page(request, template, status):
        return HttpResponse(loader.render_to_string(template, request=request), status=status)


class RolePathsMiddleware:
    """For the length of one request, each scope a page asks for reads the user's roles once
    (organizations.permissions.role_paths_remembered), not once per list, menu and check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from organizations.permissions import role_paths_remembered

        with role_paths_remembered():
            return self.get_response(request)
