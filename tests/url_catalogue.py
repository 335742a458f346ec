"""Every URL pattern of the site, walked from the root resolver, for access tests."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    route: str  # e.g. "<slug:account_slug>/office/staff/<int:user_id>/"
    callback: object
    default_kwargs: dict

    @property
    def params(self) -> list[tuple[str, str]]:
        """(converter, name) for each <converter:name> in the route."""
        import re

        return re.findall(r"<(?:(\w+):)?(\w+)>", self.route)


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else (entry.name or "")
            yield Route(
                name=name,
                route=prefix + str(entry.pattern),
                callback=entry.callback,
                default_kwargs=dict(entry.default_args),
            )


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def office_routes() -> list[Route]:
    return [r for r in all_routes() if r.route.startswith("<slug:account_slug>/office/")]


def platform_routes() -> list[Route]:
    return [r for r in all_routes() if r.route.startswith("platform/")]
