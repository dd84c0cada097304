"""The ``shade-match`` command line.

``main(argv=None) -> int`` so tests call it directly. Exit codes:

- 0: every input was analysed (or the command succeeded);
- 1: some inputs failed (each failure is still reported, as an ``"ok": false`` line
  with ``--json``);
- 2: usage error (bad option, unknown palette, existing output without ``--resume``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence, TextIO

from . import __version__
from .analysis import AnalysisSettings, inspect_image
from .correction import CORRECTION_METHODS
from .colour import DELTA_E_METHODS
from .errors import PaletteError, SettingsError, ShadeMatchError
from .palette import DEFAULT_PIGMENT_PALETTE, find_palettes, get_palette, validate_palette_file
from .batch import add_batch_parser, run_batch_cli
from .batch_report import add_report_parser, run_report_cli
from .runtime import reuse_freed_memory
from .palette_builder import add_palettes_build_parser
from .report import analysis_to_dict, failure_to_dict, format_analysis_text, to_json_line

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


def parse_rect(text: str) -> tuple[int, int, int, int]:
    """Parse ``"x,y,w,h"`` (input-image pixels) for ``--grey-card`` and region options."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(int(float(p)) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0 or min(values[:2]) < 0:
        raise argparse.ArgumentTypeError(
            f"expected x,y,w,h as four whole numbers with w, h > 0 (e.g. 120,80,60,40); got {text!r}"
        )
    return values  # type: ignore[return-value]


def add_analysis_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``analyze`` and ``batch``."""
    parser.add_argument(
        "--palette",
        action="append",
        metavar="NAME|PATH",
        help=f"pigment palette to match against (repeatable; default {DEFAULT_PIGMENT_PALETTE})",
    )
    parser.add_argument("--top", type=int, default=3, metavar="K", help="how many matches (default 3)")
    parser.add_argument(
        "--metric", choices=DELTA_E_METHODS, default="ciede2000", help="colour difference (default ciede2000)"
    )
    parser.add_argument(
        "--correction",
        choices=CORRECTION_METHODS,
        default="auto",
        help="colour correction (default auto: chart or grey card if in frame, else an illuminant estimate)",
    )
    parser.add_argument("--grey-card", type=parse_rect, metavar="X,Y,W,H", help="grey card rectangle in pixels")
    parser.add_argument("--hair-region", type=parse_rect, metavar="X,Y,W,H", help="measure hair only here")
    parser.add_argument("--skin-region", type=parse_rect, metavar="X,Y,W,H", help="measure skin only here")


def settings_from_args(args: argparse.Namespace) -> AnalysisSettings:
    return AnalysisSettings(
        correction=args.correction,
        grey_card=args.grey_card,
        hair_region=args.hair_region,
        skin_region=args.skin_region,
        top_k=args.top,
        metric=args.metric,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shade-match",
        description="Measure hair and skin tone on scalp photos and suggest SMP pigment shades.",
    )
    parser.add_argument("--version", action="version", version=f"shade-match {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    analyze = sub.add_parser("analyze", help="analyse one or more photos")
    analyze.add_argument("images", nargs="+", metavar="IMAGE")
    add_analysis_options(analyze)
    analyze.add_argument("--json", action="store_true", help="one JSON object per image (JSON Lines)")
    analyze.add_argument("--overlay", type=Path, metavar="DIR", help="write a segmentation overlay PNG per image")
    analyze.add_argument(
        "--preview", type=Path, metavar="DIR", help="write healed-look previews of the recommended shades per image"
    )
    analyze.set_defaults(func=_run_analyze)

    palettes = sub.add_parser("palettes", help="list, show or validate palettes")
    psub = palettes.add_subparsers(dest="palettes_command", required=True, metavar="ACTION")
    p_list = psub.add_parser("list", help="list the palettes found")
    p_list.set_defaults(func=_run_palettes_list)
    p_show = psub.add_parser("show", help="show a palette's entries")
    p_show.add_argument("name", metavar="NAME|PATH")
    p_show.set_defaults(func=_run_palettes_show)
    p_validate = psub.add_parser("validate", help="check palette files and list every problem")
    p_validate.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p_validate.set_defaults(func=_run_palettes_validate)
    add_palettes_build_parser(psub)

    # batch and report write to stderr/files themselves; adapt them to (args, stdout, stderr).
    add_batch_parser(sub).set_defaults(func=lambda args, stdout, stderr: run_batch_cli(args))
    add_report_parser(sub).set_defaults(func=lambda args, stdout, stderr: run_report_cli(args))
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the command line; return the exit code."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    reuse_freed_memory()  # a CLI process is ours to configure (see shade_match.runtime)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        return int(args.func(args, stdout, stderr))
    except (PaletteError, SettingsError) as exc:
        print(f"shade-match: error: {exc}", file=stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("shade-match: interrupted", file=stderr)
        return 130


def _run_analyze(args, stdout: TextIO, stderr: TextIO) -> int:
    settings = settings_from_args(args)
    palettes = tuple(get_palette(p) for p in (args.palette or [DEFAULT_PIGMENT_PALETTE]))
    for folder in (args.overlay, args.preview):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    failed = 0
    for image in args.images:
        try:
            inspection = inspect_image(image, settings=settings, palettes=palettes)
        except (ShadeMatchError, OSError) as exc:
            failed += 1
            if args.json:
                print(to_json_line(failure_to_dict(image, exc)), file=stdout, flush=True)
            else:
                print(f"{image}\n  error      {exc}", file=stdout, flush=True)
            continue
        analysis = inspection.analysis
        if args.overlay is not None:
            from .overlay import save_overlay

            save_overlay(args.overlay / (Path(image).stem + ".overlay.png"), inspection.rgb, inspection.segmentation)
        if args.preview is not None and inspection.recommendation is not None:
            from .preview import write_previews

            write_previews(inspection, inspection.recommendation, args.preview / Path(image).stem)
        if args.json:
            print(to_json_line(analysis_to_dict(analysis)), file=stdout, flush=True)
        else:
            print(format_analysis_text(analysis), file=stdout, flush=True)
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _run_palettes_list(args, stdout: TextIO, stderr: TextIO) -> int:
    found = find_palettes()
    if not found:
        print("no palettes found", file=stderr)
        return EXIT_SOME_FAILED
    for name, path in sorted(found.items()):
        try:
            palette = get_palette(path)
            print(f"{name:28s} {len(palette.entries):5d} entries  {palette.kind:12s} {path}", file=stdout)
        except PaletteError as exc:
            print(f"{name:28s} INVALID: {exc}", file=stdout)
    return EXIT_OK


def _run_palettes_show(args, stdout: TextIO, stderr: TextIO) -> int:
    palette = get_palette(args.name)
    print(f"{palette.name}: {palette.title}", file=stdout)
    for key, value in palette.provenance.items():
        print(f"  {key}: {value}", file=stdout)
    for e in palette.entries:
        dilution = f"{e.dilution:g}:1" if e.dilution is not None else ""
        print(
            f"  {e.id:16s} {e.name:30s} {e.hex}  L*a*b* {e.lab[0]:6.2f} {e.lab[1]:6.2f} {e.lab[2]:6.2f}  {dilution}",
            file=stdout,
        )
    return EXIT_OK


def _run_palettes_validate(args, stdout: TextIO, stderr: TextIO) -> int:
    bad = 0
    for path in args.paths:
        problems = validate_palette_file(path)
        if problems:
            bad += 1
            for problem in problems:
                print(f"INVALID {problem}", file=stdout)
        else:
            print(f"ok      {path}", file=stdout)
    return EXIT_SOME_FAILED if bad else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
