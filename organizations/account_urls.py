from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("roles/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("<str:username>/", views.account_detail, name="detail"),
]
