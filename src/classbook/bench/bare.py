"""The bare Django view of the rush benchmark's baseline: ``classbook.bench.bare:application``.

Django with no middleware, no database and one view returning a few bytes, served by
gunicorn with the same settings as ``classbook serve``: what one request costs before
Classbook does anything, so every rush figure can also be read as a ratio to it.
"""

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-bare-view-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={},
)

import django  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402


def hello(request):
    return HttpResponse(b"ok\n", content_type="text/plain")


urlpatterns = [path("", hello)]

django.setup()
application = get_wsgi_application()
