"""Shared test helpers: where the sample data lives, and skipping cleanly without it."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def sample_data_dir() -> Path:
    """The InterMimic sample data folder ($INTERMIMIC_SAMPLE_DATA or ../shared/data/intermimic_sample)."""
    return Path(os.environ.get("INTERMIMIC_SAMPLE_DATA", REPO_ROOT.parent / "shared" / "data" / "intermimic_sample"))


def require_sample_data() -> Path:
    """The sample data folder; skips the calling test with a reason when it is absent."""
    path = sample_data_dir()
    if not (path / "OMOMO_new").is_dir():
        pytest.skip(f"InterMimic sample data not found at {path} (set INTERMIMIC_SAMPLE_DATA to run this test)")
    return path


@pytest.fixture(scope="session")
def sample_data() -> Path:
    return require_sample_data()


def load_script(name: str):
    """The module of ``source/<name>.py`` (its ``main``, ``build_parser``), loaded without running it."""
    spec = importlib.util.spec_from_file_location(f"script_{name}", REPO_ROOT / "source" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
