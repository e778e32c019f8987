from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The portal's front door: entrances to every activity the member can use."""
    return render(request, "home.html")
