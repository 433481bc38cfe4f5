"""Security basics: production settings pass Django's deploy check; logs carry no names."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from nowrongdoor.config.log_filters import RedactQueryStrings


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        **os.environ,
        "NOWRONGDOOR_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 20 + "-production-key-for-the-deploy-check-0123456789abcdefghij",
        "NOWRONGDOOR_HTTPS": "1",
        "ALLOWED_HOSTS": "nowrongdoor.county.example",
        "DEBUG": "0",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "nowrongdoor.cli", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_https_the_deploy_check_complains(tmp_path):
    env = {**os.environ, "NOWRONGDOOR_DATA_DIR": str(tmp_path), "DEBUG": "0"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "nowrongdoor.cli", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stdout + result.stderr


def test_log_records_lose_their_query_strings():
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1,
                               "Internal Server Error: %s", ("/youth/?q=Destiny+Smith",), None)
    RedactQueryStrings().filter(record)
    assert "Destiny" not in record.getMessage()
    assert record.getMessage() == "Internal Server Error: /youth/?[redacted]"


def test_passwords_are_hashed_with_argon2():
    from django.conf import settings

    # The test suite swaps in a fast hasher per test; the configured default is argon2.
    from nowrongdoor.config import settings as product_settings

    assert product_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "axes" in settings.INSTALLED_APPS
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in settings.MIDDLEWARE
