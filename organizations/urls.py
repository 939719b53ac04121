from django.urls import path

from . import views

app_name = "organizations"

urlpatterns = [
    path("", views.organization_tree, name="tree"),
    path("options/", views.organization_options, name="options"),
    path("pairings/<int:pk>/", views.pairing_detail, name="pairing"),
    path("<str:code>/", views.organization_detail, name="detail"),
    path("<str:code>/children/", views.organization_children, name="children"),
]
