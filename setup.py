"""Installation of the ``intermimic`` Isaac Lab extension (package sources in exts/intermimic)."""

from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).parent
PACKAGE_DIR = ROOT / "exts" / "intermimic"


def _packages() -> list[str]:
    found = ["intermimic"]
    for init in sorted(PACKAGE_DIR.rglob("__init__.py")):
        rel = init.parent.relative_to(PACKAGE_DIR)
        if rel.parts:
            found.append(".".join(("intermimic", *rel.parts)))
    return found


INSTALL_REQUIRES = [
    # with the kit-less PhysX runtime (ovphysx + ovstage, about 212 MB): physics=ovphysx
    "isaaclab[ovphysx]==3.0.0",
    "rsl-rl-lib==5.5.1",
    "torch==2.11.0",
    "omegaconf==2.3.1",
    "smplx==0.1.28",
    "numpy>=1.26",
    "mujoco-usd-converter==0.6.1",
    "tqdm",
    "pyyaml>=6",  # settings recorded with a run (params/env.yaml)
    "matplotlib>=3.10",  # ./intermimic.sh plot
    "tensorboard>=2.20",  # ./intermimic.sh plot (event files) and ./intermimic.sh tensorboard
    "onnx>=1.18",  # play --export
    "imageio-ffmpeg>=0.5",  # MP4 videos (ships its own ffmpeg binary)
    "mujoco==3.12.0",  # offscreen video renderer, robot retargeting (the version Newton 1.6 pins)
    "pillow>=10.1",  # captions, GIFs, PNG stills
    "mink==1.3.0",  # retarget-robot: differential IK on MuJoCo (Apache-2.0)
]

EXTRAS_REQUIRE = {
    "dev": ["pytest>=8", "pytest-timeout>=2.3", "onnxruntime>=1.20"],
    # web viewers for --viz viser (port 8080) and --viz rerun (web 9090, gRPC 9876), in the
    # versions Isaac Lab's visualizers require
    "viz": ["isaaclab[viser,rerun]==3.0.0"],
}

setup(
    name="intermimic",
    version="0.1.0",
    description="InterMimic (CVPR 2025) human-object interaction imitation for Isaac Lab 3.0",
    long_description=(ROOT / "README.md").read_text() if (ROOT / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.12,<3.13",
    packages=_packages(),
    package_dir={"intermimic": "exts/intermimic"},
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    entry_points={"isaaclab.tasks": ["intermimic = intermimic.tasks"]},
    zip_safe=False,
)
