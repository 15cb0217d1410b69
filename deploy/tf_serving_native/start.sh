#!/usr/bin/env bash
# Start script of the native TF Serving image (deploy/tf_serving_native/Dockerfile).
#
# 1. Downloads the versioned SavedModel from MODEL_PATH into
#    $MODEL_BASE_PATH/$MODEL_NAME/1 (TF Serving serves the highest numeric
#    version below the base path; there is exactly one).
# 2. Stops with a clear message when the download has no saved_model.pb.
# 3. Writes the batching configuration (the seed platform's values).
# 4. Execs tensorflow_model_server with REST on $PORT, so SIGTERM reaches it.
#
# Environment:
#   MODEL_PATH       required: gs://bucket/path (the versioned pushed_model
#                    directory), or a local directory / file:// URI
#   MODEL_NAME       the name in /v1/models/{name} (default recommender)
#   MODEL_BASE_PATH  where models are kept (default /models)
#   PORT             REST port (default 8501; Cloud Run sets it)
#   GRPC_PORT        gRPC port (default 8500)
#   GCE_METADATA_HOST, STORAGE_EMULATOR_HOST   other metadata server / Cloud
#                    Storage endpoints (emulators, tests), as the Google
#                    client libraries read them
#   TF_SERVING_BIN   the server binary (default tensorflow_model_server)
# Extra arguments are passed to the server.
set -euo pipefail

MODEL_NAME="${MODEL_NAME:-recommender}"
MODEL_BASE_PATH="${MODEL_BASE_PATH:-/models}"
PORT="${PORT:-8501}"
GRPC_PORT="${GRPC_PORT:-8500}"
TF_SERVING_BIN="${TF_SERVING_BIN:-tensorflow_model_server}"
METADATA_HOST="${GCE_METADATA_HOST:-metadata.google.internal}"
STORAGE_API="${STORAGE_EMULATOR_HOST:-https://storage.googleapis.com}"

# One JSON object per line: Cloud Logging reads severity and message.
log() {
  jq -cn --arg severity "$1" --arg message "$2" '{severity: $severity, message: $message}'
}

fail() {
  log ERROR "$1" >&2
  exit 1
}

urlencode() {
  jq -rn --arg value "$1" '$value | @uri'
}

access_token() {
  local response
  if ! response=$(curl -fsS --retry 3 -H 'Metadata-Flavor: Google' \
    "http://${METADATA_HOST}/computeMetadata/v1/instance/service-accounts/default/token"); then
    fail "cannot get an access token from the metadata server at ${METADATA_HOST} to read ${MODEL_PATH}"
  fi
  jq -er '.access_token' <<<"$response" ||
    fail "the metadata server at ${METADATA_HOST} answered without an access_token"
}

# Lists the objects below gs://$1/$2 (every page), one name per line.
list_objects() {
  local bucket="$1" prefix="$2" token="$3" page_token="" url page
  while :; do
    url="${STORAGE_API}/storage/v1/b/$(urlencode "$bucket")/o?prefix=$(urlencode "$prefix")"
    url+="&fields=$(urlencode 'items(name),nextPageToken')"
    if [[ -n "$page_token" ]]; then url+="&pageToken=$(urlencode "$page_token")"; fi
    if ! page=$(curl -fsS --retry 3 -H "Authorization: Bearer ${token}" "$url"); then
      fail "cannot list gs://${bucket}/${prefix} (does the service account have storage.objects.list on the bucket?)"
    fi
    jq -r '.items[]?.name' <<<"$page"
    page_token=$(jq -r '.nextPageToken // empty' <<<"$page")
    [[ -n "$page_token" ]] || break
  done
}

download_gcs() {
  local uri="$1" dest="$2" rest bucket prefix token names name relative count=0
  rest="${uri#gs://}"
  bucket="${rest%%/*}"
  prefix=""
  if [[ "$rest" == */* ]]; then prefix="${rest#*/}"; fi
  if [[ -n "$prefix" && "$prefix" != */ ]]; then prefix+="/"; fi
  [[ -n "$bucket" ]] || fail "MODEL_PATH ${uri} names no bucket"
  token=$(access_token)
  names=$(list_objects "$bucket" "$prefix" "$token")
  while IFS= read -r name; do
    [[ -n "$name" ]] || continue
    relative="${name#"$prefix"}"
    # Folder placeholders hold nothing; '..' would write outside the model directory.
    [[ -n "$relative" && "$relative" != */ ]] || continue
    if [[ "/$relative/" == */../* ]]; then fail "refusing object name ${name}: it leaves ${dest}"; fi
    mkdir -p "$(dirname "${dest}/${relative}")"
    curl -fsS --retry 3 -H "Authorization: Bearer ${token}" -o "${dest}/${relative}" \
      "${STORAGE_API}/storage/v1/b/$(urlencode "$bucket")/o/$(urlencode "$name")?alt=media" ||
      fail "cannot download gs://${bucket}/${name}"
    count=$((count + 1))
  done <<<"$names"
  ((count > 0)) || fail "MODEL_PATH ${uri} holds no objects (or the listing is not allowed)"
  log INFO "downloaded ${count} files from ${uri} to ${dest}"
}

copy_local() {
  local source="${1#file://}" dest="$2"
  [[ -d "$source" ]] || fail "MODEL_PATH ${1} is not a directory"
  cp -R "${source}/." "$dest"
  log INFO "copied ${1} to ${dest}"
}

write_batching_config() {
  # The seed platform's TF Serving batching settings.
  cat >"$1" <<'CONFIG'
max_batch_size { value: 64 }
batch_timeout_micros { value: 10000 }
max_enqueued_batches { value: 100 }
num_batch_threads { value: 4 }
CONFIG
}

main() {
  [[ -n "${MODEL_PATH:-}" ]] || fail "MODEL_PATH is required: the versioned SavedModel directory, e.g. gs://bucket/serving/pushed_model/1768842986"
  [[ "$MODEL_NAME" =~ ^[a-z0-9][a-z0-9_-]{0,62}$ ]] || fail "MODEL_NAME ${MODEL_NAME} is not a model name (lowercase letters, digits, _ and -)"
  [[ "$PORT" != "$GRPC_PORT" ]] || fail "PORT and GRPC_PORT are both ${PORT}"

  local model_dir="${MODEL_BASE_PATH}/${MODEL_NAME}"
  local version_dir="${model_dir}/1"
  # A restarted container starts clean: never serve a half-downloaded model.
  rm -rf "$model_dir"
  mkdir -p "$version_dir"
  case "$MODEL_PATH" in
    gs://*) download_gcs "$MODEL_PATH" "$version_dir" ;;
    file://* | /*) copy_local "$MODEL_PATH" "$version_dir" ;;
    *) fail "MODEL_PATH ${MODEL_PATH} is neither gs://… nor a local path" ;;
  esac

  if [[ ! -f "${version_dir}/saved_model.pb" ]]; then
    local found=(); local entry
    for entry in "$version_dir"/* "$version_dir"/.[!.]*; do
      if [[ -e "$entry" ]]; then found+=("${entry##*/}"); fi
    done
    local listing="${found[*]:-nothing}"
    fail "MODEL_PATH ${MODEL_PATH} has no saved_model.pb at its top level (found: ${listing:0:300}); point it at the versioned SavedModel directory, e.g. …/pushed_model/1768842986"
  fi

  local batching="${MODEL_BASE_PATH}/batching_parameters.txt"
  write_batching_config "$batching"
  log INFO "starting TF Serving: model ${MODEL_NAME}, REST port ${PORT}, gRPC port ${GRPC_PORT}"
  exec "$TF_SERVING_BIN" \
    --port="$GRPC_PORT" \
    --rest_api_port="$PORT" \
    --model_name="$MODEL_NAME" \
    --model_base_path="$model_dir" \
    --enable_batching=true \
    --batching_parameters_file="$batching" \
    "$@"
}

main "$@"
