"""The ``tweetbert`` command: one subcommand per workflow stage, named like the Snakemake rule that calls it.

Stage modules are imported only when their subcommand runs, so ``tweetbert --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from tweetbert.errors import CheckFailed, ConfigError, InputError
from tweetbert.threads import limit_threads

Handler = Callable[[argparse.Namespace], None]
_COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Handler]] = []


def command(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]) -> Callable[[Handler], Handler]:
    """Registers a subcommand: its name, one-line help, a function adding its arguments, and its handler."""

    def register(handler: Handler) -> Handler:
        _COMMANDS.append((name, help, arguments, handler))
        return handler

    return register


def key_value(text: str) -> tuple[str, str]:
    """argparse type of repeatable NAME=VALUE options; ``dict(args.option)`` collects them."""
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key, value


def output_options(parser: argparse.ArgumentParser, outputs: Mapping[str, str]) -> None:
    """One required option per file a stage writes (name -> what it holds), so its rule declares each of them."""
    group = parser.add_argument_group("output files")
    for name, help_text in outputs.items():
        group.add_argument(f"--{name.replace('_', '-')}", required=True, type=Path, metavar="PATH",
                           help=help_text.replace("%", "%%"))


def threads_option(parser: argparse.ArgumentParser) -> None:
    """``--threads``: the CPU threads of the rule's job, to which :func:`main` holds torch and the other pools."""
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the job (default 1)")


def output_paths(args: argparse.Namespace, outputs: Mapping[str, str]) -> dict[str, Path]:
    return {name: getattr(args, name) for name in outputs}


def write_json(data: dict, path: str | Path) -> None:
    """Writes stage stats deterministically (sorted keys), so reruns produce identical files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


STAGE_MODULES = ("corpus", "tokenization", "modeling", "finetune", "analysis", "cost", "cluster", "demo")
"""The CLI's stage modules in the DAG's order: corpus -> tokenization -> modeling -> finetune -> analysis, then the
cost and cluster accounting, and the demo's generators."""


def build_parser(stage: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or with ``stage`` only that subcommand's options (their settings classes live in the stage
    modules, so the other stages' modules, some importing torch, stay unimported)."""
    import importlib

    for module in STAGE_MODULES:  # registers their commands, listed by --help in this order
        importlib.import_module(f"tweetbert.cli.{module}")
    parser = argparse.ArgumentParser(
        prog="tweetbert", description="Stages of the tweetbert workflow; each Snakemake rule runs one of them.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="STAGE")
    for name, help_text, arguments, handler in _COMMANDS:
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if stage is None or name == stage:
            arguments(command_parser)
        command_parser.set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stage = next((word for word in argv if not word.startswith("-")), "")
    args = build_parser(stage).parse_args(argv)
    limit_threads(getattr(args, "threads", None) or 1)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args.handler(args)
    except (InputError, ConfigError, CheckFailed) as error:
        print(f"tweetbert {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
