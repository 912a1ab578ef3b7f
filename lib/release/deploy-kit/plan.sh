#!/usr/bin/env bash
# The PlanProd stage's Plan step (release and hotfix pipelines), before the approval. Prepares the
# prod change set `notes-plan-<execution id>` from the release's cloud assembly without executing
# it (`cdk deploy --no-execute --force`: assets are published, and a change set is made even when
# nothing changes, so "no changes" is CloudFormation's word), with the environment's
# DeploymentConfig, then bin/render-plan.js renders it, applies the stateful-change guard to it
# (unless ALLOW_STATEFUL_CHANGE is `true`) and writes .pipeline/plan/{plan.md,plan.json,plan.env}.
#
# Environment: STACK_NAME TARGET_REGION DEPLOY_ROLE_ARN PIPELINE_EXECUTION_ID ALLOW_STATEFUL_CHANGE
#   CODEBUILD_SRC_DIR_Assembly
set -euo pipefail
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$kit/require-env.sh"
require_env "plan" STACK_NAME TARGET_REGION DEPLOY_ROLE_ARN PIPELINE_EXECUTION_ID ALLOW_STATEFUL_CHANGE CODEBUILD_SRC_DIR_Assembly
assembly="$CODEBUILD_SRC_DIR_Assembly"
change_set="notes-plan-$PIPELINE_EXECUTION_ID"

parameters="$(node "$kit/deploy-parameters.js" "$assembly" "$STACK_NAME" release)"
read -r -a parameter_args <<< "$parameters"
npx --no-install cdk deploy --app "$assembly" "$STACK_NAME" --exclusively --require-approval never \
  --no-execute --force --change-set-name "$change_set" "${parameter_args[@]}"
node "$kit/bin/render-plan.js" --stack "$STACK_NAME" --change-set "$change_set" --region "$TARGET_REGION" \
  --assembly "$assembly" --role-arn "$DEPLOY_ROLE_ARN" --allow "$ALLOW_STATEFUL_CHANGE" --out-dir "$kit/.pipeline/plan"
