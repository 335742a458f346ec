"""Per-request tenancy and the one-line request log."""

import logging
import time
import zoneinfo

from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from classbook.accounts.selectors import account_by_slug
from classbook.core.tenancy import activate_account

request_logger = logging.getLogger("classbook.request")


class AccountMiddleware:
    """Resolve ``/<account_slug>/...`` to an Account and run the view inside it.

    Unknown account: 404. Suspended or cancelled: a page saying so (403). The slug is
    removed from the view's kwargs; views read ``request.account``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.account = None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        slug = match.kwargs.get("account_slug")
        if slug is None:
            return self.get_response(request)
        account = account_by_slug(slug)
        if account is None:
            raise Http404("No such account")
        request.account = account
        if not account.is_open:
            return TemplateResponse(
                request, "account_unavailable.html", {"account": account}, status=403
            ).render()
        with activate_account(account), timezone.override(zoneinfo.ZoneInfo(account.timezone)):
            response = self.get_response(request)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_kwargs.pop("account_slug", None)


class RequestLogMiddleware:
    """One structured line per request: account, user, method, path, status, duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            account = getattr(request, "account", None)
            user = getattr(request, "_cached_user", None)  # only if the view looked it up
            request_logger.info(
                "request",
                extra={
                    "fields": {
                        "account": account.slug if account else None,
                        "user": user.username if user is not None and user.pk else None,
                        "user_id": user.pk if user is not None else None,
                        "method": request.method,
                        "path": request.path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                },
            )
