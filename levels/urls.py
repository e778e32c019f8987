from django.urls import path

from levels import views

app_name = "levels"

urlpatterns = [
    path("me/level/", views.level_page, name="mine"),
]
