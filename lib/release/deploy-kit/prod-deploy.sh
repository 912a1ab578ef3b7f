#!/usr/bin/env bash
# Prod's Deploy step (release and hotfix pipelines), after the approval. Executes, by name, this
# execution's change set (`notes-plan-<execution id>`, prepared by the Plan step and reviewed by the
# approver) through the CDK deploy role and waits (bin/execute-change-set.js); it never prepares a
# change set of its own. When the approved plan is the creation of the whole stack (PLAN_CHANGE_SET
# is `create`: its first create failed, RecoverFailedCreate has cleared it in this stage), it checks
# that the assembly's template is the one the plan was made from (plan-template.js, the plan
# artifact at $CODEBUILD_SRC_DIR_Plan) and creates the stack with `cdk deploy`. In a stage rollback (CodePipeline re-running the stage with the previous
# release's artifacts, bin/deploy-mode.js) there is no plan of this execution: it deploys that
# earlier, already released assembly directly, all at once. Then, like every deploy, it writes the
# stack's outputs and its traffic shift (.pipeline/outputs.env, .pipeline/shift.env).
#
# Environment: STACK_NAME TARGET_REGION PIPELINE_NAME PIPELINE_EXECUTION_ID PLAN_CHANGE_SET
#   DEPLOY_ROLE_ARN LOOKUP_ROLE_ARN CODEBUILD_SRC_DIR_Assembly (and CODEBUILD_SRC_DIR_Plan for a create)
set -euo pipefail
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$kit/require-env.sh"
require_env "prod deploy" STACK_NAME TARGET_REGION PIPELINE_NAME PIPELINE_EXECUTION_ID PLAN_CHANGE_SET DEPLOY_ROLE_ARN LOOKUP_ROLE_ARN CODEBUILD_SRC_DIR_Assembly
assembly="$CODEBUILD_SRC_DIR_Assembly"
mkdir -p "$kit/.pipeline"

started="$(date +%s)"
mode="$(node "$kit/bin/deploy-mode.js" --pipeline "$PIPELINE_NAME" --execution "$PIPELINE_EXECUTION_ID")"
if [ "$mode" = rollback ]; then
  echo "stage rollback: deploying the assembly of the previous release (planned and approved when it was released), all at once"
  parameters="$(node "$kit/deploy-parameters.js" "$assembly" "$STACK_NAME" rollback)"
  read -r -a parameter_args <<< "$parameters"
  npx --no-install cdk deploy --app "$assembly" "$STACK_NAME" --exclusively --require-approval never \
    --outputs-file "$kit/.pipeline/outputs.json" "${parameter_args[@]}"
elif [ "$PLAN_CHANGE_SET" = create ]; then
  require_env "prod deploy" CODEBUILD_SRC_DIR_Plan
  echo "the approved plan creates $STACK_NAME (its first create failed and was cleared): deploying the planned template"
  node "$kit/plan-template.js" "$assembly" "$STACK_NAME" "$CODEBUILD_SRC_DIR_Plan/plan.json"
  parameters="$(node "$kit/deploy-parameters.js" "$assembly" "$STACK_NAME" release)"
  read -r -a parameter_args <<< "$parameters"
  npx --no-install cdk deploy --app "$assembly" "$STACK_NAME" --exclusively --require-approval never \
    --outputs-file "$kit/.pipeline/outputs.json" "${parameter_args[@]}"
else
  node "$kit/bin/execute-change-set.js" --stack "$STACK_NAME" --change-set "notes-plan-$PIPELINE_EXECUTION_ID" \
    --region "$TARGET_REGION" --role-arn "$DEPLOY_ROLE_ARN" --outputs-file "$kit/.pipeline/outputs.json"
fi

node "$kit/bin/stack-outputs.js" --file "$kit/.pipeline/outputs.json" --stack "$STACK_NAME" --out "$kit/.pipeline/outputs.env"
node "$kit/bin/shift-outcome.js" --outputs "$kit/.pipeline/outputs.json" --stack "$STACK_NAME" --since "$started" \
  --region "$TARGET_REGION" --role-arn "$LOOKUP_ROLE_ARN" --out "$kit/.pipeline/shift.env"
