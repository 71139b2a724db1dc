"""Progress output when stderr is not a terminal: whole lines, no carriage returns."""

import io

import pytest

pytestmark = pytest.mark.unit


def test_plain_progress_writes_whole_lines_at_its_interval(monkeypatch):
    from intermimic.utils import progress as mod

    clock = iter(range(0, 1000, 10))  # each call to the clock advances 10 s
    monkeypatch.setattr(mod.time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    items = list(mod.PlainProgress(range(7), desc="reading clips", unit="clip", interval_s=25.0, file=out))
    assert items == list(range(7))
    text = out.getvalue()
    assert "\r" not in text and text.endswith("\n")
    lines = text.splitlines()
    assert lines[-1].startswith("reading clips: 7/7 clips")
    assert 1 < len(lines) < 7  # some intermediate lines, not one per item


def test_short_work_prints_nothing_and_non_tty_gets_no_bar(monkeypatch):
    from intermimic.utils import progress as mod

    out = io.StringIO()
    for _ in mod.PlainProgress(range(100), desc="packing clips", unit="clip", file=out):
        pass
    assert out.getvalue() == ""  # finished well within the interval
    monkeypatch.setattr(mod.sys.stderr, "isatty", lambda: False, raising=False)
    assert isinstance(mod.progress(range(3), desc="x"), mod.PlainProgress)
