"""Demo accounts: one per role, in the synthetic county, with passwords kept on disk.

Passwords are random per installation, written to ``<data dir>/demo-accounts.json``
(mode 0600) and printed by ``nowrongdoor demo``. Never used outside the demo.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from django.conf import settings

from nowrongdoor.directory.models import Agency, User

# username, role, agency type, agency name fragment, description
DEMO_ACCOUNTS = [
    ("probation.screener", "screener", "probation", "Probation", "Probation intake screener"),
    ("cws.casemanager", "case_manager", "child_welfare", "Children and Family", "Child-welfare case manager"),
    ("cws.mdt", "mdt_coordinator", "child_welfare", "Children and Family", "MDT coordinator (child welfare)"),
    ("probation.supervisor", "supervisor", "probation", "Probation", "Probation supervisor"),
    ("probation.admin", "agency_admin", "probation", "Probation", "Agency administrator (probation)"),
    ("clinic.screener", "screener", "health", "Teen Health", "Teen-clinic nurse screener"),
    ("county.analyst", "analyst", "child_welfare", "Children and Family", "County analyst"),
    ("system.admin", "system_admin", "child_welfare", "Children and Family", "System administrator"),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    description: str


def ensure_demo_accounts() -> list[DemoAccount]:
    path = settings.DATA_DIR / "demo-accounts.json"
    passwords: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    accounts = []
    supervisor = None
    for username, role, agency_type, fragment, description in DEMO_ACCOUNTS:
        agency = Agency.objects.filter(agency_type=agency_type, name__contains=fragment).order_by("pk").first()
        password = passwords.get(username) or f"demo-{secrets.token_hex(6)}"
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "agency": agency, "first_name": description, "is_staff": role == "system_admin",
                      "is_superuser": role == "system_admin"},
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.save()
        passwords[username] = password
        if role == "supervisor":
            supervisor = user
        accounts.append(DemoAccount(username, password, description))
    if supervisor is not None:
        User.objects.filter(username="probation.screener", supervisor__isnull=True).update(supervisor=supervisor)
    path.touch(mode=0o600)
    path.write_text(json.dumps(passwords, indent=2))
    return accounts
