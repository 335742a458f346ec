from classbook.families.models import Family


def make_family(name: str = "Garcia") -> Family:
    """A bare family row for ledger tests (the families app's services do the rest)."""
    return Family.objects.create(name=name)
