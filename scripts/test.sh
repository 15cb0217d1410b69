#!/usr/bin/env bash
# The README's test command (`npm test`). Starts what the tests need and is not
# already there, runs every tier, and prints mocha's result plus the closing
# "N passed, M failed" line that CI reads.
#
# Firestore: when FIRESTORE_EMULATOR_HOST is unset and the gcloud Firestore
# emulator is installed, it is started on a free loopback port for this run,
# so the FirestoreRunStore contract suite runs against it; without it that
# suite reports itself skipped, with the reason in its title.
set -euo pipefail
cd "$(dirname "$0")/.."

emulator_pid=""
cleanup() {
  if [[ -n "$emulator_pid" ]]; then
    # gcloud starts the Java emulator as a child; stop the whole group.
    kill -- "-$emulator_pid" 2>/dev/null || kill "$emulator_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start_firestore_emulator() {
  command -v gcloud >/dev/null 2>&1 || return 1
  command -v java >/dev/null 2>&1 || return 1
  local port log
  port=$(free_port)
  log=$(mktemp -t firestore-emulator.XXXXXX.log)
  setsid gcloud emulators firestore start --host-port="127.0.0.1:$port" >"$log" 2>&1 &
  emulator_pid=$!
  for _ in $(seq 1 120); do
    if node -e "fetch('http://127.0.0.1:$port/').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
      export FIRESTORE_EMULATOR_HOST="127.0.0.1:$port"
      echo "Firestore emulator on $FIRESTORE_EMULATOR_HOST"
      return 0
    fi
    if ! kill -0 "$emulator_pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "Firestore emulator did not start (log: $log); its suite will be skipped" >&2
  cleanup
  emulator_pid=""
  return 1
}

# System packages the tests use: chromium (the dashboard's browser test, driven
# by playwright-core) and shellcheck (the deploy/ scripts). Installed with
# apt-get when missing, so a fresh machine passes too; without root or apt the
# tests that need them fail and say what is missing.
install_system_packages() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "missing system packages: ${missing[*]} (install them with apt-get as root)" >&2
    return 0
  fi
  echo "installing ${missing[*]} with apt-get"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
install_system_packages

if [[ -z "${FIRESTORE_EMULATOR_HOST:-}" && "${RECDEPLOY_TEST_EMULATORS:-1}" != "0" ]]; then
  start_firestore_emulator || true
fi

if [[ $# -gt 0 ]]; then
  npx mocha "$@"
else
  npx mocha 'test/**/*.test.ts'
fi
