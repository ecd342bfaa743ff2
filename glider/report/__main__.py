"""``python -m glider.report <run or sweep dirs> [--out DIR]``: one table and plots across runs.

Writes report.md, report.csv (one row per configuration; several seeds -> mean and std),
runs.csv (one row per run), score_vs_alpha.png and heldin_vs_heldout.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from glider.errors import GliderError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m glider.report", description="Table and plots across glider runs.")
    parser.add_argument("paths", nargs="+", type=Path, help="run directories or folders that contain them (sweep directories)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the report (default: <first path>/report)")
    return parser.parse_args(argv)


def build_report(paths: list[Path], out: Path) -> dict[str, Path]:
    """Find the runs under ``paths``; write the tables and plots into ``out``; return the files written."""
    from glider.report.runs import load_runs
    from glider.report.sweep_plots import plot_heldin_vs_heldout, plot_score_vs_alpha
    from glider.report.sweep_table import aggregate, runs_frame, write_tables

    runs = load_runs(paths)
    frame = runs_frame(runs)
    agg = aggregate(frame)
    files = write_tables(frame, agg, out)
    for name, plot in (("score_vs_alpha", plot_score_vs_alpha), ("heldin_vs_heldout", plot_heldin_vs_heldout)):
        written = plot(agg, out / f"{name}.png")
        if written is not None:
            files[name] = written
    return files


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out or args.paths[0] / "report"
    try:
        files = build_report(args.paths, out)
    except GliderError as err:
        print(f"glider: error: {err}", file=sys.stderr)
        return 2
    print(files["report_md"].read_text(encoding="utf-8"))
    for path in files.values():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
