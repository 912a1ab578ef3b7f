#!/usr/bin/env bash
# The rollback pipeline's Deploy step (CodeBuild). Executes, by name, the change set the Plan step
# prepared from the archived assembly (and the approver saw), and waits for prod to settle. It
# prepares no change set of its own: if prod changed since the plan, the change set is obsolete and
# the step fails, saying so; start a new rollback, which plans again.
#
# Environment: STACK_NAME TARGET_REGION DEPLOY_ROLE_ARN EXECUTION_ID TARGET_VERSION
set -euo pipefail
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$kit/require-env.sh"
require_env "rollback: deploy" STACK_NAME TARGET_REGION DEPLOY_ROLE_ARN EXECUTION_ID TARGET_VERSION

echo "rollback: deploy: executing the reviewed plan for v$TARGET_VERSION on $STACK_NAME"
node "$kit/bin/execute-change-set.js" --stack "$STACK_NAME" --change-set "notes-rollback-$EXECUTION_ID" \
  --region "$TARGET_REGION" --role-arn "$DEPLOY_ROLE_ARN"
echo "rollback: deploy: $STACK_NAME now runs the assembly of v$TARGET_VERSION"
