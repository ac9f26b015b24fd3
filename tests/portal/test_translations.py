"""The Simplified Chinese catalogue is complete, and the compiled file matches it."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

PO = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def _entries(po: Path = PO) -> list[dict[str, object]]:
    entries = []
    for block in po.read_text(encoding="utf-8").split("\n\n")[1:]:
        lines = [line for line in block.splitlines() if line and not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        entry: dict[str, object] = {"fuzzy": any(line.startswith("#,") and "fuzzy" in line for line in lines)}
        key, buf = None, []
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr\[\d+\]|msgstr) (".*")$', line)
            if match:
                if key:
                    entry[key] = _unquote(buf)
                key, buf = match.group(1), [match.group(2)]
            else:
                buf.append(line)
        if key:
            entry[key] = _unquote(buf)
        entries.append(entry)
    return entries


def test_it_translates_every_message_into_chinese():
    missing = [
        e["msgid"] for e in _entries()
        if e["fuzzy"] or not (e.get("msgstr") or e.get("msgstr[0]"))
    ]
    assert missing == [], f"{len(missing)} untranslated or fuzzy entries, e.g. {missing[:5]}"


def test_it_ships_a_compiled_catalogue_that_matches_the_source():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    stale = []
    for e in _entries():
        msgid = str(e["msgid"])
        if "msgctxt" in e:
            msgid = f"{e['msgctxt']}\x04{msgid}"
        if "msgid_plural" in e:
            if catalog.get((msgid, 0)) != e.get("msgstr[0]"):
                stale.append(msgid)
        elif catalog.get(msgid) != e.get("msgstr"):
            stale.append(msgid)
    assert stale == [], f"{len(stale)} entries differ from the .mo: run compilemessages ({stale[:3]})"


def test_every_message_in_the_code_is_in_the_catalogue(tmp_path: Path) -> None:
    """makemessages over a copy of the sources finds nothing the shipped catalogue lacks (a string
    added without `make messages` would show in English on a Chinese page)."""
    import os
    import shutil
    import subprocess
    import sys

    from tests.conftest import need

    need(shutil.which("xgettext") is not None, "GNU gettext (xgettext)")
    root = PO.parents[3]
    skip = shutil.ignore_patterns(".venv", "var", "node_modules", "tests", "bench", "test-artifacts", ".*", "*.pyc")
    for name in ("accounts", "payments", "pooling", "portal", "statements", "templates", "locale"):
        shutil.copytree(root / name, tmp_path / name, ignore=skip)
    shutil.copy(root / "manage.py", tmp_path / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path, check=True, capture_output=True, env={**os.environ, "PORTAL_VAR_DIR": str(tmp_path)},
    )
    extracted = _entries(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    missing = [e["msgid"] for e in extracted if e["fuzzy"] or not (e.get("msgstr") or e.get("msgstr[0]"))]
    # Overrides of Django admin's templates reuse its strings, which Django's own catalogues translate
    # (read from the files, not through the process's translation state, which other tests change).
    import django
    from django.apps import apps

    translated: set[str] = set()
    folders = [Path(django.__file__).parent / "conf" / "locale"] + [
        Path(config.path) / "locale" for config in apps.get_app_configs()]
    for folder in folders:
        mo = folder / "zh_Hans" / "LC_MESSAGES" / "django.mo"
        if mo.exists() and mo != MO:
            with mo.open("rb") as handle:
                translated |= {key if isinstance(key, str) else key[0]
                               for key, value in gettext.GNUTranslations(handle)._catalog.items()  # type: ignore[attr-defined]
                               if value}
    missing = [m for m in missing if m not in translated]
    assert missing == [], f"{len(missing)} messages in the code are not translated, e.g. {missing[:5]}"


def test_the_admins_own_scripts_are_in_chinese_too(client, bureau_clerk):
    """Every text Django admin's scripts show (gettext in its static JavaScript) is in the Chinese
    catalogue admin:jsi18n serves; Django's own lacks a few, which locale/.../djangojs.po adds."""
    import json

    import django
    from django.urls import reverse

    from tests.conftest import login_staff

    scripts = Path(django.__file__).parent / "contrib" / "admin" / "static" / "admin" / "js"
    shown: set[str] = set()
    for script in scripts.rglob("*.js"):
        if "vendor" in script.parts:
            continue
        source = script.read_text(encoding="utf-8")
        shown |= set(re.findall(r"(?<![np])gettext\(\s*'([^']*)'", source))
        shown |= set(re.findall(r'(?<![np])gettext\(\s*"([^"]*)"', source))
    assert len(shown) > 20 and 'Choose %s by selecting them and then select the "Choose" arrow button.' in shown
    login_staff(client, bureau_clerk)
    answer = client.get(reverse("admin:jsi18n")).content.decode()
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});\n", answer, re.S).group(1))
    missing = sorted(text for text in shown if not catalog.get(text))
    assert not missing, f"admin script texts shown in English to Chinese staff: {missing}"
    assert catalog["(click to clear)"] == "（点击清除）"
