from django.urls import include, path

from campaigns import views

campaign_patterns = (
    [
        path("", views.campaign_list, name="list"),
        path("<slug:slug>/", views.campaign_detail, name="detail"),
        path("<slug:slug>/rules/", views.campaign_rules, name="rules"),
    ],
    "campaigns",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("c/", include(campaign_patterns)),
]
