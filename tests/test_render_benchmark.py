"""The render benchmark's table (``benchmark render``): its rows and columns with a tiny frame
count; no timing is asserted."""

from __future__ import annotations

import pytest

from conftest import load_script

pytestmark = pytest.mark.unit
SIZES = ((64, 48), (96, 64))


def test_the_table_has_a_row_per_renderer_and_backend_and_a_column_per_size():
    from intermimic.benchmarks import render as rb
    from intermimic.utils.gl_backend import gl_backend_problem

    rows = rb.render_benchmark(SIZES, count=2, warmup=0)
    assert [(r.renderer, r.backend) for r in rows] == [("mujoco", "OSMesa (CPU)"), ("mujoco", "EGL (CUDA)"),
                                                        ("skeleton", "matplotlib (CPU)")]  # fmt: skip
    osmesa, egl, _ = rows
    available = rb.available_backends()
    assert (egl.problem is None) == (available["egl"] is None)
    if available["osmesa"] is None and gl_backend_problem() is None:
        assert osmesa.problem is None, osmesa.problem  # measured in its own process
    for row in (r for r in rows if r.problem is None):
        assert set(row.fps) == {"64x48", "96x64"} and all(v > 0 for v in row.fps.values())
    lines = rb.format_table(rows, SIZES).splitlines()
    assert lines[0].split() == ["renderer", "backend", "64x48", "frames/s", "96x64", "frames/s"]
    assert len(lines) == 4 and lines[3].startswith("skeleton") and len(lines[3].split()) == 5
    assert all("not measured" in line for line, row in zip(lines[1:], rows) if row.problem)


def test_benchmark_render_subcommand_prints_the_table(capsys):
    code = load_script("benchmark").main(["render", "--frames", "1", "--warmup", "0", "--sizes", "64x48",
                                          "--renderers", "skeleton"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    table = out[out.index("renderer  "):].splitlines()
    assert table[0].split() == ["renderer", "backend", "64x48", "frames/s"]
    assert table[1].split()[:3] == ["skeleton", "matplotlib", "(CPU)"] and float(table[1].split()[3]) > 0


def test_benchmark_render_rejects_a_bad_size():
    from intermimic.utils.errors import UserError

    with pytest.raises(UserError, match="--sizes"):
        load_script("benchmark").build_parser().parse_args(["render", "--sizes", "640"])
