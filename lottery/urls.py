from django.urls import path

from lottery import views

app_name = "lottery"

urlpatterns = [
    path("c/<slug:slug>/wheel/", views.wheel_page, name="wheel"),
    path("c/<slug:slug>/wheel/spin/", views.spin_submit, name="spin"),
    path("c/<slug:slug>/wheel/fairness/", views.fairness_page, name="fairness"),
    path("me/prizes/", views.my_prizes, name="prizes"),
    path("me/prizes/<int:draw_id>/address/", views.prize_address, name="prize_address"),
]
