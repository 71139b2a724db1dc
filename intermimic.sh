#!/usr/bin/env bash
# InterMimic for Isaac Lab: set up, train, play, evaluate, test.
#
#   ./intermimic.sh setup                 create .venv (Python 3.12) and install the package (+dev, viz)
#   ./intermimic.sh train [ARGS...]       source/train.py (--nproc N: N ranks on this node via torchrun)
#   ./intermimic.sh play [ARGS...]        source/play.py
#   ./intermimic.sh evaluate [ARGS...]    source/evaluate.py
#   ./intermimic.sh track --checkpoint RUN CLIPS... [ARGS...]
#                                         source/track.py (a policy follows clips it never saw, zero-shot)
#   ./intermimic.sh plot [RUN]            training curves of a run as PNG files (RUN/plots/)
#   ./intermimic.sh tensorboard [ARGS...] TensorBoard on logs/rsl_rl (http://localhost:6006)
#   ./intermimic.sh pipeline [ARGS...]    teacher per subject -> student -> evaluation (source/pipeline.py)
#   ./intermimic.sh replay [ARGS...]      source/replay.py (clips without a policy)
#   ./intermimic.sh retarget [ARGS...]    source/retarget.py (teacher rollouts -> clips)
#   ./intermimic.sh retarget-robot --robot g1_dex3 --urdf PATH DATA_DIR OUT_DIR [ARGS...]
#                                         source/retarget_robot.py (SMPL-X clips -> G1 + Dex3 clips)
#   ./intermimic.sh data inspect PATH [--json]
#   ./intermimic.sh convert [ARGS...]     source/convert.py (InterAct data sets, SMPL-X sequences, joint positions -> clips)
#   ./intermimic.sh benchmark [ARGS...]   source/benchmark.py
#   ./intermimic.sh test [PYTEST ARGS...] run the test suite (-m unit: the quick part), with its time
#
# With an Isaac Lab Python already active (a virtual/conda environment that imports isaaclab),
# setup installs the package there instead of creating .venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$ROOT/.venv"
STAMP_NAME=".intermimic-setup"

log() { printf '[intermimic] %s\n' "$*" >&2; }
die() { printf '[intermimic] error: %s\n' "$*" >&2; exit 2; }

find_python312() {
    local candidates=(python3.12)
    if command -v pyenv >/dev/null 2>&1; then
        candidates+=("$(pyenv root)"/versions/3.12*/bin/python3.12)
    fi
    candidates+=(/usr/bin/python3.12 /usr/local/bin/python3.12)
    local c
    for c in "${candidates[@]}"; do
        if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; then
            command -v "$c" 2>/dev/null || echo "$c"
            return 0
        fi
    done
    return 1
}

# An already active Isaac Lab Python (not our own .venv): use it as is.
active_isaaclab_python() {
    local py=""
    if [[ -n "${VIRTUAL_ENV:-}" && "${VIRTUAL_ENV}" != "$VENV" && -x "${VIRTUAL_ENV}/bin/python" ]]; then
        py="${VIRTUAL_ENV}/bin/python"
    elif [[ -n "${CONDA_PREFIX:-}" && -x "${CONDA_PREFIX}/bin/python" ]]; then
        py="${CONDA_PREFIX}/bin/python"
    fi
    [[ -n "$py" ]] || return 1
    "$py" -c 'import isaaclab, sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 || return 1
    echo "$py"
}

setup_hash() {
    cat "$ROOT/setup.py" | sha256sum | cut -d' ' -f1
}

PY=""
do_setup() {
    local external
    if external="$(active_isaaclab_python)"; then
        PY="$external"
        local stamp="$(dirname "$(dirname "$PY")")/$STAMP_NAME-$(echo "$ROOT" | sha256sum | cut -c1-8)"
        if [[ -f "$stamp" && "$(cat "$stamp")" == "$(setup_hash)" ]]; then return 0; fi
        log "installing the intermimic package into the active Isaac Lab Python ($PY)"
        "$PY" -m pip install -e "$ROOT[dev,viz]"
        setup_hash > "$stamp"
        return 0
    fi
    PY="$VENV/bin/python"
    if [[ -x "$PY" && -f "$VENV/$STAMP_NAME" && "$(cat "$VENV/$STAMP_NAME")" == "$(setup_hash)" ]]; then
        return 0
    fi
    local base
    base="$(find_python312)" || die "Python 3.12 is required (Isaac Lab 3.0): install python3.12 and retry"
    if [[ ! -x "$PY" ]]; then
        log "creating $VENV with $base"
        "$base" -m venv "$VENV"
    fi
    log "installing the intermimic package and Isaac Lab 3.0 into $VENV (first time: several minutes)"
    "$PY" -m pip install --upgrade pip >/dev/null
    "$PY" -m pip install -e "$ROOT[dev,viz]"
    setup_hash > "$VENV/$STAMP_NAME"
    log "setup done"
}

# .venv-deploy: numpy, onnxruntime and the newest mujoco alone, for the test that runs
# deploy/g1_mujoco.py under the newest MuJoCo as well as the package's own (deploy/requirements.txt).
# Made once; delete the folder to take a newer mujoco. Without a package index the test says so.
DEPLOY_VENV="$ROOT/.venv-deploy"
deploy_env() {
    [[ -x "$DEPLOY_VENV/bin/python" && -f "$DEPLOY_VENV/$STAMP_NAME" ]] && return 0
    local base
    base="$(find_python312)" || { log "no Python 3.12 for $DEPLOY_VENV: the newest-MuJoCo deployment test will say so"; return 0; }
    log "creating $DEPLOY_VENV (numpy, onnxruntime, the newest mujoco) for the deployment script's test"
    rm -rf "$DEPLOY_VENV"
    if "$base" -m venv "$DEPLOY_VENV" && "$DEPLOY_VENV/bin/python" -m pip install -q --upgrade numpy onnxruntime mujoco; then
        "$DEPLOY_VENV/bin/python" -c 'import mujoco; print(mujoco.__version__)' > "$DEPLOY_VENV/$STAMP_NAME"
        log "$DEPLOY_VENV: mujoco $(cat "$DEPLOY_VENV/$STAMP_NAME")"
    else
        rm -rf "$DEPLOY_VENV"
        log "could not install into $DEPLOY_VENV (no package index?): the newest-MuJoCo deployment test will say so"
    fi
}

run_script() {
    local script="$1"; shift
    do_setup
    cd "$ROOT"
    exec "$PY" "$ROOT/source/$script" "$@"
}

# train --nproc N: one node, N ranks, through torchrun (several nodes: docs/training.md)
run_train() {
    local nproc="" device="" args=()
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --nproc) [[ $# -ge 2 ]] || die "--nproc needs a number of processes"; nproc="$2"; shift 2 ;;
            --nproc=*) nproc="${1#--nproc=}"; shift ;;
            --device) [[ $# -ge 2 ]] && device="$2"; args+=("$1"); shift ;;
            *) args+=("$1"); shift ;;
        esac
    done
    [[ -n "$nproc" ]] || run_script train.py "${args[@]}"
    [[ "$nproc" =~ ^[1-9][0-9]*$ ]] || die "--nproc: '$nproc' is not a positive number of processes"
    do_setup
    cd "$ROOT"
    if [[ "$device" != cpu ]]; then
        local gpus
        gpus="$("$PY" -c 'import torch; print(torch.cuda.device_count())' 2>/dev/null || echo 0)"
        if [[ "$gpus" -gt 0 && "$nproc" -gt "$gpus" ]]; then
            die "--nproc $nproc: this machine has $gpus GPU(s); use --nproc $gpus or fewer (or --device cpu)"
        fi
    fi
    exec "$PY" -m torch.distributed.run --standalone --nproc_per_node="$nproc" "$ROOT/source/train.py" --distributed "${args[@]}"
}

usage() {
    sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
    setup) do_setup ;;
    train) run_train "$@" ;;
    play) run_script play.py "$@" ;;
    evaluate) run_script evaluate.py "$@" ;;
    track) run_script track.py "$@" ;;
    plot) run_script plot.py "$@" ;;
    tensorboard) run_script tensorboard_server.py "$@" ;;
    pipeline) run_script pipeline.py "$@" ;;
    replay) run_script replay.py "$@" ;;
    retarget) run_script retarget.py "$@" ;;
    retarget-robot) run_script retarget_robot.py "$@" ;;
    convert) run_script convert.py "$@" ;;
    benchmark) run_script benchmark.py "$@" ;;
    data)
        sub="${1:-}"
        [[ "$sub" == "inspect" ]] || die "usage: ./intermimic.sh data inspect PATH [--json]"
        shift
        run_script inspect_data.py "$@"
        ;;
    test)
        do_setup
        deploy_env
        cd "$ROOT"
        start=$SECONDS
        status=0
        "$PY" -m pytest "$@" || status=$?
        log "test suite: $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s (exit status $status)"
        exit "$status"
        ;;
    ""|-h|--help|help) usage ;;
    *) usage; die "unknown command '$cmd'" ;;
esac
