"""Shared test fixtures.

``reference_dir`` is the project's reference data (published tables and numbers
from independent libraries), kept outside the repository in ``shared/reference``
beside the checkout (CI clones the repository with ``shared/`` next to it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Path to ``shared/reference`` (skips the test when it is not checked out)."""
    if not REFERENCE_DIR.is_dir():
        pytest.skip(
            f"reference data not found at {REFERENCE_DIR}; clone the shared/ folder beside the repository"
        )
    return REFERENCE_DIR


@pytest.fixture(autouse=True)
def _keep_main_module():
    """Restore ``sys.modules["__main__"]`` after each test.

    Streamlit's AppTest runs page scripts as a module named ``__main__``; if that module
    is left behind, a later test that starts worker processes with the "spawn" method
    (batch mode) makes each child re-run the temporary page script and die.
    """
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
