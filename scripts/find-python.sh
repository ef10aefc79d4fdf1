#!/usr/bin/env bash
# Prints the path of a Python interpreter >= 3.12 (pandas-ta needs it).
# Order: $PYTHON, python3.12/python3.13/python3 on PATH (if they really run),
# then any pyenv-installed 3.12+ (pyenv shims refuse versions that are not active).
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for c in "${PYTHON:-}" python3.12 python3.13 python3; do
  [ -n "$c" ] || continue
  p=$(command -v "$c" 2>/dev/null) || continue
  if ok "$p"; then
    "$p" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for p in $(ls -d "$root"/versions/3.12*/bin/python3 "$root"/versions/3.1[3-9]*/bin/python3 2>/dev/null); do
  if ok "$p"; then echo "$p"; exit 0; fi
done
echo "find-python: no Python >= 3.12 found; install one (e.g. pyenv install 3.12) or set PYTHON=/path/to/python3.12" >&2
exit 1
