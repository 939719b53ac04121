from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.scheme_create, name="scheme_create"),
    path("sheets/", views.my_sheets, name="my_sheets"),
    path("sheets/<int:pk>/", views.sheet, name="sheet"),
    path("quarterly/", views.quarterly, name="quarterly"),
    path("projects/", views.projects, name="projects"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/evaluations/new/", views.evaluation_create, name="evaluation_create"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("panels/<int:pk>/", views.panel_detail, name="panel"),
    path("<int:pk>/", views.scheme_detail, name="scheme"),
    path("<int:pk>/edit/", views.scheme_edit, name="scheme_edit"),
    path("<int:pk>/advance/", views.scheme_advance, name="advance"),
    path("<int:pk>/aggregate/", views.aggregate, name="aggregate"),
    path("<int:pk>/run/", views.run_status, name="run"),
    path("<int:pk>/upload/<str:sheet>/", views.upload, name="upload"),
    path("<int:pk>/board/", views.board, name="board"),
    path("<int:pk>/judges/", views.judges, name="judges"),
    path("<int:pk>/appeals/", views.appeals, name="appeals"),
    path("<int:pk>/deductions/", views.deductions, name="deductions"),
    path("<int:pk>/grants/", views.grants, name="grants"),
    path("<int:pk>/organizations/<str:code>/", views.explain, name="explain"),
]
