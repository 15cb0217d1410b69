#!/usr/bin/env bash
# The README's test command (`npm test`). Starts what the tests need and is not
# already there, runs every tier, and prints mocha's result plus the closing
# "N passed, M failed" line that CI reads.
#
# Emulators: when FIRESTORE_EMULATOR_HOST (PUBSUB_EMULATOR_HOST) is unset and
# the gcloud Firestore (Pub/Sub) emulator is installed, it is started on a
# free loopback port for this run, both at once so CI waits for the slower
# one only. The FirestoreRunStore contract suite needs the first, the cloud
# rehearsal of the chain (test/integration/rehearsal) both; without them those
# suites report themselves skipped, with the reason in their titles.
set -euo pipefail
cd "$(dirname "$0")/.."

emulator_pids=()
cleanup() {
  local pid
  for pid in "${emulator_pids[@]}"; do
    # gcloud starts the Java emulator as a child; stop the whole group.
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Starts `gcloud <component> start` on a free loopback port in its own
# process group; prints "<pid> <port> <log>" (waited for by wait_for_emulator).
launch_emulator() {
  local component=$1 port log
  port=$(free_port)
  log=$(mktemp -t "${component// /-}-emulator.XXXXXX.log")
  # shellcheck disable=SC2086 # the component is two words (beta emulators pubsub)
  setsid gcloud $component start --host-port="127.0.0.1:$port" >"$log" 2>&1 &
  echo "$! $port $log"
}

# Waits until the emulator answers on its port (both answer GET / with 200);
# exports `variable`=127.0.0.1:port, or says why not and stops it.
wait_for_emulator() {
  local name=$1 variable=$2 pid=$3 port=$4 log=$5
  for _ in $(seq 1 120); do
    if node -e "fetch('http://127.0.0.1:$port/').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
      export "$variable=127.0.0.1:$port"
      echo "$name emulator on 127.0.0.1:$port"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "$name emulator did not start (log: $log); the suites that need it will be skipped" >&2
  kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  return 1
}

start_emulators() {
  if ! command -v gcloud >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
    echo "gcloud or java is missing: no Firestore/Pub/Sub emulators; the suites that need them will be skipped" >&2
    return 0
  fi
  local firestore="" pubsub=""
  if [[ -z "${FIRESTORE_EMULATOR_HOST:-}" ]]; then
    firestore=$(launch_emulator "emulators firestore")
    emulator_pids+=("${firestore%% *}")
  fi
  if [[ -z "${PUBSUB_EMULATOR_HOST:-}" ]]; then
    pubsub=$(launch_emulator "beta emulators pubsub")
    emulator_pids+=("${pubsub%% *}")
  fi
  # shellcheck disable=SC2086 # "<pid> <port> <log>" split into arguments
  [[ -z "$firestore" ]] || wait_for_emulator Firestore FIRESTORE_EMULATOR_HOST $firestore || true
  # shellcheck disable=SC2086
  [[ -z "$pubsub" ]] || wait_for_emulator Pub/Sub PUBSUB_EMULATOR_HOST $pubsub || true
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

if [[ "${RECDEPLOY_TEST_EMULATORS:-1}" != "0" ]]; then
  start_emulators
fi

if [[ $# -gt 0 ]]; then
  npx mocha "$@"
else
  npx mocha 'test/**/*.test.ts'
fi
