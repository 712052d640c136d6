"""The stages' settings modules, and what the workflow imports to load, import neither torch, transformers nor optuna.

Checked in a fresh interpreter whose import system refuses those packages, so a heavy import anywhere on the way
(a settings module, a package ``__init__``, the config checks) fails the test instead of slowing every dry run.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import tweetbert

SOURCE = Path(tweetbert.__file__).parent
ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "optuna")



def _refuse(packages: tuple[str, ...]) -> str:
    """Code putting a meta-path finder first that raises on importing any of ``packages``."""
    return f"""
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {packages!r}:
            raise ImportError(f"{{name}} imported while loading settings")
sys.meta_path.insert(0, Refuse())
"""


def settings_modules() -> list[str]:
    return sorted(f"tweetbert.{path.parent.name}.settings" for path in SOURCE.glob("*/settings.py"))


def workflow_imports() -> list[str]:
    """The top-level ``tweetbert`` import statements of the workflow's rule files, as source lines."""
    lines = []
    for path in [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]:
        found = re.findall(r"^(?:from tweetbert[\w.]* import (?:\([^)]*\)|.*)|import tweetbert.*)$",
                           path.read_text(encoding="utf-8"), flags=re.MULTILINE)
        lines.extend(ast.unparse(ast.parse(statement)) for statement in found)
    return lines


def _run_light(code: str, refused: tuple[str, ...] = HEAVY) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _refuse(refused) + code], capture_output=True, text=True,
                          cwd=ROOT, check=False)


def test_the_refusing_finder_works():
    result = _run_light("import torch")
    assert result.returncode != 0 and "torch imported while loading settings" in result.stderr


def test_every_stage_package_has_a_settings_module():
    assert {"analysis", "corpus", "demo", "finetune", "modeling", "sweep", "tokenization"} <= {
        name.split(".")[1] for name in settings_modules()}


def test_settings_modules_and_the_workflow_imports_load_without_torch_transformers_or_optuna():
    imports = workflow_imports()
    assert any("tweetbert.config" in line for line in imports), imports
    code = "\n".join([
        *(f"import {name}" for name in settings_modules()),
        *imports,
        f"heavy = sorted(name for name in sys.modules if name.split('.')[0] in {HEAVY!r})",
        "assert not heavy, heavy",
    ])
    result = _run_light(code)
    assert result.returncode == 0, result.stderr[-3000:]


def test_validating_the_config_loads_neither_torch_nor_transformers():
    """The workflow validates its config when it loads; the sweep checks among them still need optuna."""
    code = "\n".join([*workflow_imports(), "import yaml",
                      "validate_config(yaml.safe_load(open('config.yaml', encoding='utf-8')))"])
    result = _run_light(code, refused=("torch", "transformers"))
    assert result.returncode == 0, result.stderr[-3000:]
