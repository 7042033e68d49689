#!/usr/bin/env bash
# Firestore emulator check for CI and developers.
#   scripts/firestore-emulator.sh check   → prints the jar path, exit 0; or a loud message, exit 1
# The tests start the emulator themselves (test/helpers/firestore-emulator.ts): java directly on a
# free 127.0.0.1 port, stopped by PID. The gcloud wrapper script is avoided because killing it
# leaves the java process orphaned.
set -euo pipefail

PKG=google-cloud-cli-firestore-emulator

find_jar() {
  if [[ -n "${FIRESTORE_EMULATOR_JAR:-}" && -f "${FIRESTORE_EMULATOR_JAR}" ]]; then
    echo "${FIRESTORE_EMULATOR_JAR}"; return 0
  fi
  dpkg -L "$PKG" 2>/dev/null | grep 'emulator.jar$' | head -n 1
}

loud() {
  echo "######################################################################" >&2
  echo "## FIRESTORE EMULATOR UNAVAILABLE: $1" >&2
  echo "## Needs: Java 17+ and the Debian package $PKG (base image)." >&2
  echo "## The Google package source is not reachable here, so it cannot be" >&2
  echo "## reinstalled; Firestore contract tests FAIL under CI=true without it." >&2
  echo "######################################################################" >&2
  exit 1
}

case "${1:-check}" in
  check)
    command -v java >/dev/null 2>&1 || loud "java not on PATH"
    jar="$(find_jar || true)"
    [[ -n "$jar" && -f "$jar" ]] || loud "package $PKG not installed (dpkg -L found no emulator.jar)"
    echo "firestore emulator jar: $jar"
    echo "java: $(java -version 2>&1 | head -n 1)"
    echo "start: java -cp '$jar' com.google.cloud.datastore.emulator.firestore.CloudFirestore --host=127.0.0.1 --port=<p> --project_id=demo-test"
    ;;
  *)
    echo "usage: $0 check" >&2
    exit 2
    ;;
esac
