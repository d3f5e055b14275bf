"""The production settings pass Django's deployment checks with DEBUG off."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_it_passes_check_deploy_with_debug_off():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "projinv.settings", "DJANGO_DEBUG": "0"}
    env.pop("PROJINV_HTTPS", None)
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_keeps_task_timeouts_shorter_than_broker_retries():
    assert settings.Q_CLUSTER["timeout"] < settings.Q_CLUSTER["retry"]
