"""Turn FLAN-collection rows (``Open-Orca/FLAN`` schema) into the per-task layout the FLAN source reads.

    python -m glider.data.flan_prepare --out DIR (--raw FILE_OR_DIR ... | --hub Open-Orca/FLAN)
        [--max-per-task 10000] [--template-types zs_opt,zs_noopt] [--niv2-categories FILE]

Input rows: ``inputs``, ``targets``, ``_task_name``, ``_task_source``, ``_template_type``
(parquet or jsonl; streamed, so raw shards of any size work). Output:
``DIR/<key>/train.jsonl`` (rows as read) and ``DIR/manifest.json`` (rows per key, names
without a key). Keys are mapped by ``glider.data.flan_names.flan_key``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

from glider.data.flan_names import FLAN_TASKS, FLAN_V2_WITHOUT_ROWS, flan_key
from glider.errors import DataError, GliderError
from glider.io import atomic_write_json, atomic_write_text

log = logging.getLogger("glider")
FIELDS = ("inputs", "targets", "_task_name", "_task_source", "_template_type")


def read_categories(path: str | Path | None) -> dict[str, str]:
    """NIv2 task -> category: a JSON object whose values are a category or a list (the first counts)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataError(f"Cannot read the NIv2 categories file {path}: {err}.") from None
    if not isinstance(data, dict):
        raise DataError(f"{path} must hold a JSON object: NIv2 task name (or taskNNN) -> category.")
    return {str(k): (v[0] if isinstance(v, list) and v else str(v)) for k, v in data.items() if v}


def iter_raw_files(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Rows of parquet (record batches) and json/jsonl files, streamed; folders are searched recursively."""
    import pyarrow.parquet as pq

    files: list[Path] = []
    for path in paths:
        path = Path(path)
        files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".parquet", ".jsonl", ".json")) if path.is_dir() else [path])
    if not files:
        raise DataError(f"No .parquet/.jsonl/.json files under {', '.join(map(str, paths))}.")
    for file in files:
        if file.suffix == ".parquet":
            parquet = pq.ParquetFile(str(file))
            columns = [c for c in FIELDS if c in parquet.schema_arrow.names]
            for batch in parquet.iter_batches(batch_size=4096, columns=columns):
                yield from batch.to_pylist()
        else:
            with open(file, encoding="utf-8") as f:
                if file.suffix == ".json":
                    data = json.load(f)
                    yield from (data if isinstance(data, list) else data.get("examples", []))
                else:
                    for line in f:
                        if line.strip():
                            yield json.loads(line)


def iter_hub(hub_id: str) -> Iterator[dict[str, Any]]:
    """Stream the hub dataset (nothing is downloaded in full)."""
    from datasets import load_dataset

    return iter(load_dataset(hub_id, split="train", streaming=True))


def prepare_flan(
    rows: Iterable[dict[str, Any]],
    out_dir: str | Path,
    max_per_task: int = 10000,
    template_types: Iterable[str] | None = ("zs_opt", "zs_noopt"),
    categories: dict[str, str] | None = None,
    keys: Iterable[str] | None = None,
) -> dict[str, int]:
    """Bucket rows by expert key (up to ``max_per_task`` each) and write ``out_dir/<key>/train.jsonl``."""
    wanted = set(keys or FLAN_TASKS)
    types = set(template_types) if template_types else None
    buckets: dict[str, list[str]] = {k: [] for k in wanted}
    unmapped: Counter[str] = Counter()
    reachable = {k for k in wanted if (not k.startswith("niv2") or categories) and k not in FLAN_V2_WITHOUT_ROWS}
    unreachable = sorted(wanted - reachable)
    if unreachable:
        log.warning("flan_prepare: %d key(s) can get no rows from the FLAN collection and are not waited for: %s (%s)",
                    len(unreachable), ", ".join(unreachable[:24]) + (" ..." if len(unreachable) > 24 else ""),
                    "P3 datasets the collection drops, and NIv2 keys without --niv2-categories")
    for row in rows:
        if types is not None and row.get("_template_type") not in types and "_template_type" in row:
            continue
        key = flan_key(row.get("_task_name", ""), row.get("_task_source"), categories)
        if key is None:
            unmapped[str(row.get("_task_name", ""))] += 1
            continue
        if key in buckets and len(buckets[key]) < max_per_task:
            buckets[key].append(json.dumps({f: row.get(f) for f in FIELDS if f in row}, ensure_ascii=False))
            if all(len(buckets[k]) >= max_per_task for k in reachable):
                break  # every key that can fill is full: the rest of the collection is never read
    out = Path(out_dir)
    counts = {}
    for key, lines in buckets.items():
        if lines:
            atomic_write_text(out / key / "train.jsonl", "\n".join(lines) + "\n")
        counts[key] = len(lines)
    atomic_write_json(out / "manifest.json", {"rows_per_task": counts, "unmapped_task_names": dict(unmapped.most_common(200)),
                                              "template_types": sorted(types) if types else None, "max_per_task": max_per_task})
    missing = [k for k in sorted(wanted) if not counts[k]]
    if missing:
        log.warning("flan_prepare: no rows for %d task(s): %s%s", len(missing), ", ".join(missing[:12]), " ..." if len(missing) > 12 else "")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m glider.data.flan_prepare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output directory (becomes task.data_dir for task=flan)")
    parser.add_argument("--raw", nargs="*", default=[], help="raw parquet/jsonl files or folders (Open-Orca/FLAN schema)")
    parser.add_argument("--hub", default=None, help="stream this hub dataset instead (e.g. Open-Orca/FLAN)")
    parser.add_argument("--max-per-task", type=int, default=10000)
    parser.add_argument("--template-types", default="zs_opt,zs_noopt", help="comma list; empty = all")
    parser.add_argument("--niv2-categories", default=None, help="JSON: NIv2 task name (or taskNNN) -> category")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if bool(args.raw) == bool(args.hub):
            raise DataError("Give either --raw FILES/FOLDERS or --hub HUB_ID.")
        rows = iter_raw_files([Path(p) for p in args.raw]) if args.raw else iter_hub(args.hub)
        types = [t for t in args.template_types.split(",") if t]
        counts = prepare_flan(rows, args.out, args.max_per_task, types or None, read_categories(args.niv2_categories))
    except GliderError as err:
        print(f"glider: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {sum(counts.values())} rows for {sum(1 for c in counts.values() if c)} task(s) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
