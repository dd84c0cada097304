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
