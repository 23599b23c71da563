"""Every notebook in examples/ runs top to bottom in a real Jupyter kernel."""
import os
from pathlib import Path

import pytest

import nnk

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
# ISA-independent enough to run once, in the pass for the best ISA
pytestmark = pytest.mark.skipif(nnk.get_isa() != nnk.cpu_info()["best"] or bool(os.environ.get("NNK_SANITIZED")),
                                reason="notebooks run once, in the best ISA's pass")


def test_there_is_a_notebook_per_seed_document():
    names = {p.name[:3] for p in NOTEBOOKS}
    assert {"000", "001", "002", "003", "004"} <= names
    assert any("isa" in p.name for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    root = str(EXAMPLES.parent)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = root + (os.pathsep + env_path if env_path else "")
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": root}})
    client.execute()  # raises CellExecutionError on any error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
