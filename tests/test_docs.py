"""What README and docs/ show runs: every YAML example parses, every config example that is a
whole config validates (names it only mentions in passing aside), and every link to a file of
the repository points at one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from eventsim.config import Config
from eventsim.errors import ConfigError

from .helpers import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def blocks() -> list[tuple[str, int, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for match in YAML_BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((doc.name, line, match.group(1)))
    return found


@pytest.mark.parametrize(("doc", "line", "block"), blocks(), ids=lambda v: str(v)[:30])
def test_every_yaml_example_parses(doc: str, line: int, block: str) -> None:
    try:
        yaml.safe_load(block)
    except yaml.YAMLError as exc:
        pytest.fail(f"{doc}:{line}: the YAML example does not parse: {exc}")


@pytest.mark.parametrize(("doc", "line", "block"), blocks(), ids=lambda v: str(v)[:30])
def test_config_examples_have_no_errors_but_missing_names(
    doc: str, line: int, block: str, tmp_path: Path
) -> None:
    """A config example may name code folders, templates, queues and topics it does not
    define (it shows one part); any other problem is a mistake in the example."""
    data = yaml.safe_load(block)
    if not isinstance(data, dict) or not {"functions", "queues", "buckets"} & set(data):
        return
    try:
        Config.from_dict(data, tmp_path)
    except ConfigError as exc:
        allowed = ("unknown ", "does not exist", "no such file")
        wrong = [i for i in exc.issues if not any(word in i.message for word in allowed)]
        assert not wrong, f"{doc}:{line}: " + "; ".join(str(i) for i in wrong)


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_links_to_repository_files_resolve(doc: Path) -> None:
    targets = [t for t in LINK.findall(doc.read_text()) if "://" not in t]
    missing = [t for t in targets if not (doc.parent / t).exists()]
    assert not missing, f"{doc.name} links to files that do not exist: {missing}"
