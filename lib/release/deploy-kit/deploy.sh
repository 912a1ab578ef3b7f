#!/usr/bin/env bash
# A pre-production environment's Deploy step (release and hotfix pipelines). Deploys one stack from
# the release's cloud assembly (`cdk deploy --app <assembly>`) through the CDK bootstrap roles the
# assembly names, after printing its plan (`cdk diff`) in the build log: no approval guards a
# pre-production deploy. The stack's DeploymentConfig is passed explicitly: the environment's
# strategy in a release, all at once when the execution is the stage's rollback (bin/deploy-mode.js,
# deploy-parameters.js). Then it writes the stack's outputs and its traffic shift as shell exports
# (.pipeline/outputs.env, .pipeline/shift.env), which the buildspec sources and exports.
#
# Environment: STACK_NAME TARGET_REGION PIPELINE_NAME PIPELINE_EXECUTION_ID LOOKUP_ROLE_ARN
#   CODEBUILD_SRC_DIR_Assembly (the cloud assembly, the action's second input)
set -euo pipefail
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$kit/require-env.sh"
require_env "deploy" STACK_NAME TARGET_REGION PIPELINE_NAME PIPELINE_EXECUTION_ID LOOKUP_ROLE_ARN CODEBUILD_SRC_DIR_Assembly
assembly="$CODEBUILD_SRC_DIR_Assembly"
mkdir -p "$kit/.pipeline"

started="$(date +%s)"
mode="$(node "$kit/bin/deploy-mode.js" --pipeline "$PIPELINE_NAME" --execution "$PIPELINE_EXECUTION_ID")"
parameters="$(node "$kit/deploy-parameters.js" "$assembly" "$STACK_NAME" "$mode")"
read -r -a parameter_args <<< "$parameters"

npx --no-install cdk diff --app "$assembly" "$STACK_NAME" --exclusively "${parameter_args[@]}"
npx --no-install cdk deploy --app "$assembly" "$STACK_NAME" --exclusively --require-approval never \
  --outputs-file "$kit/.pipeline/outputs.json" "${parameter_args[@]}"

node "$kit/bin/stack-outputs.js" --file "$kit/.pipeline/outputs.json" --stack "$STACK_NAME" --out "$kit/.pipeline/outputs.env"
node "$kit/bin/shift-outcome.js" --outputs "$kit/.pipeline/outputs.json" --stack "$STACK_NAME" --since "$started" \
  --region "$TARGET_REGION" --role-arn "$LOOKUP_ROLE_ARN" --out "$kit/.pipeline/shift.env"
