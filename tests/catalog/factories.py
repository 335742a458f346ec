"""Row-makers for catalog models (merged into tests/tenant_factories.py)."""

from classbook.catalog.models import Level, Program


def _program(n):
    return Program.objects.create(name=f"Isolation program {n}")


FACTORIES = {
    Program: _program,
    Level: lambda n: Level.objects.create(program=_program(f"L{n}"), name=f"Level {n}"),
}
