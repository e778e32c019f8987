from django.urls import path

from tasks import views

app_name = "tasks"

urlpatterns = [
    path("c/<slug:slug>/checkin/", views.checkin_page, name="checkin"),
    path("c/<slug:slug>/checkin/submit/", views.checkin_submit, name="checkin_submit"),
    path("c/<slug:slug>/checkin/makeup/", views.makeup_submit, name="checkin_makeup"),
    path("c/<slug:slug>/tasks/", views.tasks_page, name="list"),
    path("c/<slug:slug>/tasks/<int:task_id>/claim/", views.task_claim_submit, name="claim"),
]
