from django.urls import URLPattern

app_name = "lottery"

urlpatterns: list[URLPattern] = []
