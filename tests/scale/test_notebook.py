"""notebooks/explore_routing.ipynb executes on a tiny run (its kernel is a separate process)."""

from __future__ import annotations

import pytest

from tests.scale.conftest import REPO, World

NOTEBOOK = REPO / "notebooks" / "explore_routing.ipynb"


@pytest.mark.slow
def test_notebook_executes_on_a_tiny_run(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("GLIDER_RUN_DIR", str(world.ddp_run))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2  # overview and per-task heatmaps
    assert any(str(world.ddp_run) in o.get("text", "") for o in outputs)  # it loaded the run it was given
