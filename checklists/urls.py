from django.urls import path

from . import views

app_name = "checklists"

urlpatterns = [
    path("", views.home, name="home"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:pk>/", views.template_detail, name="template"),
    path("templates/<int:pk>/issuing/", views.issue_status, name="issue_status"),
    path("template-items/<int:pk>/", views.template_item_edit, name="template_item"),
    path("<int:pk>/", views.checklist_detail, name="checklist"),
    path("<int:pk>/print/", views.checklist_print, name="checklist_print"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("occurrences/<int:occurrence_pk>/entries/new/", views.entry_create, name="entry_create"),
    path("entries/<int:pk>/", views.entry_detail, name="entry"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("attachments/choices/", views.attachment_choices, name="attachment_choices"),
    path("review/", views.review_queue, name="review"),
    path("due/", views.due, name="due"),
    path("unclaimed/", views.unclaimed, name="unclaimed"),
    path("returned/", views.returned, name="returned"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/of/<str:code>/", views.meetings_of, name="meetings"),
    path("duty/", views.duty, name="duty"),
    path("duty/reports/<int:pk>/", views.duty_report_detail, name="duty_report"),
    path("progress/", views.progress, name="progress"),
]
