#!/usr/bin/env bash
# Ceph RADOS Gateway for the S3 tests (test/helpers/ceph-rgw.ts boots a private
# mon + memstore OSD + radosgw per test file; this script only provides the binaries).
#   bash scripts/ceph-rgw.sh check    exit 0 when every binary is on PATH, else list the missing ones
#   bash scripts/ceph-rgw.sh ensure   apt-get install what is missing (root; ~165 MB, Debian bookworm: ceph 16.2)
set -euo pipefail

BINARIES=(ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool)
PACKAGES=(ceph-mon ceph-osd radosgw)

missing() {
  local b
  for b in "${BINARIES[@]}"; do command -v "$b" >/dev/null 2>&1 || echo "$b"; done
}

case "${1:-}" in
  check)
    m=$(missing)
    if [ -n "$m" ]; then echo "missing: $m" >&2; exit 1; fi
    echo "ceph binaries present: $(ceph-mon --version | head -1)"
    ;;
  ensure)
    if [ -z "$(missing)" ]; then echo "ceph binaries present"; exit 0; fi
    if [ "$(id -u)" != 0 ]; then echo "ceph-rgw.sh ensure: needs root for apt-get" >&2; exit 1; fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
    m=$(missing)
    if [ -n "$m" ]; then echo "still missing after install: $m" >&2; exit 1; fi
    echo "installed: $(ceph-mon --version | head -1)"
    ;;
  *)
    echo "usage: $0 check|ensure" >&2
    exit 2
    ;;
esac
