# Sourced by the scripts that make fixture sets of our own (scripts/fixtures-*/make.sh) with the official code:
# checks the one OUT_DIR argument and sets out (its absolute path), PY (PYTHON, default the anchors' venv),
# SHARED (default /work/shared), TOOLS (the shared fixture tools), the official code's roots, and a scratch
# folder `work` removed on exit.
[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
out=$(realpath -m "$1")
PY=${PYTHON:-$HOME/anchor-venv/bin/python}
SHARED=${SHARED:-/work/shared}
TOOLS=$SHARED/tools
export SALIENCE_ROOT=${SALIENCE_ROOT:-$SHARED/anchors/Salience-DETR}
export CONDDETR_ROOT=${CONDDETR_ROOT:-$SHARED/anchors/ConditionalDETR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
