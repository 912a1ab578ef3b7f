#!/usr/bin/env bash
# The PlanProd stage's Plan step (release and hotfix pipelines), before the approval. Prepares the
# prod change set `notes-plan-<execution id>` from the release's cloud assembly without executing
# it (`cdk deploy --no-execute --force`: assets are published, and a change set is made even when
# nothing changes, so "no changes" is CloudFormation's word), with the environment's
# DeploymentConfig, then bin/render-plan.js renders it, applies the stateful-change guard to it
# (unless ALLOW_STATEFUL_CHANGE is `true`) and writes .pipeline/plan/{plan.md,plan.json,plan.env}.
# All of it through the prod plan role: the CLI runs on a copy of the assembly in which every role
# it would assume for the stack is that role (bin/plan-assembly.js), and render-plan assumes it too.
# The plan role can prepare and read change sets and publish assets, never execute or delete.
# When the stack's first create failed (ROLLBACK_COMPLETE: no change set can be made against it,
# and the CLI would delete it first), bin/plan-mode.js says `create`, and the plan is the creation
# of the whole stack from the assembly's template (render-plan --create, CHANGE_SET_NAME=create);
# after the approval Prod's RecoverFailedCreate clears the stack and its Deploy creates it.
#
# Environment: STACK_NAME TARGET_REGION PLAN_ROLE_ARN PIPELINE_EXECUTION_ID ALLOW_STATEFUL_CHANGE
#   CODEBUILD_SRC_DIR_Assembly
set -euo pipefail
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$kit/require-env.sh"
require_env "plan" STACK_NAME TARGET_REGION PLAN_ROLE_ARN PIPELINE_EXECUTION_ID ALLOW_STATEFUL_CHANGE CODEBUILD_SRC_DIR_Assembly
assembly="$CODEBUILD_SRC_DIR_Assembly"
change_set="notes-plan-$PIPELINE_EXECUTION_ID"
planned="$(mktemp -d)/assembly"

mode="$(node "$kit/bin/plan-mode.js" --stack "$STACK_NAME" --region "$TARGET_REGION" --role-arn "$PLAN_ROLE_ARN")"
if [ "$mode" = create ]; then
  node "$kit/bin/render-plan.js" --stack "$STACK_NAME" --create --region "$TARGET_REGION" \
    --assembly "$assembly" --allow "$ALLOW_STATEFUL_CHANGE" --out-dir "$kit/.pipeline/plan"
  exit 0
fi

node "$kit/bin/plan-assembly.js" --assembly "$assembly" --stack "$STACK_NAME" --role-arn "$PLAN_ROLE_ARN" --out "$planned"

parameters="$(node "$kit/deploy-parameters.js" "$assembly" "$STACK_NAME" release)"
read -r -a parameter_args <<< "$parameters"
npx --no-install cdk deploy --app "$planned" "$STACK_NAME" --exclusively --require-approval never \
  --no-execute --force --change-set-name "$change_set" "${parameter_args[@]}"
node "$kit/bin/render-plan.js" --stack "$STACK_NAME" --change-set "$change_set" --region "$TARGET_REGION" \
  --assembly "$planned" --role-arn "$PLAN_ROLE_ARN" --allow "$ALLOW_STATEFUL_CHANGE" --out-dir "$kit/.pipeline/plan"
