# Sourced by demo.sh and test.sh: create .venv if needed and install the project into it.
# Usage: setup_venv [EXTRAS]   (e.g. setup_venv "[test]")
# pip's own output (setuptools' "editable install" banner among it) is kept in a log and shown
# only when an install fails, so a good run stays quiet and a bad one still says why.
setup_venv() {
    local python="${PYTHON:-python3}"
    if [ ! -x .venv/bin/python ]; then
        "$python" -m venv .venv
    fi
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/w2v-pip.XXXXXX")"
    if ! { .venv/bin/python -m pip install --quiet --upgrade pip \
           && .venv/bin/python -m pip install --quiet -e ".${1:-}"; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "setup failed: pip could not install the project into .venv (its output is above)" >&2
        return 1
    fi
    rm -f "$log"
}
