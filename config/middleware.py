from django.conf import settings
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
