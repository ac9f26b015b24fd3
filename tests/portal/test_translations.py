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


def _entries() -> list[dict[str, object]]:
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n")[1:]:
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
