#!/usr/bin/env bash
# Installs Intel MKL (libmkl_rt.so) from Debian bookworm's non-free archive, and
# OpenBLAS beside it so the provider suite can run against both.
# Idempotent: does nothing when both libraries are already present. Debian 12 only:
# elsewhere it says which packages to install and exits with status 1.
set -euo pipefail

have() { ldconfig -p | grep -q "$1"; }
if have 'libmkl_rt.so' && have 'libopenblas.so.0'; then
  echo "install-mkl: libmkl_rt and libopenblas already installed"
  exit 0
fi

# The rest adds Debian 12 (bookworm)'s non-free archive: only right on Debian 12.
. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" != "debian" ] || [ "${VERSION_ID:-}" != "12" ]; then
  cat >&2 <<MSG
install-mkl: this script sets up Debian 12 (bookworm) only; this system is ${PRETTY_NAME:-unknown}.
Install the libraries with your distribution's packages instead, then check with 'ldconfig -p':
  Debian (other releases): enable the non-free component in apt's sources, then
                           sudo apt-get update && sudo apt-get install libmkl-rt libopenblas0
  Ubuntu:                  sudo apt-get install libmkl-rt libopenblas0   (libmkl-rt is in multiverse)
  Fedora / RHEL:           sudo dnf install openblas   (Intel MKL: Intel's oneAPI repository, package intel-oneapi-mkl)
  elsewhere:               install Intel oneAPI MKL or OpenBLAS and set HYBRID_BLAS_PATH to libmkl_rt.so / libopenblas.so.0
Hybrid runs without them on MathNet's managed code.
MSG
  exit 1
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
