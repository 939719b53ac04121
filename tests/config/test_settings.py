import os
import subprocess
import sys
from pathlib import Path

import polib
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, env):
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "k" * 30 + "-production-secret-from-the-environment-0123",
            "DJANGO_ALLOWED_HOSTS": "dangjian.example.gov.cn",
            "DATABASE_URL": "postgres://app:secret@db.internal:5432/dangjian",
            "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", env={"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "x.example"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_embedded_defaults_with_no_environment():
    result = _manage(
        "shell",
        "-c",
        (
            "from django.conf import settings as s; from config.celery_app import app;"
            "print(s.DATABASES['default']['ENGINE'], app.conf.task_always_eager,"
            " s.MEDIA_ROOT, s.TIME_ZONE, s.LANGUAGE_CODE)"
        ),
        env={},
    )
    assert result.returncode == 0, result.stderr
    engine, eager, media, zone, language = result.stdout.strip().splitlines()[-1].split()
    assert engine == "django.db.backends.sqlite3"
    assert eager == "True"
    assert media == str(ROOT / "media")
    assert (zone, language) == ("Asia/Shanghai", "zh-hans")


def test_compiled_translations_match_their_sources():
    """The committed .mo files are what compilemessages_py makes from the .po files."""
    for locale_path in settings.LOCALE_PATHS:
        for po_path in Path(locale_path).glob("*/LC_MESSAGES/*.po"):
            catalog = polib.pofile(str(po_path))
            assert not catalog.untranslated_entries(), [e.msgid for e in catalog.untranslated_entries()]
            assert not catalog.fuzzy_entries(), [e.msgid for e in catalog.fuzzy_entries()]
            # Keyed by context and msgid: "closed" of a review and "closed" of a problem differ.
            compiled = {
                (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural
                for entry in polib.mofile(str(po_path.with_suffix(".mo")))
            }
            source = {
                (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural
                for entry in catalog.translated_entries()
            }
            assert compiled == source, "run: make messages (or manage.py compilemessages_py)"
