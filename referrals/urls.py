from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("r/<str:code>/", views.invite_link, name="link"),
    path("me/invite/", views.invite_page, name="invite"),
    path("me/invite/code/", views.invite_code_enter, name="code"),
    path("me/invite/qr.png", views.invite_qr, {"fmt": "png"}, name="qr_png"),
    path("me/invite/qr.svg", views.invite_qr, {"fmt": "svg"}, name="qr_svg"),
    path("me/invite/poster.png", views.invite_poster, name="poster"),
    path("c/<slug:slug>/leaderboard/", views.leaderboard_page, name="leaderboard"),
]
