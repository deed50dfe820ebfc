#!/usr/bin/env bash
# Open notebooks in a real JupyterLab (headless Chromium) and check that every LaTeX
# prompt typesets: same number of math segments on the page as in the source, no MathJax
# error, no undefined macro, no raw TeX left over. Screenshots go to render-shots/.
#
#   tools/jupyter_render/run.sh examples/*.ipynb
#
# Needs Node.js with npm and Chromium (apt-get install chromium). JupyterLab and
# playwright-core are installed once into $MCGRADE_RENDER_CACHE (default
# ~/.cache/mcgrade-render), apart from the project's own environment.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${MCGRADE_RENDER_CACHE:-$HOME/.cache/mcgrade-render}"
chromium="${CHROMIUM:-/usr/bin/chromium}"

if [ "$#" -eq 0 ]; then
    echo "usage: $0 NOTEBOOK.ipynb..." >&2
    exit 2
fi
if [ ! -x "$chromium" ]; then
    echo "error: no Chromium at $chromium; install it (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
fi
command -v npm >/dev/null || { echo "error: npm is not installed (it installs playwright-core)" >&2; exit 1; }

if [ ! -x "$cache/venv/bin/jupyter-lab" ]; then
    python3 -m venv "$cache/venv"
    "$cache/venv/bin/pip" install --quiet --disable-pip-version-check jupyterlab
fi
settings="$cache/venv/share/jupyter/lab/settings"
mkdir -p "$settings"
echo '{"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}' \
    > "$settings/overrides.json"
if [ ! -d "$cache/node/node_modules/playwright-core" ]; then
    mkdir -p "$cache/node"
    (cd "$cache/node" && npm install --silent --no-audit --no-fund playwright-core >/dev/null)
fi

work="$(mktemp -d)"
cp -- "$@" "$work/"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$cache/venv/bin/jupyter-lab" --allow-root --no-browser --ServerApp.token='' \
    --ServerApp.password='' --ServerApp.ip=127.0.0.1 --port "$port" \
    --ServerApp.root_dir="$work" >"$work/jupyter.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/api" >/dev/null 2>&1 && break
    sleep 0.5
done

names=()
for notebook in "$@"; do names+=("$(basename "$notebook")"); done
JLAB_URL="http://127.0.0.1:$port" NB_DIR="$work" NB_URLDIR="" CHROMIUM="$chromium" \
    SHOT_DIR="$PWD/render-shots" REPORT="$PWD/render-report.json" \
    NODE_PATH="$cache/node/node_modules" node "$here/check.js" "${names[@]}"
