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


G1_URDF = REPO_ROOT.parent / "shared" / "data" / "g1_dex3" / "g1_29dof_with_hand.urdf"
"""The Unitree G1 + Dex3 description the G1 tests read (read-only shared data)."""


def retarget_sample_clips(out: Path, folder: str, clips, max_frames: int) -> Path:
    """``retarget-robot`` of sample clips ``clips`` of ``folder`` (e.g. ``OMOMO_new``), their first
    ``max_frames`` rows, into ``out``; skips the calling test when the G1 description or the sample
    data is absent."""
    data = sample_data_dir() / folder
    if not G1_URDF.is_file():
        pytest.skip(f"G1 description absent: {G1_URDF}")
    if not data.is_dir():
        pytest.skip(f"InterMimic sample data not found at {data.parent} (set INTERMIMIC_SAMPLE_DATA to run this test)")
    load_script("retarget_robot").main(["--robot", "g1_dex3", "--urdf", str(G1_URDF), str(data), str(out),
                                        "--clips", *clips, "--max-frames", str(max_frames)])  # fmt: skip
    return out


def load_script(name: str):
    """The module of ``source/<name>.py`` (its ``main``, ``build_parser``), loaded without running it."""
    spec = importlib.util.spec_from_file_location(f"script_{name}", REPO_ROOT / "source" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def body_models(tmp_path_factory) -> Path:
    """Synthetic SMPL-H / SMPL-X model files in both layouts (tests/body_model_helpers.py)."""
    from body_model_helpers import write_model_folder

    return write_model_folder(tmp_path_factory.mktemp("body_models"))
