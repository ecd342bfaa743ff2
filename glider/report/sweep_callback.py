"""Hydra callback: when a multirun ends, write the cross-run report into its sweep directory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from glider.errors import GliderError

log = logging.getLogger("glider")


class SweepReport(Callback):
    """Runs ``python -m glider.report <sweep dir>`` at the end of the sweep (rank 0, local launcher)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from glider.report.__main__ import build_report

        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            files = build_report([sweep_dir], sweep_dir / "report")
        except GliderError as err:  # e.g. every job failed: nothing to report
            log.warning("sweep report not written: %s", err)
            return
        print("\n" + files["report_md"].read_text(encoding="utf-8"), flush=True)
        log.info("sweep report: %s", sweep_dir / "report")
