"""The documentation cannot rot: the site builds with `mkdocs build --strict` (a broken link or a
missing reference fails), and every Python and shell example in the README and docs/ runs.

A page's examples run in order in one fresh folder: `bash` blocks as scripts (`set -euo pipefail`),
`python` blocks in one namespace. A block marked `<!-- test: large -->` or `<!-- test: slow -->` on
the line before its fence runs only in that tier, with the page's earlier blocks; `text` blocks
are output for the reader and do not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^(?:<!-- test: (?P<tier>\w+) -->\n)?```(?P<language>\w*)\n(?P<code>.*?)^```\s*$",
                   re.MULTILINE | re.DOTALL)
TIERS = ("default", "large", "slow")  # each tier runs the blocks of the ones before it too


@dataclass
class Example:
    page: Path
    line: int
    language: str
    tier: str
    code: str


def examples(page: Path) -> list[Example]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        tier = match["tier"] or "default"
        if tier not in TIERS:
            raise ValueError(f"{page}: unknown test tier {tier!r} (valid: {', '.join(TIERS)})")
        if match["language"] in ("python", "bash"):
            line = text.count("\n", 0, match.start("code")) + 1
            found.append(Example(page, line, match["language"], tier, match["code"]))
    return found


def cases() -> list:
    """A case a (page, tier) whose tier holds examples; large and slow ones carry their marker."""
    params = []
    for page in PAGES:
        tiers = {example.tier for example in examples(page)}
        for tier in TIERS:
            if tier in tiers:
                marks = [] if tier == "default" else [getattr(pytest.mark, tier)]
                params.append(pytest.param(page, tier, marks=marks, id=f"{page.relative_to(ROOT)}-{tier}"))
    return params


@pytest.mark.parametrize("page, tier", cases())
def test_the_examples_of_a_page_run(page, tier, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    namespace = {"__name__": "__docs__"}
    for example in examples(page):
        if TIERS.index(example.tier) > TIERS.index(tier):
            continue
        where = f"{page.relative_to(ROOT)}:{example.line}"
        if example.language == "python":
            exec(compile(example.code, where, "exec"), namespace)  # noqa: S102  (the docs' own code)
            continue
        done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + example.code], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=1800)
        output = (done.stdout + done.stderr)[-4000:]
        assert done.returncode == 0, f"{where} exited {done.returncode}:\n{output}"


def test_every_page_is_in_the_site_navigation_and_every_tier_is_known():
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = set()

    def walk(items):
        for item in items:
            for value in item.values():
                walk(value) if isinstance(value, list) else listed.add(value)

    walk(config["nav"])
    assert listed == {str(p.relative_to(ROOT / "docs")) for p in PAGES if p.parent != ROOT}
    for page in PAGES:
        examples(page)  # raises on an unknown tier


def test_the_site_builds_strictly(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr[-5000:]
    cli = (tmp_path / "cli" / "index.html").read_text(encoding="utf-8")
    assert "seqzoo train" in cli and "--precision" in cli  # generated from the parser
    assert "The entries" in (tmp_path / "index.html").read_text(encoding="utf-8")  # the README


def test_every_subpackage_is_installed():
    """pyproject.toml lists the packages by hand: a new one missing there works in an editable
    checkout and is absent from a wheel."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "seqzoo").rglob("__init__.py")}
    assert found - listed == set()
