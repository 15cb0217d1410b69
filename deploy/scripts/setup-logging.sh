#!/usr/bin/env bash
# deploy/setup.sh's Cloud Logging: the log sink that turns Vertex AI
# PipelineJob state changes into training-completed messages, and the
# log-based metric of degenerate answers. Sourced by setup.sh, which defines
# PROJECT, SINK_NAME, DEGENERATE_METRIC, TOPIC_TRAINING_COMPLETED, gc, exists,
# info, die and grant_topic.
set -euo pipefail

# The filter of the log sink, written out in full: PipelineJob state changes
# (not task events, which share the resource type; hence the logName pin)
# that reached SUCCEEDED. Only those start a deployment.
pipeline_sink_filter() {
  local log_project="$1"
  printf '%s\n' \
    "logName=\"projects/${log_project}/logs/aiplatform.googleapis.com%2Fpipeline_job_events\"" \
    'AND resource.type="aiplatform.googleapis.com/PipelineJob"' \
    'AND jsonPayload.state="PIPELINE_STATE_SUCCEEDED"'
}

# The filter of the degenerate-answer metric: one entry per degenerate
# prediction answer of a Cloud Run revision (ann-serving logs it with this
# message); the series keep the entry's resource labels, revision_name among them.
degenerate_answer_filter() {
  printf '%s\n' \
    'resource.type="cloud_run_revision"' \
    'AND jsonPayload.message="degenerate answer"'
}

ensure_log_sink() {
  info "log sink ${SINK_NAME} → ${TOPIC_TRAINING_COMPLETED}"
  local filter destination writer
  filter="$(pipeline_sink_filter "$PROJECT")"
  destination="pubsub.googleapis.com/projects/${PROJECT}/topics/${TOPIC_TRAINING_COMPLETED}"
  if exists logging sinks describe "$SINK_NAME"; then
    gc logging sinks update "$SINK_NAME" "$destination" --log-filter="$filter"
  else
    gc logging sinks create "$SINK_NAME" "$destination" --log-filter="$filter" \
      --description="Vertex AI PipelineJob SUCCEEDED entries start a recdeploy run"
  fi
  writer="$(gc logging sinks describe "$SINK_NAME" --format='value(writerIdentity)')"
  [[ -n "$writer" ]] || die "log sink ${SINK_NAME} has no writer identity"
  grant_topic "$TOPIC_TRAINING_COMPLETED" "$writer"
}

# A counter log-based metric (https://cloud.google.com/sdk/gcloud/reference/logging/metrics/create);
# updated on every run like the log sink, so the filter stays as written here.
ensure_degenerate_answer_metric() {
  info "log-based metric ${DEGENERATE_METRIC}"
  local filter description
  filter="$(degenerate_answer_filter)"
  description="recdeploy: degenerate prediction answers (no ids, fewer than k, equal scores) per Cloud Run revision"
  if exists logging metrics describe "$DEGENERATE_METRIC"; then
    gc logging metrics update "$DEGENERATE_METRIC" --log-filter="$filter" --description="$description"
  else
    gc logging metrics create "$DEGENERATE_METRIC" --log-filter="$filter" --description="$description"
  fi
}
