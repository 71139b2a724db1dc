"""Writing a converted data set: clips, their object meshes, per-subject bodies, a manifest, a report.

The output folder of a conversion::

    OUT/sub{ID}_{object}_{index}.pt      the clips (package clip files, or the release's .pt layout)
    OUT/objects/<name>/<name>.obj        each object's mesh, centred on its vertex mean (the clips' object frame)
    OUT/objects/<name>.urdf              the same mesh as the release's object URDFs name it
    OUT/humanoids/sub{ID}.xml            each subject's humanoid (MJCF: the canonical body on the subject's skeleton)
    OUT/dataset.yaml                     a manifest: train --motion OUT/dataset.yaml
    OUT/report.json, OUT/report.txt      converted / kept / skipped sequences, with frames, contact shares, reasons

Every file appears complete or not at all (:mod:`~intermimic.utils.atomic_write`). A clip that
already exists and passes validation is kept (a run that stopped resumes where it was); an
invalid one is converted again; ``overwrite`` converts everything again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from ...assets import humanoid_spec as spec
from ...utils.atomic_write import atomic_write_text
from .. import clip_format as cf
from .release_pt import save_clip

REPORT_JSON = "report.json"
REPORT_TEXT = "report.txt"
MANIFEST = "dataset.yaml"
OBJECTS = "objects"
HUMANOIDS = "humanoids"
SKELETON_TOLERANCE = 0.002
"""Largest bone-length difference (m) between two sequences of one subject that counts as the same body."""

URDF_TEMPLATE = """<?xml version="1.0" ?>
<robot name="{name}.urdf">
  <link name="baseLink">
    <visual>
      <origin rpy="0 0 0" xyz="0 0 0"/>
      <geometry>
        <mesh filename="objects/{name}/{name}.obj" scale="1.0 1.0 1.0"/>
      </geometry>
    </visual>
    <collision>
      <origin rpy="0 0 0" xyz="0 0 0"/>
      <geometry>
        <mesh filename="objects/{name}/{name}.obj" scale="1.0 1.0 1.0"/>
      </geometry>
    </collision>
  </link>
</robot>
"""


@dataclass
class Converted:
    """What converting one sequence produced."""

    clip: torch.Tensor
    object_name: str
    """The object's name in the source registry (its mesh is copied under the clip's object name)."""
    body_offsets: np.ndarray | None = None
    model_file: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class SequenceResult:
    """One line of the report."""

    id: str
    clip: str | None
    status: str
    """``converted``, ``kept`` (an existing valid clip) or ``skipped``."""
    reason: str | None = None
    subject: int | None = None
    object: str | None = None
    frames: int = 0
    manipulated_share: float | None = None
    """Frames whose object-manipulated flag is 1."""
    contact_share: float | None = None
    """Body-frames labelled +1 (should touch)."""
    penalize_share: float | None = None
    """Body-frames labelled -1 (should not touch)."""
    hand_contact_share: float | None = None
    """Frames in which some hand body is labelled +1."""
    model_file: str | None = None
    notes: list[str] = field(default_factory=list)


def contact_shares(clip: torch.Tensor) -> dict[str, float]:
    labels = cf.field(clip, "contact")
    hands = spec.HAND_BODY_IDS["L"] + spec.HAND_BODY_IDS["R"]
    return {
        "manipulated_share": round(float(cf.field(clip, "obj_manipulated").mean()), 4),
        "contact_share": round(float((labels > 0).float().mean()), 4),
        "penalize_share": round(float((labels < 0).float().mean()), 4),
        "hand_contact_share": round(float((labels[:, hands] > 0).any(dim=1).float().mean()), 4),
    }


class DatasetWriter:
    """Writes one conversion's output folder.

    Args:
        out: the output folder.
        out_format: ``clip`` or ``release_pt`` (:mod:`release_pt`).
        overwrite: convert every sequence again (else existing valid clips are kept).
        source_registry: the object registry of the input (meshes to copy).
    """

    def __init__(self, out: str | os.PathLike, source_registry, out_format: str = "clip", overwrite: bool = False,
                 repair_positions: bool = False):  # fmt: skip
        self.out = Path(out).expanduser().resolve()
        self.registry = source_registry
        self.out_format, self.overwrite, self.repair_positions = out_format, overwrite, repair_positions
        self.mesh_problems: dict[str, str] = {}
        """Objects whose mesh could not be read (object -> the problem, naming the file)."""
        self.results: list[SequenceResult] = []
        self.skeletons: dict[int, tuple[np.ndarray, str]] = {}
        self.objects: dict[str, str] = {}  # clip object name -> source name
        self.notes: list[str] = []

    def clip_path(self, name: str) -> Path:
        return self.out / f"{name}.pt"

    def existing(self, name: str) -> torch.Tensor | None:
        """The existing valid clip ``name`` (None when absent, invalid, or ``overwrite``)."""
        from ..clip_io import load_clip_file
        from ..validation import ClipError, check_clip

        path = self.clip_path(name)
        if self.overwrite or not path.is_file():
            return None
        try:
            return check_clip(load_clip_file(path), path)
        except ClipError:
            return None

    def convert(self, sequence_id: str, clip_name: str, subject: int, object_name: str,
                make: Callable[[], Converted]) -> SequenceResult:  # fmt: skip
        """Convert one sequence with ``make`` unless its clip exists and is valid; a
        :class:`ValueError`/:class:`FileNotFoundError`/:class:`KeyError` (bad input) skips it with the reason."""
        from ...assets.object_registry import ObjectMeshError
        from ..validation import ClipError, check_clip

        clip_name, object_name = self._names(clip_name, object_name)
        result = SequenceResult(sequence_id, clip_name, "kept", subject=subject, object=object_name)
        clip = self.existing(clip_name)
        if clip is None:
            try:
                made = make()
                clip = check_clip(made.clip, self.clip_path(clip_name), repair_positions=self.repair_positions)
            except ObjectMeshError as exc:  # the object's mesh: every sequence of it is skipped
                self.mesh_problems[object_name] = str(exc)
                result.status, result.reason = "skipped", f"object '{object_name}': its mesh cannot be read ({exc})"
                self.results.append(result)
                return result
            except (ValueError, KeyError, FileNotFoundError, ClipError) as exc:
                result.status, result.reason = "skipped", str(exc).strip("'\"")
                self.results.append(result)
                return result
            self._copy_object(object_name, made.object_name)
            if made.body_offsets is not None:
                self._subject_body(subject, made.body_offsets, sequence_id)
            save_clip(self.clip_path(clip_name), clip, self.out_format, overwrite=True)
            result.status, result.model_file, result.notes = "converted", made.model_file, list(made.notes)
        result.frames = int(clip.shape[0])
        for key, value in contact_shares(clip).items():
            setattr(result, key, value)
        self.results.append(result)
        return result

    def _names(self, clip_name: str, object_name: str) -> tuple[str, str]:
        """The clip's and its object's names in the output: as given, but for the release's layout
        without ``_`` in the object's name (the release's loader takes the object's name as the
        second ``_``-separated token of the file name)."""
        if self.out_format != "release_pt" or "_" not in object_name:
            return clip_name, object_name
        token = object_name.replace("_", "")
        note = (f"object '{object_name}' is written as '{token}' (the release's loader reads the object's name from the "
                "file name, between the first two '_')")  # fmt: skip
        if note not in self.notes:
            self.notes.append(note)
        return clip_name.replace(f"_{object_name}_", f"_{token}_", 1), token

    # ---------------------------------------------------------------------------------------------
    def _copy_object(self, name: str, source_name: str) -> None:
        """The object's mesh, centred, as ``objects/<name>/<name>.obj`` plus a release-style URDF."""
        if name in self.objects:
            return
        self.objects[name] = source_name
        mesh_file = self.out / OBJECTS / name / f"{name}.obj"
        if self.overwrite or not mesh_file.is_file():
            import trimesh

            mesh = self.registry.mesh(source_name)  # centred on its vertex mean
            data = trimesh.Trimesh(vertices=mesh.vertices, faces=mesh.faces, process=False).export(file_type="obj")
            atomic_write_text(mesh_file, data)
        urdf = self.out / OBJECTS / f"{name}.urdf"
        if self.overwrite or not urdf.is_file():
            atomic_write_text(urdf, URDF_TEMPLATE.format(name=name))

    def _subject_body(self, subject: int, offsets: np.ndarray, sequence_id: str) -> None:
        """The subject's humanoid MJCF (the first sequence's skeleton; a note when others differ)."""
        if subject in self.skeletons:
            first, first_id = self.skeletons[subject]
            diff = float(np.abs(np.linalg.norm(offsets, axis=1) - np.linalg.norm(first, axis=1)).max())
            if diff > SKELETON_TOLERANCE:
                self.notes.append(f"subject {subject}: the skeleton of {sequence_id} differs from {first_id}'s by up to "
                                  f"{100 * diff:.1f} cm in bone length; humanoids/sub{subject}.xml is {first_id}'s")  # fmt: skip
            return
        self.skeletons[subject] = (np.asarray(offsets), sequence_id)
        path = self.out / HUMANOIDS / f"sub{subject}.xml"
        if self.overwrite or not path.is_file():
            from ...assets.smplx_subject import subject_mjcf

            atomic_write_text(path, subject_mjcf(body_offsets=np.asarray(offsets)))

    # ---------------------------------------------------------------------------------------------
    def summary(self) -> dict:
        done = [r for r in self.results if r.status != "skipped"]
        frames = sum(r.frames for r in done)

        def mean(key):
            return round(sum(getattr(r, key) * r.frames for r in done) / frames, 4) if frames else None

        return {
            "sequences": len(self.results),
            "converted": sum(r.status == "converted" for r in self.results),
            "kept": sum(r.status == "kept" for r in self.results),
            "skipped": sum(r.status == "skipped" for r in self.results),
            "frames": frames,
            "seconds": round(frames / cf.CLIP_FPS, 1),
            "manipulated_share": mean("manipulated_share"),
            "contact_share": mean("contact_share"),
            "penalize_share": mean("penalize_share"),
            "hand_contact_share": mean("hand_contact_share"),
            "subjects": sorted({r.subject for r in done if r.subject is not None}),
            "objects": sorted({r.object for r in done if r.object}),
        }

    def finish(self, meta: dict) -> dict:
        """Write ``dataset.yaml`` (when a clip exists) and the report; returns the report."""
        summary = self.summary()
        humanoids = {str(s): f"{HUMANOIDS}/sub{s}.xml" for s in summary["subjects"]
                     if (self.out / HUMANOIDS / f"sub{s}.xml").is_file()}  # fmt: skip
        report = {"summary": summary, "meta": meta, "notes": self.notes, "humanoids": humanoids,
                  "sequences": [asdict(r) for r in self.results]}  # fmt: skip
        self.out.mkdir(parents=True, exist_ok=True)
        if report["summary"]["converted"] + report["summary"]["kept"]:
            atomic_write_text(self.out / MANIFEST, self.manifest_text(meta))
        atomic_write_text(self.out / REPORT_JSON, json.dumps(report, indent=1) + "\n")
        atomic_write_text(self.out / REPORT_TEXT, format_report(report) + "\n")
        return report

    def manifest_text(self, meta: dict) -> str:
        when = datetime.now().strftime("%Y-%m-%d %H:%M")
        source = meta.get("source", "")
        lines = [
            f"# Written by `convert` ({meta.get('format', '')}) on {when}: the clips of this folder, from {source}.",
            f"# Train with: ./intermimic.sh train --motion {self.out / MANIFEST}",
            "# Per-subject humanoids (optional): env.humanoid_mjcf=<this folder>/humanoids/sub<ID>.xml dataset.subjects=[<ID>]",
            f"description: {json.dumps(meta.get('description', 'converted clips'))}",
            f"data_root: {json.dumps(str(self.out))}",
            "files: [.]",
            f"objects_dir: {OBJECTS}",
            "strict: false",
        ]  # fmt: skip
        return "\n".join(lines) + "\n"


def format_report(report: dict) -> str:
    s = report["summary"]
    lines = [
        f"sequences: {s['sequences']} ({s['converted']} converted, {s['kept']} kept from an earlier run, "
        f"{s['skipped']} skipped)",
        f"frames: {s['frames']} at {cf.CLIP_FPS} fps = {s['seconds']} s; subjects {s['subjects']}; objects {s['objects']}",
    ]
    if s["frames"]:
        lines.append(f"contact shares: object manipulated in {100 * s['manipulated_share']:.1f}% of frames, a hand "
                     f"touching in {100 * s['hand_contact_share']:.1f}%; body labels +1 {100 * s['contact_share']:.1f}%, "
                     f"-1 {100 * s['penalize_share']:.1f}%")  # fmt: skip
    rows = [r for r in report["sequences"]]
    if rows:
        lines.append("")
        lines.append(f"{'sequence':<40} {'clip':<28} {'status':<9} {'frames':>6} {'manip.':>6} {'hands':>6}  reason / notes")
        for r in rows:
            manip = "" if r["manipulated_share"] is None else f"{100 * r['manipulated_share']:.0f}%"
            hands = "" if r["hand_contact_share"] is None else f"{100 * r['hand_contact_share']:.0f}%"
            why = r["reason"] or "; ".join(r["notes"])
            lines.append(f"{r['id'][:40]:<40} {str(r['clip'] or '-')[:28]:<28} {r['status']:<9} {r['frames']:>6} "
                         f"{manip:>6} {hands:>6}  {why}")  # fmt: skip
    for note in report.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)

