#!/usr/bin/env bash
# recdeploy's infrastructure in one Google Cloud project, with gcloud. Safe to
# re-run: everything is created only when missing, and IAM bindings and
# settings are (re)applied as written here. docs/deploy.md walks through it.
#
#   PROJECT=my-project REGION=us-central1 MODEL_BUCKET=my-models deploy/setup.sh
#
# Required:
#   PROJECT             the project id
#   REGION              region of Cloud Run, Cloud Functions, Vertex AI and Artifact Registry
#   MODEL_BUCKET        bucket the pipelines push models to (name or gs://name; created when missing)
# Optional:
#   FIRESTORE_LOCATION  Firestore location (default: REGION)
#   GITHUB_OWNER, GITHUB_REPO, BRANCH (default main)
#                       import the build triggers (deploy/triggers/*.yaml) for a GitHub
#                       repository connected to Cloud Build; without them, triggers are skipped
#   SERVICE_PREFIX      the functions' SERVICE_PREFIX (default rec-): the chain's identities
#                       get their Cloud Run roles on services named so, and only on those
#   DEPLOY_ALLOW_PUBLIC true lets verify and reconcile make a serving service public when
#                       they promote it (deployment_config.public; run.services.setIamPolicy
#                       on the serving services); default false. The functions' own
#                       DEPLOY_ALLOW_PUBLIC (functions/*/src/deployment.ts) must say true too
#   PUBSUB_AGENT_TOKEN_CREATOR
#                       true grants the Pub/Sub service agent roles/iam.serviceAccountTokenCreator
#                       on the project: needed only when the project's Pub/Sub service agent
#                       was enabled on or before April 8, 2021 (push subscriptions with
#                       authentication, i.e. the functions' Eventarc triggers); default false
#
# What it sets up:
#   - the APIs; the Artifact Registry repository `recdeploy` (images
#     {REGION}-docker.pkg.dev/{PROJECT}/recdeploy/{ann-serving,tf-serving-native,dashboard})
#   - Firestore: the (default) database, composite indexes (deploy/firestore.indexes.json)
#     and a TTL policy on rejected_events.expireAt
#   - Pub/Sub: the six topics (the chain's four, reconcile-tick and
#     freshness-alerts); a dead-letter
#     topic with a subscription for each topic a function is triggered by; the
#     training-completed Avro schema (created for publishers to validate against,
#     not attached: see docs/deploy.md)
#   - the Cloud Scheduler job publishing a tick to reconcile-tick every minute
#     (each tick runs one pass of the reconcile function)
#   - the Cloud Logging sink routing Vertex AI PipelineJob SUCCEEDED entries to
#     training-completed, its writer identity allowed to publish there
#   - the log-based metric recdeploy_degenerate_answers, counting the log
#     entries ann-serving writes per degenerate prediction answer (a canary
#     judgement reads it from Cloud Monitoring next to Cloud Run's metrics)
#   - one service account per function, the index-build job, the serving
#     revisions and the dashboard, plus the Eventarc trigger identity and the
#     build identity, each with the least privilege it needs
# The functions' Eventarc triggers are created by `gcloud functions deploy
# --trigger-topic` (deploy/cloudbuild/function-*.yaml); their subscriptions get
# the dead-letter policy from deploy/scripts/configure-function-trigger.sh.
set -euo pipefail

readonly REPOSITORY=recdeploy
readonly FIRESTORE_DATABASE='(default)'
readonly REJECTED_COLLECTION=rejected_events
readonly SCHEMA_ID=training-completed-v1
readonly SINK_NAME=recdeploy-pipeline-job-succeeded
# Read as logging.googleapis.com/user/recdeploy_degenerate_answers by
# shared/adapters/gcp/cloud-monitoring-metrics.ts (its default).
readonly DEGENERATE_METRIC=recdeploy_degenerate_answers
readonly RECONCILE_JOB=recdeploy-reconcile-tick
# The Cloud Run job that builds big indexes (INDEX_BUILD_JOB's default, deploy/cloudbuild-plan.ts).
readonly INDEX_BUILD_JOB=recdeploy-build-index
# Every minute: a stalled run is noticed one hand-off window after it stopped
# moving (LEASE_TTL_S × 2, 60 s by default) and re-driven by the next tick.
readonly RECONCILE_SCHEDULE='* * * * *'

readonly TOPIC_TRAINING_COMPLETED=training-completed
readonly TOPIC_MODEL_REGISTERED=model-registered
readonly TOPIC_MODEL_DEPLOYED=model-deployed
readonly TOPIC_DEPLOYMENT_FINISHED=deployment-finished
readonly TOPIC_RECONCILE_TICK=reconcile-tick
readonly TOPIC_FRESHNESS_ALERT=freshness-alerts
readonly TOPICS=("$TOPIC_TRAINING_COMPLETED" "$TOPIC_MODEL_REGISTERED" "$TOPIC_MODEL_DEPLOYED"
  "$TOPIC_DEPLOYMENT_FINISHED" "$TOPIC_RECONCILE_TICK" "$TOPIC_FRESHNESS_ALERT")
# Each of these triggers a function, so its failures dead-letter somewhere.
readonly TRIGGER_TOPICS=("$TOPIC_TRAINING_COMPLETED" "$TOPIC_MODEL_REGISTERED" "$TOPIC_MODEL_DEPLOYED"
  "$TOPIC_RECONCILE_TICK")

readonly SA_REGISTER=recdeploy-register
readonly SA_DEPLOY=recdeploy-deploy
readonly SA_VERIFY=recdeploy-verify
readonly SA_RECONCILE=recdeploy-reconcile
readonly SA_INDEX_BUILD=recdeploy-index-build
readonly SA_SERVING=recdeploy-serving
readonly SA_DASHBOARD=recdeploy-dashboard
readonly SA_TRIGGER=recdeploy-trigger
readonly SA_BUILD=recdeploy-build

readonly APIS=(
  aiplatform.googleapis.com
  artifactregistry.googleapis.com
  cloudbuild.googleapis.com
  cloudfunctions.googleapis.com
  cloudresourcemanager.googleapis.com
  cloudscheduler.googleapis.com
  eventarc.googleapis.com
  firestore.googleapis.com
  iam.googleapis.com
  logging.googleapis.com
  monitoring.googleapis.com
  pubsub.googleapis.com
  run.googleapis.com
  storage.googleapis.com
)

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly DEPLOY_DIR
readonly REPO_ROOT="${DEPLOY_DIR}/.."
# shellcheck source=deploy/scripts/setup-iam.sh
source "${DEPLOY_DIR}/scripts/setup-iam.sh"
# shellcheck source=deploy/scripts/setup-logging.sh
source "${DEPLOY_DIR}/scripts/setup-logging.sh"

info() { printf '== %s\n' "$*"; }
die() {
  printf 'setup.sh: %s\n' "$*" >&2
  exit 1
}

# Every gcloud call names the project and never prompts.
gc() { gcloud --project="$PROJECT" --quiet "$@"; }
# True when a describe command finds the resource.
exists() { gc "$@" >/dev/null 2>&1; }

check_inputs() {
  local problems=()
  [[ -n "${PROJECT:-}" ]] || problems+=("PROJECT is required (the project id, e.g. my-recs-project)")
  [[ -n "${REGION:-}" ]] || problems+=("REGION is required (e.g. us-central1)")
  [[ -n "${MODEL_BUCKET:-}" ]] || problems+=("MODEL_BUCKET is required (the bucket pipelines push models to)")
  if [[ -n "${PROJECT:-}" && ! "$PROJECT" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]]; then
    problems+=("PROJECT \"$PROJECT\" is not a project id (6–30 lowercase letters, digits, hyphens)")
  fi
  if [[ -n "${REGION:-}" && ! "$REGION" =~ ^[a-z]+-[a-z]+[0-9]$ ]]; then
    problems+=("REGION \"$REGION\" is not a region such as us-central1")
  fi
  if [[ -n "${MODEL_BUCKET:-}" ]]; then
    MODEL_BUCKET="${MODEL_BUCKET#gs://}"
    MODEL_BUCKET="${MODEL_BUCKET%/}"
    [[ "$MODEL_BUCKET" =~ ^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$ ]] ||
      problems+=("MODEL_BUCKET \"$MODEL_BUCKET\" is not a bucket name")
  fi
  if [[ -n "${GITHUB_OWNER:-}" && -z "${GITHUB_REPO:-}" ]] || [[ -z "${GITHUB_OWNER:-}" && -n "${GITHUB_REPO:-}" ]]; then
    problems+=("GITHUB_OWNER and GITHUB_REPO go together (got owner \"${GITHUB_OWNER:-}\", repo \"${GITHUB_REPO:-}\")")
  fi
  DEPLOY_ALLOW_PUBLIC="${DEPLOY_ALLOW_PUBLIC:-false}"
  [[ "$DEPLOY_ALLOW_PUBLIC" == true || "$DEPLOY_ALLOW_PUBLIC" == false ]] ||
    problems+=("DEPLOY_ALLOW_PUBLIC must be true or false (got \"$DEPLOY_ALLOW_PUBLIC\")")
  PUBSUB_AGENT_TOKEN_CREATOR="${PUBSUB_AGENT_TOKEN_CREATOR:-false}"
  [[ "$PUBSUB_AGENT_TOKEN_CREATOR" == true || "$PUBSUB_AGENT_TOKEN_CREATOR" == false ]] ||
    problems+=("PUBSUB_AGENT_TOKEN_CREATOR must be true or false (got \"$PUBSUB_AGENT_TOKEN_CREATOR\")")
  SERVICE_PREFIX="${SERVICE_PREFIX:-rec-}"
  # The chain configuration's pattern; and the functions' own services (recdeploy-*)
  # must stay outside the prefix, or the chain's identities could change them.
  if [[ ! "$SERVICE_PREFIX" =~ ^[a-z][a-z0-9-]{0,19}$ ]]; then
    problems+=("SERVICE_PREFIX \"$SERVICE_PREFIX\" must be 1–20 lowercase letters, digits or hyphens, starting with a letter")
  elif [[ "recdeploy-" == "$SERVICE_PREFIX"* || "$SERVICE_PREFIX" == recdeploy-* ]]; then
    problems+=("SERVICE_PREFIX \"$SERVICE_PREFIX\" would cover recdeploy's own services (recdeploy-*): pick another")
  fi
  command -v gcloud >/dev/null 2>&1 || problems+=("gcloud is not installed: https://cloud.google.com/sdk/docs/install")
  command -v node >/dev/null 2>&1 || problems+=("node is not installed (Node 20, as for the rest of the repository)")
  if ((${#problems[@]} > 0)); then
    printf 'setup.sh: %s\n' "${problems[@]}" >&2
    exit 2
  fi
  FIRESTORE_LOCATION="${FIRESTORE_LOCATION:-$REGION}"
  BRANCH="${BRANCH:-main}"
}

enable_apis() {
  info "enabling APIs"
  gc services enable "${APIS[@]}"
}

ensure_artifact_repository() {
  exists artifacts repositories describe "$REPOSITORY" --location="$REGION" ||
    gc artifacts repositories create "$REPOSITORY" --location="$REGION" \
      --repository-format=docker --description="recdeploy images (ann-serving, tf-serving-native, dashboard)"
}

ensure_service_account() {
  local id="$1" description="$2"
  exists iam service-accounts describe "$(sa_email "$id")" ||
    gc iam service-accounts create "$id" --display-name="$description"
}

ensure_service_accounts() {
  info "service accounts"
  ensure_service_account "$SA_REGISTER" "recdeploy register function"
  ensure_service_account "$SA_DEPLOY" "recdeploy deploy function"
  ensure_service_account "$SA_VERIFY" "recdeploy verify function"
  ensure_service_account "$SA_RECONCILE" "recdeploy reconcile function"
  ensure_service_account "$SA_INDEX_BUILD" "recdeploy index-build job"
  ensure_service_account "$SA_SERVING" "recdeploy serving revisions"
  ensure_service_account "$SA_DASHBOARD" "recdeploy dashboard"
  ensure_service_account "$SA_TRIGGER" "recdeploy Eventarc triggers"
  ensure_service_account "$SA_BUILD" "recdeploy Cloud Build"
}

ensure_firestore() {
  info "Firestore"
  exists firestore databases describe --database="$FIRESTORE_DATABASE" ||
    gc firestore databases create --database="$FIRESTORE_DATABASE" \
      --location="$FIRESTORE_LOCATION" --type=firestore-native
  local index output
  # One line per composite index: "collection field=order field=order…".
  while IFS= read -r index; do
    [[ -n "$index" ]] || continue
    local parts=() fields=() field
    read -r -a parts <<<"$index"
    for field in "${parts[@]:1}"; do
      fields+=("--field-config=field-path=${field%%=*},order=${field#*=}")
    done
    if ! output=$(gc firestore indexes composite create --database="$FIRESTORE_DATABASE" \
      --collection-group="${parts[0]}" --query-scope=collection "${fields[@]}" --async 2>&1); then
      grep -qiE 'already exists|ALREADY_EXISTS' <<<"$output" || die "creating index ${index}: ${output}"
    fi
  done < <(composite_indexes)
  # Rejected events are kept 30 days (REJECTED_EVENT_TTL_MS): Firestore deletes them after expireAt.
  gc firestore fields ttls update expireAt --database="$FIRESTORE_DATABASE" \
    --collection-group="$REJECTED_COLLECTION" --enable-ttl --async
}

# deploy/firestore.indexes.json as "collection field=order…" lines.
composite_indexes() {
  # shellcheck disable=SC2016 # JavaScript, not shell, expands these.
  node -e '
    const { indexes } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const index of indexes) {
      const fields = index.fields.map((f) => `${f.fieldPath}=${f.order.toLowerCase()}`);
      console.log([index.collectionGroup, ...fields].join(" "));
    }' "${DEPLOY_DIR}/firestore.indexes.json"
}

ensure_topic() {
  exists pubsub topics describe "$1" ||
    gc pubsub topics create "$1" --message-retention-duration=7d
}

ensure_pubsub() {
  info "Pub/Sub topics, dead-letter topics and the training-completed schema"
  local topic pubsub_agent
  pubsub_agent="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
  for topic in "${TOPICS[@]}"; do ensure_topic "$topic"; done
  for topic in "${TRIGGER_TOPICS[@]}"; do
    ensure_topic "${topic}-dead-letter"
    # A dead-letter topic without a subscription would drop what reaches it.
    exists pubsub subscriptions describe "${topic}-dead-letter-sub" ||
      gc pubsub subscriptions create "${topic}-dead-letter-sub" --topic="${topic}-dead-letter" \
        --message-retention-duration=7d --expiration-period=never
    # Pub/Sub itself forwards undeliverable messages.
    gc pubsub topics add-iam-policy-binding "${topic}-dead-letter" \
      --member="$pubsub_agent" --role=roles/pubsub.publisher >/dev/null
  done
  # …and acknowledges them on the Eventarc subscriptions, which are recreated
  # with the triggers: granted on the project rather than per subscription.
  grant_project "$pubsub_agent" roles/pubsub.subscriber
  # Push subscriptions with authentication mint the trigger identity's OIDC token
  # through the agent; only an agent enabled on or before April 8, 2021 needs the
  # grant for it (https://cloud.google.com/eventarc/docs/roles-permissions).
  if [[ "$PUBSUB_AGENT_TOKEN_CREATOR" == true ]]; then
    grant_project "$pubsub_agent" roles/iam.serviceAccountTokenCreator
  fi
  exists pubsub schemas describe "$SCHEMA_ID" ||
    gc pubsub schemas create "$SCHEMA_ID" --type=avro \
      --definition-file="${REPO_ROOT}/events/schemas/training-completed.v1.avsc"
}

# The reconciler's clock: Cloud Scheduler publishes a tick to reconcile-tick,
# whose Eventarc trigger runs the reconcile function (one pass per tick; the
# body means nothing). Cloud Scheduler publishes as its service agent, which
# roles/cloudscheduler.serviceAgent already lets publish: nothing to grant.
# A tick that cannot be published is not retried (the default): the next one
# comes a minute later. Updated on every run, like the log sink.
ensure_reconcile_schedule() {
  info "Cloud Scheduler job ${RECONCILE_JOB} → ${TOPIC_RECONCILE_TICK} (${RECONCILE_SCHEDULE})"
  local settings=(--location="$REGION" --schedule="$RECONCILE_SCHEDULE" --time-zone=Etc/UTC
    --topic="$TOPIC_RECONCILE_TICK" --message-body='{"tick":"reconcile"}'
    --description="recdeploy: one reconciler pass per tick (functions/reconcile)")
  if exists scheduler jobs describe "$RECONCILE_JOB" --location="$REGION"; then
    gc scheduler jobs update pubsub "$RECONCILE_JOB" "${settings[@]}"
  else
    gc scheduler jobs create pubsub "$RECONCILE_JOB" "${settings[@]}"
  fi
}

ensure_model_bucket() {
  info "model bucket gs://${MODEL_BUCKET}"
  exists storage buckets describe "gs://${MODEL_BUCKET}" ||
    gc storage buckets create "gs://${MODEL_BUCKET}" --location="$REGION" --uniform-bucket-level-access
}

import_build_triggers() {
  if [[ -z "${GITHUB_OWNER:-}" ]]; then
    info "build triggers skipped: set GITHUB_OWNER and GITHUB_REPO (repository connected to Cloud Build) to import deploy/triggers/*.yaml"
    return 0
  fi
  info "build triggers for github.com/${GITHUB_OWNER}/${GITHUB_REPO} (branch ${BRANCH})"
  local file rendered
  rendered="$(mktemp -d)"
  for file in "${DEPLOY_DIR}"/triggers/*.yaml; do
    sed -e "s|__PROJECT_ID__|${PROJECT}|g" -e "s|__REGION__|${REGION}|g" \
      -e "s|__GITHUB_OWNER__|${GITHUB_OWNER}|g" -e "s|__GITHUB_REPO__|${GITHUB_REPO}|g" \
      -e "s|__BRANCH__|${BRANCH}|g" "$file" >"${rendered}/${file##*/}"
    gc builds triggers import --source="${rendered}/${file##*/}"
  done
  rm -rf "$rendered"
}

main() {
  check_inputs
  info "project ${PROJECT}, region ${REGION}, model bucket gs://${MODEL_BUCKET}"
  enable_apis
  PROJECT_NUMBER="$(gc projects describe "$PROJECT" --format='value(projectNumber)')"
  [[ -n "$PROJECT_NUMBER" ]] || die "cannot read the number of project ${PROJECT}"
  ensure_artifact_repository
  ensure_service_accounts
  ensure_firestore
  ensure_pubsub
  ensure_reconcile_schedule
  ensure_log_sink
  ensure_degenerate_answer_metric
  ensure_model_bucket
  grant_roles
  import_build_triggers
  info "done. First deployment (builds every image, deploys the functions, the job and the dashboard):"
  printf '   gcloud builds submit --project=%s --region=%s --config=cloudbuild.yaml \\\n' "$PROJECT" "$REGION"
  printf '     --service-account=projects/%s/serviceAccounts/%s \\\n' "$PROJECT" "$(sa_email "$SA_BUILD")"
  # shellcheck disable=SC2016 # printed for the reader to run, not expanded here.
  printf '     --substitutions=_REGION=%s,SHORT_SHA=$(git rev-parse --short HEAD) .\n' "$REGION"
}

# Sourced (tests), it only defines the functions.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
