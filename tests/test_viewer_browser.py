"""The viser web viewer (``--viz viser``) shows the scene: a kinematic replay serves the page on
localhost, headless Chromium loads it, and the screenshot holds a drawn scene (not just the
empty page and its side panel)."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from browser import find_chromium, free_port, screenshot, stop_process, wait_for_port
from conftest import REPO_ROOT

pytestmark = pytest.mark.sim


def _scene_coverage(png: bytes) -> float:
    """Fraction of the 3D view (below the notice and the side panel, right of the axes icon) whose
    colour differs clearly from the view's dominant (background) colour."""
    import io

    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int32)
    h, w, _ = image.shape
    view = image[int(h * 0.45) : h - 10, 70:].reshape(-1, 3)
    colours, counts = np.unique(view // 8, axis=0, return_counts=True)
    background = colours[counts.argmax()] * 8 + 4
    return float((np.abs(view - background).max(axis=1) > 40).mean())


def test_viser_viewer_shows_the_replayed_scene(sample_data, tmp_path):
    if find_chromium() is None:
        pytest.skip("headless Chromium is not installed (Debian package 'chromium'; .ci/run installs it)")
    if importlib.util.find_spec("viser") is None:
        pytest.skip("viser is not installed (pip install -e .[viz])")
    port = free_port()
    clips = [str(sample_data / "OMOMO_new" / f"sub2_{c}.pt") for c in ("largetable_003", "woodchair_003")]
    log = open(tmp_path / "replay.log", "w")
    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "source" / "replay.py"), "--device", "cpu", "--num_envs", "2",
         "--motion", *clips, f"dataset.objects_dir={sample_data / 'objects'}", "--viz", "viser",
         "--viser_port", str(port), "--loop"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        served = wait_for_port(port, 300.0, proc)
        assert served, f"the viser page was not served:\n{(tmp_path / 'replay.log').read_text()[-3000:]}"
        png = screenshot(f"http://127.0.0.1:{port}", str(tmp_path / "chromium"), wait_s=25.0)
        (tmp_path / "viser.png").write_bytes(png)
    finally:
        stop_process(proc, timeout=30.0)
        log.close()
    coverage = _scene_coverage(png)
    assert coverage > 0.005, f"the viewer shows no scene (coverage {coverage:.4f}); screenshot {tmp_path / 'viser.png'}"
