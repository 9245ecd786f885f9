#!/usr/bin/env bash
# Install the Python Kafka clients of tests/python/requirements.txt into a
# virtual environment at .cache/pyenv, for the Python client tests
# (internal/cli/pyclients_test.go). Does nothing when that environment was
# built from the same requirements already, so CI and `make test` may call
# it every time.
#
#   scripts/python-clients.sh        PYTHON=python3.11 to choose the interpreter
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.cache/pyenv"
req="$root/tests/python/requirements.txt"
stamp="$venv/requirements.txt"

say() { echo "python-clients: $*" >&2; }
die() { echo "python-clients: $*" >&2; exit 1; }

if [ -x "$venv/bin/python" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
# pykafka 2.8.0 predates Python 3.12; 3.11 is what the tests were written
# against, so prefer it when the machine has it.
python=${PYTHON:-}
if [ -z "$python" ]; then
  for p in python3.11 python3; do
    command -v "$p" >/dev/null && { python=$p; break; }
  done
fi
[ -n "$python" ] || die "python3 not found (Debian packages python3 python3-venv)"
rm -rf "$venv"
"$python" -m venv "$venv" || die "$python -m venv failed (Debian package python3-venv)"
"$venv/bin/pip" install --disable-pip-version-check -q -r "$req" || die "pip install failed"
cp "$req" "$stamp"
say "$("$venv/bin/python" --version) with $(grep -v '^#' "$req" | tr '\n' ' ')in $venv"
