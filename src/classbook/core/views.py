from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from classbook.core.health import health_report


@never_cache
def healthz(request):
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


def home(request):
    return render(request, "home.html")
