#!/usr/bin/env bash
# deploy/setup.sh's IAM: who may do what, each identity with the least it
# needs (docs/architecture.md's permissions table; docs/deploy.md "Who may do
# what"). Sourced by setup.sh, which defines PROJECT, REGION, MODEL_BUCKET,
# SERVICE_PREFIX, DEPLOY_ALLOW_PUBLIC, the SA_* ids and TOPIC_* names, and gc.
set -euo pipefail

# The role that lets verify and reconcile make a serving service public at
# promote (deployment_config.public): turning the invoker check off, or
# granting allUsers run.invoker, is run.services.setIamPolicy. Nothing else.
readonly PUBLIC_SERVING_ROLE_ID=recdeployServingIamAdmin

# The role that lets verify and reconcile keep the Model Registry's `live` (and
# `default`) version alias on the version that serves: GetModel and
# MergeVersionAliases (aiplatform.models.update, per the REST reference of
# models.mergeVersionAliases). Nothing else of Vertex AI.
readonly REGISTRY_ALIAS_ROLE_ID=recdeployRegistryAliases

sa_email() { printf '%s@%s.iam.gserviceaccount.com' "$1" "$PROJECT"; }
sa_member() { printf 'serviceAccount:%s' "$(sa_email "$1")"; }

# grant_project MEMBER ROLE [CONDITION]: a project binding, conditioned when
# CONDITION (gcloud's `expression=…,title=…,description=…`) is given.
grant_project() {
  gc projects add-iam-policy-binding "$PROJECT" --member="$1" --role="$2" \
    --condition="${3:-None}" >/dev/null
}
grant_bucket() {
  gc storage buckets add-iam-policy-binding "gs://${MODEL_BUCKET}" --member="$(sa_member "$1")" --role="$2" >/dev/null
}
# grant_topic TOPIC MEMBER: publish to TOPIC.
grant_topic() {
  gc pubsub topics add-iam-policy-binding "$1" --member="$2" --role=roles/pubsub.publisher >/dev/null
}
# grant_act_as ACCOUNT USER: USER may deploy things that run as ACCOUNT.
grant_act_as() {
  gc iam service-accounts add-iam-policy-binding "$(sa_email "$1")" \
    --member="$(sa_member "$2")" --role=roles/iam.serviceAccountUser >/dev/null
}

# Cloud Run resource names as IAM conditions would see them
# (projects/P/locations/R/services/S, …/jobs/J, …/operations/O; the Admin API
# v2 names). Unverified: https://cloud.google.com/iam/docs/conditions-resource-attributes
# does not list run.googleapis.com among the services whose resource names
# conditions see; if Cloud Run does not supply them, these conditional
# grants may not take effect. docs/deploy.md "Permissions" says how to check it in
# a project, and the per-service bindings to use if it does not hold.
run_location() { printf 'projects/%s/locations/%s' "$PROJECT" "$REGION"; }
# The serving services recdeploy manages ({SERVICE_PREFIX}{endpoint}) and their revisions.
on_serving_services() { printf 'resource.name.startsWith("%s/services/%s")' "$(run_location)" "$SERVICE_PREFIX"; }
# Long-running operations: every Cloud Run write returns one, which the client polls.
on_run_operations() { printf 'resource.name.startsWith("%s/operations/")' "$(run_location)"; }
# The index-build job and its executions (…/jobs/J/executions/E).
on_index_build_job() {
  printf 'resource.name == "%s/jobs/%s" || resource.name.startsWith("%s/jobs/%s/")' \
    "$(run_location)" "$INDEX_BUILD_JOB" "$(run_location)" "$INDEX_BUILD_JOB"
}
# Creating a service is authorised on its parent, the location: the only way to
# allow a create before the service exists. It lets the holder create services
# (any name: Cloud Run refuses one that exists), not change existing ones.
on_run_location() { printf 'resource.name == "%s"' "$(run_location)"; }

# run_condition TITLE DESCRIPTION CLAUSE…: gcloud's --condition for the clauses
# joined by ||. No clause or description may hold a comma (gcloud's separator).
run_condition() {
  local title="$1" description="$2" expression
  shift 2
  expression="$(printf ' || %s' "$@")"
  printf 'expression=%s,title=%s,description=%s' "${expression:4}" "$title" "$description"
}

# Cloud Run roles on the serving services (and the job) only, never on the
# project: Cloud Functions 2nd gen are Cloud Run services, so a project-wide
# run.developer would let the chain's identities redeploy the functions
# themselves. The functions' own services are named recdeploy-*, outside the
# prefix (SERVICE_PREFIX must not be a prefix of them: check_inputs).
grant_cloud_run_roles() {
  local services operations job
  services="$(on_serving_services)"
  operations="$(on_run_operations)"
  job="$(on_index_build_job)"
  # deploy: creates serving services and adds revisions; runs the index-build job
  # (with overrides) and reads its executions.
  grant_project "$(sa_member "$SA_DEPLOY")" roles/run.developer \
    "$(run_condition recdeploy-serving-and-index-build "deploy: serving services ${SERVICE_PREFIX}* and the index-build job" \
      "$services" "$(on_run_location)" "$operations" "$job")"
  # verify: moves traffic (promote; discard); calls the tag URLs of private revisions.
  grant_project "$(sa_member "$SA_VERIFY")" roles/run.developer \
    "$(run_condition recdeploy-serving "serving services ${SERVICE_PREFIX}*" "$services" "$operations")"
  grant_project "$(sa_member "$SA_VERIFY")" roles/run.invoker \
    "$(run_condition recdeploy-serving-invoke "serving services ${SERVICE_PREFIX}*" "$services")"
  # reconcile: canary traffic (split; promote; back to stable); index-build executions, read only.
  grant_project "$(sa_member "$SA_RECONCILE")" roles/run.developer \
    "$(run_condition recdeploy-serving "serving services ${SERVICE_PREFIX}*" "$services" "$operations")"
  grant_project "$(sa_member "$SA_RECONCILE")" roles/run.viewer \
    "$(run_condition recdeploy-index-build "the index-build job ${INDEX_BUILD_JOB}" "$job")"
  ensure_public_serving_role
  if [[ "$DEPLOY_ALLOW_PUBLIC" == true ]]; then
    # A public service (deployment_config.public, within the deployment policy) is made
    # public when it is promoted, after verification: by verify, or by reconcile
    # when a canary completes. The deploy identity never needs it.
    local account
    for account in "$SA_VERIFY" "$SA_RECONCILE"; do
      grant_project "$(sa_member "$account")" "projects/${PROJECT}/roles/${PUBLIC_SERVING_ROLE_ID}" \
        "$(run_condition recdeploy-serving-public "serving services ${SERVICE_PREFIX}*" "$services")"
    done
  fi
}

# The custom role exists whatever DEPLOY_ALLOW_PUBLIC says (it grants nothing
# until bound), so turning the switch on later only adds the bindings.
ensure_public_serving_role() {
  exists iam roles describe "$PUBLIC_SERVING_ROLE_ID" ||
    gc iam roles create "$PUBLIC_SERVING_ROLE_ID" --title="recdeploy: make serving services public" \
      --description="run.services.setIamPolicy for deployment_config.public at promote" \
      --permissions=run.services.getIamPolicy,run.services.setIamPolicy --stage=GA
}

ensure_registry_alias_role() {
  exists iam roles describe "$REGISTRY_ALIAS_ROLE_ID" ||
    gc iam roles create "$REGISTRY_ALIAS_ROLE_ID" --title="recdeploy: move registry aliases" \
      --description="the live and default version aliases follow the version that serves" \
      --permissions=aiplatform.models.get,aiplatform.models.update --stage=GA
}

# Least privilege, as docs/architecture.md's permissions table explains. Every
# project-wide role below says why it cannot be narrower.
grant_roles() {
  info "IAM: least privilege per identity"
  # register: Vertex AI Model Registry and pipeline jobs; reads bundles; run documents; hand-offs.
  # Project-wide: Vertex AI models and Firestore documents have no finer grant.
  grant_project "$(sa_member "$SA_REGISTER")" roles/aiplatform.user
  grant_project "$(sa_member "$SA_REGISTER")" roles/datastore.user
  grant_bucket "$SA_REGISTER" roles/storage.objectViewer
  grant_topic "$TOPIC_MODEL_REGISTERED" "$(sa_member "$SA_REGISTER")"
  grant_topic "$TOPIC_DEPLOYMENT_FINISHED" "$(sa_member "$SA_REGISTER")"

  # deploy: serving services and the index-build job (grant_cloud_run_roles), as the
  # serving and job identities; writes ann/index/ next to the bundle.
  # Project-wide: Firestore grants only per database, and recdeploy's is (default).
  grant_project "$(sa_member "$SA_DEPLOY")" roles/datastore.user
  grant_bucket "$SA_DEPLOY" roles/storage.objectAdmin
  grant_act_as "$SA_SERVING" "$SA_DEPLOY"
  grant_act_as "$SA_INDEX_BUILD" "$SA_DEPLOY"
  grant_topic "$TOPIC_MODEL_DEPLOYED" "$(sa_member "$SA_DEPLOY")"
  grant_topic "$TOPIC_DEPLOYMENT_FINISHED" "$(sa_member "$SA_DEPLOY")"

  # verify: moves traffic (a service update, which Cloud Run authorises with actAs on the
  # service's identity); calls the tag URLs of private revisions; reads bundles.
  grant_project "$(sa_member "$SA_VERIFY")" roles/datastore.user
  grant_bucket "$SA_VERIFY" roles/storage.objectViewer
  grant_act_as "$SA_SERVING" "$SA_VERIFY"
  grant_topic "$TOPIC_DEPLOYMENT_FINISHED" "$(sa_member "$SA_VERIFY")"
  # …and moves the registry's live alias to the version it promoted. Project-wide:
  # Vertex AI models have no finer grant (as for register).
  ensure_registry_alias_role
  grant_project "$(sa_member "$SA_VERIFY")" "projects/${PROJECT}/roles/${REGISTRY_ALIAS_ROLE_ID}"

  # reconcile: reads and corrects run documents and serving records; reads what Cloud Run
  # serves and whether an index build runs; republishes the hand-off that starts a stalled
  # step, and deployment-finished for a corrected run. Its ticks also move canary traffic
  # (service updates, authorised with actAs on the service's identity, as for verify).
  grant_project "$(sa_member "$SA_RECONCILE")" roles/datastore.user
  grant_act_as "$SA_SERVING" "$SA_RECONCILE"
  # …and judges canary steps on live traffic: reads Cloud Run's request metrics and the
  # degenerate-answer metric. Project-wide: Cloud Monitoring time series have no finer grant.
  grant_project "$(sa_member "$SA_RECONCILE")" roles/monitoring.viewer
  # …and converges the registry's live alias on the version that serves (after a
  # rollback, a completed canary, or a move verify could not make).
  grant_project "$(sa_member "$SA_RECONCILE")" "projects/${PROJECT}/roles/${REGISTRY_ALIAS_ROLE_ID}"
  local topic
  for topic in "$TOPIC_TRAINING_COMPLETED" "$TOPIC_MODEL_REGISTERED" "$TOPIC_MODEL_DEPLOYED" \
    "$TOPIC_DEPLOYMENT_FINISHED" "$TOPIC_FRESHNESS_ALERT"; do
    grant_topic "$topic" "$(sa_member "$SA_RECONCILE")"
  done
  grant_cloud_run_roles

  # index-build job: reads the bundle, writes its index; announces the end of the build.
  grant_bucket "$SA_INDEX_BUILD" roles/storage.objectAdmin
  grant_topic "$TOPIC_MODEL_REGISTERED" "$(sa_member "$SA_INDEX_BUILD")"

  # serving revisions: download the model; write their replay sample, and only
  # under replay/ (REPLAY_SAMPLE_BASE_URI=gs://{MODEL_BUCKET}/replay): objectUser
  # because a revision replaces its own object every interval (create + delete).
  # An IAM condition needs uniform bucket-level access, which the bucket has.
  grant_bucket "$SA_SERVING" roles/storage.objectViewer
  gc storage buckets add-iam-policy-binding "gs://${MODEL_BUCKET}" --member="$(sa_member "$SA_SERVING")" \
    --role=roles/storage.objectUser \
    --condition="expression=resource.name.startsWith(\"projects/_/buckets/${MODEL_BUCKET}/objects/replay/\"),title=replay-samples,description=ann-serving writes its sample of live queries here" >/dev/null

  # dashboard: reads run documents and rejected events (project-wide: as for Firestore above).
  grant_project "$(sa_member "$SA_DASHBOARD")" roles/datastore.viewer

  # Eventarc trigger identity: run.invoker on each function only, granted by
  # deploy/scripts/configure-function-trigger.sh once the function exists.

  # Cloud Build (triggers and the functions' own builds): builds, pushes images, deploys
  # functions, Cloud Run services and the job, and sets the dead-letter policy on the
  # triggers' subscriptions; deploys them as their runtime identities. Project-wide: it
  # deploys recdeploy itself (the functions, the job, the dashboard), so it must be able
  # to change them; it is the only identity that may.
  local role account
  for role in roles/cloudbuild.builds.builder roles/cloudfunctions.developer roles/run.admin \
    roles/eventarc.viewer roles/pubsub.editor; do
    grant_project "$(sa_member "$SA_BUILD")" "$role"
  done
  # …and itself: `gcloud functions deploy --build-service-account` names it.
  for account in "$SA_REGISTER" "$SA_DEPLOY" "$SA_VERIFY" "$SA_RECONCILE" "$SA_INDEX_BUILD" \
    "$SA_DASHBOARD" "$SA_TRIGGER" "$SA_BUILD"; do
    grant_act_as "$account" "$SA_BUILD"
  done
}
