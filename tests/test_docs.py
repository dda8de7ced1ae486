"""The user-facing docs say what the code does: docs/data.md's schema is the loader's schema,
the README's JSON contract lists every key the records carry, and no doc points outside the
repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpitools.schema import TABLES

ROOT = Path(__file__).parents[1]


def schema_tables(text: str) -> dict[str, list[dict]]:
    """Parse the '## Tables' section: '### <table>' headings, each followed by a Markdown
    table with columns column | type | required | nullable | meaning."""
    section = text.split("\n## Tables", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, list[dict]] = {}
    current = None
    for line in section.splitlines():
        heading = re.match(r"### (\w+)", line)
        if heading:
            current = heading.group(1)
            tables[current] = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current and line.startswith("|") and len(cells) == 5 and cells[0] not in ("column",) \
                and not set(cells[0]) <= {"-"}:
            tables[current].append({"name": cells[0], "type": cells[1],
                                    "required": cells[2] == "yes", "nullable": cells[3] == "yes"})
    return tables


@pytest.fixture(scope="module")
def documented():
    return schema_tables((ROOT / "docs" / "data.md").read_text(encoding="utf-8"))


def test_data_md_documents_every_table_of_the_loader(documented):
    assert set(documented) == set(TABLES)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_data_md_columns_match_the_loader_schema(documented, table):
    expected = [{"name": c.name, "type": c.type, "required": c.required, "nullable": c.nullable}
                for c in TABLES[table].columns]
    assert documented[table] == expected


def test_every_required_column_is_marked_required(documented):
    for table, cols in documented.items():
        required = {c["name"] for c in cols if c["required"]}
        assert required == {c.name for c in TABLES[table].columns if c.required}, table


def test_readme_json_contract_lists_every_record_key():
    from kpitools.cli import RECORD_KEYS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    contract = readme.split("is the machine contract", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`(\w+)`", contract))
    assert set(RECORD_KEYS) - {"period"} <= listed, set(RECORD_KEYS) - listed


def test_docs_never_point_outside_the_repository():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for doc in docs:
        text = doc.read_text(encoding="utf-8")
        assert "../shared" not in text, doc.name
        assert not re.search(r"\bSPEC\b", text), f"{doc.name} cites SPEC, which users do not have"
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (doc.parent / target).resolve().exists(), f"{doc.name} links to missing {target}"
