from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.problem_create, name="problem_create"),
    path("<int:pk>/", views.problem_detail, name="problem"),
    path("<int:pk>/print/", views.problem_print, name="problem_print"),
    path("extensions/<int:pk>/print/", views.extension_print, name="extension_print"),
    path("admonishments/", views.admonishments, name="admonishments"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("samples/<int:pk>/", views.sample_detail, name="sample"),
    path("visits/", views.visits, name="visits"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
]
