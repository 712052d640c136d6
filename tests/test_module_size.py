"""Every module of the package stays small enough to read as one concern."""

from pathlib import Path

import pytest

import tweetbert

MAX_LINES = 400
PACKAGE = Path(tweetbert.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.relative_to(PACKAGE.parent).as_posix())
def test_no_module_has_more_than_400_lines(module):
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module.name} has {lines} lines: split it by concern"
