"""``stratus import``: wire the source, target, journal and progress together.

Exit status: 0 when everything moved (and verified, with ``--verify``); 1 when the
import stopped or the verification found differences; 2 for bad arguments; 3 when the
import finished but left something out (the summary lists what and why).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from contextlib import ExitStack

from service.config import ClientCredentials, Settings
from service.errors import InvalidParameterValue, StratusError
from service.importer.journal import Journal, default_path
from service.importer.progress import Progress
from service.importer.runner import Importer, Options
from service.importer.sources import open_source
from service.importer.targets import open_target, server_url
from service.importer.verify import Verifier

SOURCE_CREDENTIALS_PREFIX = "STRATUS_SOURCE_TRACKING_"
FAILED, USAGE, SKIPPED_SOMETHING = 1, 2, 3


def parse_mappings(pairs: list[str]) -> dict[str, int]:
    """``SRC=DST`` pairs: a source experiment (id or name) onto a target experiment id."""
    mappings: dict[str, int] = {}
    for pair in pairs:
        source, _, target = pair.rpartition("=")
        if not source or not target.strip().isdigit():
            raise InvalidParameterValue(
                f"--map-experiment takes SOURCE=TARGET_ID (a source id or name, then a "
                f"number), not {pair!r}"
            )
        mappings[source] = int(target)
    return mappings


def _missing_extra() -> str | None:
    for module in ("yaml", "httpx"):
        if importlib.util.find_spec(module) is None:
            return module
    return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    missing = _missing_extra()
    if missing:
        print(f"stratus import needs {missing}: pip install 'stratus[import]'", file=sys.stderr)
        return USAGE
    with ExitStack() as cleanup:
        try:
            options = Options(
                experiments=args.experiments or [],
                models=args.models or [],
                mappings=parse_mappings(args.map_experiment or []),
                dry_run=args.dry_run,
            )
            if args.to:
                server_url(args.to)  # a mistyped --to is refused before any work
            source = open_source(
                args.source,
                artifacts_root=args.artifacts_root,
                credentials=ClientCredentials(_env_prefix=SOURCE_CREDENTIALS_PREFIX),
            )
            cleanup.callback(source.close)
            target = open_target(args.to, settings, ClientCredentials())
            cleanup.callback(target.close)
        except StratusError as exc:
            print(f"stratus import: {exc.message}", file=sys.stderr)
            return USAGE
        if args.dry_run:
            journal = Journal(":memory:")
        else:
            path = args.journal or default_path(settings.data_dir, args.source, target.description)
            journal = Journal(path)
        cleanup.callback(journal.close)
        progress = Progress()
        progress.say(f"Importing from {source.description} into {target.description}")
        if not args.dry_run:
            progress.say(f"Journal: {journal.path} (run the same command again to resume)")
        try:
            Importer(source, target, journal, options, progress).run()
            if not args.dry_run:
                target.finish()
        except KeyboardInterrupt:
            print(progress.summary())
            print("Interrupted. Run the same command again to resume.", file=sys.stderr)
            return 130
        except Exception as exc:  # the CLI boundary: say what stopped us, keep the journal
            print(progress.summary())
            print(f"The import stopped: {type(exc).__name__}: {exc}", file=sys.stderr)
            print("Fix the cause and run the same command again to resume.", file=sys.stderr)
            return FAILED
        print(progress.summary(dry_run=args.dry_run))
        status = SKIPPED_SOMETHING if progress.skipped else 0
        if args.verify and not args.dry_run:
            checked = Progress()
            reader = target.reader()
            cleanup.callback(reader.close)
            report = Verifier(source, reader, journal, options, checked).run()
            verdict = "OK" if report.ok else f"{len(report.problems)} difference(s)"
            print(f"Verified against the target: {verdict} ({checked.line()})")
            if not report.ok:
                status = FAILED
        return status
