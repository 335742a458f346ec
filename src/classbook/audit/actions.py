"""Catalogue of audit action codes with their labels, for filters and display.

Each app registers the actions its services write; ``log_action`` refuses an unknown code
so that every entry can be filtered and read.
"""

ACTIONS: dict[str, str] = {}


def register_action(code: str, label: str) -> str:
    if ACTIONS.setdefault(code, label) != label:
        raise ValueError(f"audit action {code!r} registered twice with different labels")
    return code


def action_label(code: str) -> str:
    return ACTIONS.get(code, code)


def areas() -> list[str]:
    return sorted({code.split(".")[0] for code in ACTIONS})
