from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.home import home
from config.search import search
from organizations.forms import LoginForm
from reviews.views import vote

urlpatterns = [
    path("", home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("search/", search, name="search"),
    path("orgs/", include("organizations.urls")),
    path("accounts/", include("organizations.account_urls")),
    path("excel/", include("spreadsheets.urls")),
    path("inbox/", include("notifications.urls")),
    path("checklists/", include("checklists.urls")),
    path("problems/", include("supervision.urls")),
    path("reviews/", include("reviews.urls")),
    path("scoring/", include("scoring.urls")),
    # The rater's ballot page: no account, the code only ever in a POST body.
    path("vote/", vote, name="vote"),
    path("admin/", admin.site.urls),
]
