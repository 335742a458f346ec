"""Merge per-app test registries: ``tests/<app>/<module>.py`` defining a dict ``NAME``."""

import importlib
import pkgutil


def merged(module_name: str, attribute: str) -> dict:
    import tests

    result: dict = {}
    for module in pkgutil.iter_modules(tests.__path__):
        if not module.ispkg:
            continue
        dotted = f"tests.{module.name}.{module_name}"
        try:
            found = importlib.import_module(dotted)
        except ModuleNotFoundError as exc:
            if exc.name != dotted:
                raise
            continue
        result.update(getattr(found, attribute, {}))
    return result
