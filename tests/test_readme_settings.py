"""The README's configuration table is the clinic's IT person's reference: every setting
the code reads is in it, with the default the code applies, and it names no setting the
code does not read (a variable typed from the README must never be silently ignored)."""

from __future__ import annotations

import re
from pathlib import Path

from delphos.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
_ROW = re.compile(r"^\| (`DELPHOS_[A-Z0-9_]+`(?: / `DELPHOS_[A-Z0-9_]+`)*) \| ([^|]*) \|", re.M)


def _table() -> dict[str, str]:
    """Each DELPHOS_ variable of the table and its default cell's text for it."""
    rows: dict[str, str] = {}
    for names_cell, default_cell in _ROW.findall(README.read_text()):
        names = re.findall(r"DELPHOS_[A-Z0-9_]+", names_cell)
        defaults = [d.strip() for d in default_cell.split(" / ")]
        for k, name in enumerate(names):
            rows[name] = defaults[k] if len(defaults) == len(names) else default_cell.strip()
    return rows


def _written(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_setting_is_in_the_readme_and_nothing_else_is() -> None:
    table = _table()
    settings = {f"DELPHOS_{name.upper()}" for name in Settings.model_fields}
    assert sorted(settings - set(table)) == [], "settings missing from the README's table"
    assert sorted(set(table) - settings) == [], "README rows that no setting reads"


def test_the_readme_gives_the_default_the_code_applies() -> None:
    table = _table()
    for name, field in Settings.model_fields.items():
        cell = table[f"DELPHOS_{name.upper()}"]
        default = field.get_default(call_default_factory=True)
        if default is None or default in ("", []):
            continue  # "—" or a description ("SQLite in DELPHOS_DATA_DIR"): nothing to compare
        # A default written as a literal must be the code's; a described one is read as text.
        if cell.startswith("`") and cell.endswith("`") and cell.count("`") == 2:
            assert cell.strip("`") == _written(default), f"DELPHOS_{name.upper()}"
