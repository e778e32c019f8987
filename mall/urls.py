from django.urls import URLPattern

app_name = "mall"

urlpatterns: list[URLPattern] = []
