"""The hash-pinned locks agree with pyproject.toml: `make` and the rules' conda environments install from them.

Re-resolving needs the package index (PyPI); uv comes with the `test` extra.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HANG_GUARD_SECONDS = 600  # a normal check takes about 15 s


def test_the_locks_are_what_pyproject_toml_resolves_to():
    bin_dir = Path(sys.executable).parent
    assert shutil.which("uv", path=str(bin_dir)), "uv is missing: it comes with the `test` extra"
    run = subprocess.run([str(REPO / "requirements" / "lock.sh"), "--check"], capture_output=True, text=True,
                         env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
                         timeout=HANG_GUARD_SECONDS, check=False)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]


def test_make_installs_the_extras_the_cpu_lock_holds():
    make = re.search(r"^EXTRAS := (.+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    script = re.search(r"^EXTRAS=\((.+)\)", (REPO / "requirements" / "lock.sh").read_text(), re.MULTILINE)
    assert make and script and make.group(1).split(",") == script.group(1).split()
