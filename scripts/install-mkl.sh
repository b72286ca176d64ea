#!/usr/bin/env bash
# Installs Intel MKL (libmkl_rt.so) from Debian bookworm's non-free archive, and
# OpenBLAS beside it so the provider suite can run against both.
# Idempotent: does nothing when both libraries are already present.
set -euo pipefail

have() { ldconfig -p | grep -q "$1"; }
if have 'libmkl_rt.so' && have 'libopenblas.so.0'; then
  echo "install-mkl: libmkl_rt and libopenblas already installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

list=/etc/apt/sources.list.d/hybrid-non-free.sources
if [ ! -f "$list" ]; then
  $sudo tee "$list" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends libmkl-rt libopenblas0 >/dev/null
echo "install-mkl: $(ldconfig -p | grep -E 'libmkl_rt.so|libopenblas.so.0' | awk '{print $1}' | sort -u | tr '\n' ' ')"
