"""Every setting is documented in one place: the README's Configuration table, with its default."""

from __future__ import annotations

import re
from pathlib import Path

from helpdesk.gateway.ground.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_has_a_row_in_the_readme():
    rows = set(re.findall(r"^\| `(HELPDESK_[A-Z_]+)` \|", README, re.MULTILINE))
    fields = {f"HELPDESK_{name.upper()}" for name in Settings.model_fields}
    assert fields - rows == set(), f"settings missing from the README: {sorted(fields - rows)}"
    unknown = {r for r in rows - fields if not r.startswith("HELPDESK_TEST_")} - {"HELPDESK_ENV_FILE"}
    assert unknown == set(), f"README documents unknown settings: {sorted(unknown)}"
