from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.session_create, name="session_create"),
    path("mine/", views.mine, name="mine"),
    path("shares/", views.shares, name="shares"),
    path("barred/", views.barred, name="barred"),
    path("<int:pk>/", views.session_detail, name="session"),
    path("<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("<int:pk>/advance/", views.session_advance, name="advance"),
    path("<int:pk>/precheck/", views.precheck, name="precheck"),
    path("<int:pk>/results/", views.results, name="results"),
    path("<int:pk>/results/print/", views.results_print, name="results_print"),
    path("<int:pk>/consequences/", views.consequences, name="consequences"),
    path("venues/<int:pk>/", views.venue_detail, name="venue"),
    path("venues/<int:pk>/form/", views.form_print, name="form_print"),
    path("venues/<int:pk>/tally-sheet/", views.tally_sheet_print, name="tally_print"),
    path("venues/<int:pk>/live/", views.live, name="live"),
    path("groups/<int:pk>/codes/", views.codes_print, name="codes"),
    path("groups/<int:pk>/paper/<int:number>/", views.paper_entry, name="paper"),
    path("reportees/<int:pk>/", views.reportee_detail, name="reportee"),
]
