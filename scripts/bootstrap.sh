#!/usr/bin/env bash
# Installs what quantlab needs on a fresh machine with only node, npm and apt:
# Deno (from the npm package `deno`, into .tools/), the project's npm dependencies
# (from deno.lock), Debian's single-threaded OpenBLAS, the Codec2 and Opus command-line codecs
# (speech anchors), and Jupyter and Chromium when a command needs them.
# Idempotent: every step is skipped when its result is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DENO_VERSION="2.9.6"
want_jupyter=0
for arg in "$@"; do
  case "$arg" in
    --jupyter) want_jupyter=1 ;;
    *) echo "bootstrap: unknown option $arg (expected --jupyter)" >&2; exit 2 ;;
  esac
done

log() { echo "[bootstrap] $*" >&2; }

deno_bin="$root/.tools/node_modules/.bin/deno"
if [ ! -x "$deno_bin" ] || ! "$deno_bin" --version 2>/dev/null | grep -q "deno $DENO_VERSION"; then
  log "installing deno@$DENO_VERSION from npm into .tools/"
  mkdir -p "$root/.tools"
  npm install --silent --no-audit --no-fund --prefix "$root/.tools" "deno@$DENO_VERSION" >&2
fi

missing=()
# Single-threaded native GEMM for quantlab's matMul kernels (lib/kernels/blas.ts; wasm fallback).
dpkg -s libopenblas0-serial >/dev/null 2>&1 || missing+=(libopenblas0-serial)
# The font charts' PNG copies are drawn with (lib/raster.ts).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# Real speech codecs, the anchors of every speech table (lib/audio/anchors.ts).
command -v c2enc >/dev/null 2>&1 && command -v c2dec >/dev/null 2>&1 || missing+=(codec2)
command -v opusenc >/dev/null 2>&1 && command -v opusdec >/dev/null 2>&1 || missing+=(opus-tools)
if [ "$want_jupyter" = 1 ]; then
  [ -x /usr/bin/jupyter ] && /usr/bin/python3 -c "import nbclient, nbformat, jupyter_client, notebook" 2>/dev/null ||
    missing+=(jupyter-nbconvert python3-nbclient jupyter-client jupyter-notebook)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

cd "$root"
"$deno_bin" install --frozen --quiet >&2
echo "$deno_bin"
