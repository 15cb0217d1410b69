#!/usr/bin/env bash
# Runs in each function's Cloud Build config right after `gcloud functions
# deploy … --trigger-topic`, which creates the function's Eventarc trigger and
# the Pub/Sub push subscription behind it. This script:
#   1. lets the trigger identity invoke the function (nobody else may:
#      the function is deployed --no-allow-unauthenticated);
#   2. puts a dead-letter policy and Pub/Sub's retry backoff on that
#      subscription, so a message that keeps failing ends on the dead-letter
#      topic (which deploy/setup.sh gave a subscription) instead of being
#      dropped when Eventarc's 24 h retention runs out;
#   3. sets its ack deadline to Pub/Sub's maximum, 600 s: for push it is the
#      request timeout (pubsub.proto ack_deadline_seconds), so it must outlast
#      the longest function timeout (540 s), or a delivery still running would
#      be sent again (test/unit/deploy/delivery-budget.test.ts).
# Idempotent: the trigger's subscription can change on every deploy.
#
# Usage: configure-function-trigger.sh FUNCTION REGION PROJECT TRIGGER_SERVICE_ACCOUNT \
#          DEAD_LETTER_TOPIC MAX_DELIVERY_ATTEMPTS
set -euo pipefail

if [[ $# -ne 6 ]]; then
  echo "usage: $0 FUNCTION REGION PROJECT TRIGGER_SERVICE_ACCOUNT DEAD_LETTER_TOPIC MAX_DELIVERY_ATTEMPTS" >&2
  exit 2
fi
function_name="$1"
region="$2"
project="$3"
trigger_account="$4"
dead_letter_topic="$5"
max_attempts="$6"

gcloud functions add-invoker-policy-binding "$function_name" \
  --region="$region" --project="$project" \
  --member="serviceAccount:${trigger_account}"

trigger=$(gcloud functions describe "$function_name" --gen2 \
  --region="$region" --project="$project" --format='value(eventTrigger.trigger)')
if [[ -z "$trigger" ]]; then
  echo "function ${function_name} in ${region} has no Eventarc trigger; was it deployed with --trigger-topic?" >&2
  exit 1
fi
subscription=$(gcloud eventarc triggers describe "$trigger" \
  --location="$region" --project="$project" --format='value(transport.pubsub.subscription)')
if [[ -z "$subscription" ]]; then
  echo "Eventarc trigger ${trigger} has no Pub/Sub subscription" >&2
  exit 1
fi

gcloud pubsub subscriptions update "$subscription" --project="$project" \
  --dead-letter-topic="projects/${project}/topics/${dead_letter_topic}" \
  --max-delivery-attempts="$max_attempts" \
  --min-retry-delay=10s --max-retry-delay=600s --ack-deadline=600
echo "${function_name}: invoker ${trigger_account}; ${subscription} dead-letters to ${dead_letter_topic} after ${max_attempts} deliveries; ack deadline 600 s"
