#!/usr/bin/env bash
# Debian packages the tests use: a virtual X server and X tools (preview window), Chromium (web pages) and npm
# (pose models, the web page's vendored files). Says what it installs before installing; as root only.
set -euo pipefail
need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xdotool >/dev/null || need+=(xdotool)
command -v xwd >/dev/null || need+=(x11-apps)
command -v chromium >/dev/null || need+=(chromium)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -eq 0 ]; then
  echo "system-deps: Debian packages present (Xvfb, xdotool, xwd, chromium, npm)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing Debian packages: ${need[*]} (run: sudo apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "system-deps: installing Debian packages as root with apt-get: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "system-deps: installed ${need[*]}"
