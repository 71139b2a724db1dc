"""Every command shown in README.md and docs/*.md parses: its script and subcommand exist, its
flags are known, its presets and override keys exist and its values have the right type.

Commands are taken from code blocks and inline code: ``./intermimic.sh ...``, ``python
source/X.py ...``, ``python deploy/X.py ...``, ``isaaclab ...`` (and ``isaaclab.sh -p ...``). They are parsed with each
script's own argparse parser (``build_parser()``) and, for train/play/evaluate, resolved with
the same config resolution the scripts run (tasks, presets, overrides); nothing is run.
Placeholders (``<run>``, ``PATH``) and synopsis notation (``[--hours 10]``, ``cpu|cuda:0``,
``PATH...``) are normalised first.
"""

from __future__ import annotations

import argparse
import configparser
import re
import shlex
from dataclasses import dataclass

import pytest

from conftest import REPO_ROOT, load_script

pytestmark = pytest.mark.unit

DOC_FILES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
COMMAND_START = re.compile(
    r"^(\./intermimic\.sh|(\.venv(-deploy)?/bin/)?python3? (-m torch\.distributed\.run )?(source|deploy)/|isaaclab(\.sh)? |torchrun )"
)
ENV_SCRIPTS = ("train.py", "play.py", "evaluate.py", "replay.py", "retarget.py")
"""Scripts whose overrides are resolved like a run's (task, presets, override keys and types)."""
PASS_ON_SCRIPTS = ("pipeline.py",)
"""Scripts that pass their key=value overrides on to the others."""


@dataclass(frozen=True)
class DocCommand:
    where: str
    text: str
    inline: bool = False
    """From inline code in a sentence (a bare ``./intermimic.sh convert`` names a command there)."""

    def __str__(self):
        return f"{self.where}: {self.text}"


def _code_lines(markdown: str):
    """(line number, text) of shell lines in fenced blocks (continuations joined) and of inline
    code spans."""
    in_block, pending, start = False, "", 0
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.strip().startswith("```"):
            in_block, pending = not in_block, ""
            continue
        if in_block:
            if not pending:
                start = number
            pending += line.strip()
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            yield start, pending, False
            pending = ""
        else:
            for span in re.findall(r"`([^`]+)`", line):
                yield number, span, True


def extract_commands() -> list[DocCommand]:
    found = []
    for doc in DOC_FILES:
        for number, text, inline in _code_lines(doc.read_text()):
            text = re.split(r"\s#\s", text)[0].strip()  # trailing comment
            if COMMAND_START.match(text):
                found.append(DocCommand(f"{doc.relative_to(REPO_ROOT)}:{number}", text, inline))
    return found


def normalise(text: str) -> list[str]:
    """Shell tokens with placeholders and synopsis notation replaced by plausible values."""
    text = text.split(" | ")[0]  # a shell pipe: the command before it
    text = re.sub(r"<[^>]*>", "x", text)  # <run>, <teacher run>
    text = re.sub(r"\[([^\[\]]*)\]", r"\1", text) if " [" in text else text  # optional parts: [--hours 10]
    tokens = []
    for token in shlex.split(text):
        if token in ("...", "ARGS...", "ARGS"):
            continue
        token = token.removesuffix("...")
        if "|" in token and not token.startswith("["):
            key, sep, value = token.rpartition("=")
            token = f"{key}{sep}{value.split('|')[0]}" if sep else token.split("|")[0]  # first alternative
        tokens.append(token)
    return tokens


# -------------------------------------------------------------------------------------------------
# Checking
# -------------------------------------------------------------------------------------------------
def intermimic_sh_commands() -> dict[str, str]:
    """Subcommand -> script, read from intermimic.sh itself."""
    text = (REPO_ROOT / "intermimic.sh").read_text()
    table = dict(re.findall(r"^\s+([a-z_-]+)\) run_script (\S+\.py)", text, re.M))
    for sub, function in re.findall(r"^\s+([a-z_]+)\) (run_[a-z_]+) ", text, re.M):
        body = re.search(rf"^{function}\(\) \{{(.*?)^\}}", text, re.M | re.S)
        scripts = re.findall(r"run_script (\S+\.py)", body.group(1)) if body else []
        if scripts:
            table[sub] = scripts[0]
    if re.search(r"run_script inspect_data\.py", text):
        table["data"] = "inspect_data.py"
    return table


def _pytest_markers() -> set[str]:
    ini = configparser.ConfigParser()
    ini.read(REPO_ROOT / "pytest.ini")
    return {line.split(":")[0].strip() for line in ini["pytest"]["markers"].strip().splitlines()}


def check_script(script: str, args: list[str]) -> None:
    """Parse ``args`` as ``source/<script>`` would (UserError or SystemExit on failure)."""
    module = load_script(script.removesuffix(".py"))
    if script == "tensorboard_server.py":
        check_tensorboard_args(args)
        return
    parser = module.build_parser()
    from intermimic.app.configure import resolve_configs
    from intermimic.app.command_line import split_arguments

    if script in PASS_ON_SCRIPTS:
        split_arguments(parser, args)
        return
    if args and args[0] in getattr(module, "TAKES_OVERRIDES", ()):  # e.g. benchmark env: a task's overrides
        parsed, overrides = split_arguments(parser.subcommand_parsers[args[0]], args[1:])
        parsed.num_envs = None  # a list of env counts there
        parsed.task = getattr(parsed, "task", None) or "InterMimic-Teacher-v0"  # benchmark student: each task in turn
    elif script not in ENV_SCRIPTS:
        parser.parse_args(args)
        return
    else:
        parsed, overrides = split_arguments(parser, args)
    parsed.device = "cpu" if parsed.device is None or parsed.device.startswith("cuda") else parsed.device
    resolve_configs(parsed, overrides)


def check_standalone_script(path: str, args: list[str]) -> None:
    """Parse ``args`` with the ``build_parser()`` of a script outside ``source/`` (``deploy/...``)."""
    import importlib.util

    assert (REPO_ROOT / path).is_file(), f"no script {path}"
    spec = importlib.util.spec_from_file_location(f"standalone_{(REPO_ROOT / path).stem}", REPO_ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build_parser().parse_args(args)


def check_tensorboard_args(args: list[str]) -> None:
    from tensorboard import default, program

    program.TensorBoard(plugins=default.get_static_plugins()).configure(["tensorboard", "--logdir", ".", *args])


def check_isaaclab_train(args: list[str], monkeypatch) -> None:
    """Isaac Lab's own train command line, parsed by its dispatcher and rsl_rl backend parser."""
    from isaaclab_rl.entrypoints.backends import train_rsl_rl

    lib_parser = argparse.ArgumentParser()
    lib_parser.add_argument("--rl_library", choices=["rsl_rl"], required=True)
    selected, rest = lib_parser.parse_known_args(args)
    parsed = {}
    monkeypatch.setattr(train_rsl_rl, "setup_preset_cli", lambda parser, argv: (parser.parse_args(argv), []))
    monkeypatch.setattr(train_rsl_rl, "set_hydra_args", lambda *a, **k: None)
    parsed["args"] = train_rsl_rl._parse_args(rest)
    from intermimic.app.overrides import check_task

    check_task(parsed["args"].task)


def check_command(command: DocCommand, monkeypatch) -> None:
    tokens = normalise(command.text)
    head = tokens[0]
    if head == "./intermimic.sh":
        sub, rest = (tokens[1], tokens[2:]) if len(tokens) > 1 else ("help", [])
        if sub in ("help", "setup"):
            assert not rest, f"{sub} takes no arguments"
            return
        if sub == "test":
            markers = [rest[i + 1] for i, t in enumerate(rest) if t == "-m"]
            assert set(markers) <= _pytest_markers(), f"unknown pytest marker in {markers}"
            return
        scripts = intermimic_sh_commands()
        assert sub in scripts, f"intermimic.sh has no command '{sub}' (has {sorted(scripts)})"
        if sub == "data":
            assert rest[:1] == ["inspect"], "data takes the subcommand inspect"
            rest = rest[1:]
        if command.inline and not rest:
            return  # a command named in a sentence
        if sub == "train" and "--nproc" in rest:  # the torchrun shortcut: train.py --distributed
            at = rest.index("--nproc")
            assert rest[at + 1 : at + 2] and rest[at + 1].isdigit(), "--nproc takes a number"
            rest = ["--distributed", *rest[:at], *rest[at + 2 :]]
        check_script(scripts[sub], rest)
    elif head == "torchrun" or tokens[1:3] == ["-m", "torch.distributed.run"]:
        rest = tokens[1:] if head == "torchrun" else tokens[3:]
        script_at = next(i for i, t in enumerate(rest) if t.endswith(".py"))
        assert all(t.startswith("--") for t in rest[:script_at]), f"torchrun options {rest[:script_at]}"
        script = rest[script_at].removeprefix("source/")
        assert (REPO_ROOT / "source" / script).is_file(), f"no script source/{script}"
        assert "--distributed" in rest[script_at + 1 :], "a torchrun command needs train.py --distributed"
        check_script(script, rest[script_at + 1 :])
    elif head.endswith(("python", "python3")) or head in ("isaaclab", "isaaclab.sh"):
        if head in ("isaaclab", "isaaclab.sh") and (tokens[1] == "list_envs" or len(tokens) == 2):
            assert tokens[1] in ("list_envs", "train", "play"), f"unknown isaaclab command {tokens[1]}"
            return  # a command named in the text, without arguments
        if head in ("isaaclab", "isaaclab.sh") and tokens[1] == "train":
            check_isaaclab_train(tokens[2:], monkeypatch)
            return
        if head in ("isaaclab", "isaaclab.sh"):
            assert tokens[1] == "-p", f"unknown isaaclab command {tokens[1]}"
            tokens = tokens[1:]
        if tokens[1].startswith("deploy/"):  # a standalone script (no intermimic): its own parser
            check_standalone_script(tokens[1], tokens[2:])
            return
        script = tokens[1].removeprefix("source/")
        assert (REPO_ROOT / "source" / script).is_file(), f"no script source/{script}"
        check_script(script, tokens[2:])
    else:
        raise AssertionError(f"unknown command {head}")


COMMANDS = extract_commands()


def test_the_docs_show_commands():
    """The extraction finds the commands the docs are known to show (guards against a silently
    empty parametrisation)."""
    texts = [c.text for c in COMMANDS]
    assert len(COMMANDS) >= 25
    for expected in ("./intermimic.sh train", "./intermimic.sh play", "./intermimic.sh evaluate",
                     "./intermimic.sh plot", "./intermimic.sh tensorboard", "./intermimic.sh data inspect",
                     "isaaclab train", "isaaclab -p source/train.py"):  # fmt: skip
        assert any(t.startswith(expected) for t in texts), expected


def _runs_exist(monkeypatch):
    """Teacher presets name runs by glob (``logs/.../*_demo_sub0``): the docs show commands for runs
    made by earlier commands, so globs are taken as matching (the preset itself must exist). The
    docs also show commands for a machine with Isaac Sim (``physics=isaacsim_physx``): its
    runtime is taken as installed (the preset itself must exist)."""
    import glob

    from intermimic.tasks import physics

    monkeypatch.setattr(glob, "glob", lambda pattern, *a, **k: [pattern])
    monkeypatch.setattr(physics, "require_physics_backend", lambda name: None)


@pytest.mark.parametrize("command", COMMANDS, ids=[c.where for c in COMMANDS])
def test_documented_command_parses(command, monkeypatch):
    _runs_exist(monkeypatch)
    check_command(command, monkeypatch)


@pytest.mark.parametrize(
    "text",
    [
        "./intermimic.sh train --task InterMimic-Teacher-v0 --no_such_flag",
        "./intermimic.sh train dataset=no_such_set",
        "./intermimic.sh evaluate --checkpoint x env.no_such_field=1",
        "./intermimic.sh play --max_steps many",
        "./intermimic.sh fly",
        "./intermimic.sh test -m no_such_marker",
        "./intermimic.sh data inspect",
        "isaaclab train --task InterMimic-Teacher-v0 --rl_library rsl_rl --no_such_flag",
        "isaaclab -p source/train.py physics=no_such_physics",
        "./intermimic.sh train --task InterMimic-Student-v0 teachers=no_such_teachers",
        "./intermimic.sh replay dataset=no_such_set --clips x",
        "./intermimic.sh pipeline --subjects two",
        "./intermimic.sh benchmark env dataset=no_such_set --num_envs 4",
        "./intermimic.sh benchmark env --num_envs 0",
    ],
)
def test_a_wrong_command_is_caught(text, monkeypatch):
    """The checker itself fails on commands that would not run."""
    from intermimic.utils.errors import UserError

    _runs_exist(monkeypatch)
    with pytest.raises((UserError, SystemExit, AssertionError)):
        check_command(DocCommand("example", text), monkeypatch)
