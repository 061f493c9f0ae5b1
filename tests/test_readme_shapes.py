"""The README's examples of shaping the server per test (switches, domains) and of
controlling it (decisions, traffic) run as a user would run them: in a fresh pytest,
against the installed plugin."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.launch  # pytest in pytest


@pytest.mark.parametrize("marker", ["domains=", "assert_pushed_because"],
                         ids=["switches-and-domains", "faults-and-decisions"])
def test_the_readme_example_passes(tmp_path: Path, marker: str) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Use it in your tests"):readme.index("## Options")]
    example = next(block for block in re.findall(r"```python\n(.*?)```", section, re.S)
                   if marker in block)
    (tmp_path / "test_shapes.py").write_text(
        "\n".join(line.removeprefix("  ") for line in example.splitlines()) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--reactor=asyncio",
         "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and " 1 passed" in output, output[-3000:]
