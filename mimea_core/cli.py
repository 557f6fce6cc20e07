"""Command line: ``python -m mimea_core <command> ...``.

Each command lives in its own module under :mod:`mimea_core.commands` and exposes
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``. User errors
(:class:`~mimea_core.errors.MimeaError`) are printed as one line, without a traceback,
unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from mimea_core.commands import bench, evaluate, info, suggest, train
from mimea_core.errors import MimeaError

# The commands, in the order ``--help`` lists them (a new command: one module + one entry here).
# The modules are light: each imports its heavy dependencies inside ``run``.
COMMANDS = (info, train, evaluate, suggest, bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mimea_core",
        description="MIMEA multi-modal entity alignment: load, train, evaluate, suggest, benchmark.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        cmd = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args._run(args) or 0)
    except MimeaError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `... | head`): stop quietly, like other command-line tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
