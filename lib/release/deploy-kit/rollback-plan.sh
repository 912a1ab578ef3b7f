#!/usr/bin/env bash
# The rollback pipeline's Plan step (CodeBuild). Prepares the change set that would put the
# archived cloud assembly of an earlier release back into prod, without executing it, and renders
# it for the approver: download that exact object, check its sha256 against the ledger's (again:
# Resolve checked it, but the bytes planned are these), unzip, `cdk deploy --no-execute`, then
# bin/render-plan.js (the same renderer and stateful-change guard as the release pipeline's plan).
# No build, no tests: the assembly was built and tested when it was released.
#
# Environment (from the Resolve step's variables and the project):
#   TARGET_VERSION ARTIFACT_BUCKET ARTIFACT_KEY ARTIFACT_VERSION_ID ("none" = current object)
#   ARTIFACT_SHA256 STACK_NAME TARGET_REGION PLAN_ROLE_ARN EXECUTION_ID
# The CDK CLI runs on a copy of the assembly in which every role it would assume for the stack is
# the prod plan role (bin/plan-assembly.js), and render-plan assumes that role too; this project's
# own role may assume that one role and read archived assemblies, nothing else.
set -euo pipefail
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$kit/require-env.sh"
require_env "rollback: plan" TARGET_VERSION ARTIFACT_BUCKET ARTIFACT_KEY ARTIFACT_VERSION_ID ARTIFACT_SHA256 STACK_NAME TARGET_REGION PLAN_ROLE_ARN EXECUTION_ID

work="$(mktemp -d)"
zip="$work/cloud-assembly.zip"
assembly="$work/assembly"
change_set="notes-rollback-$EXECUTION_ID"

version_args=()
if [ "$ARTIFACT_VERSION_ID" != "none" ]; then version_args=(--version-id "$ARTIFACT_VERSION_ID"); fi
echo "rollback: plan: downloading s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY ${version_args[*]:-}"
aws s3api get-object --bucket "$ARTIFACT_BUCKET" --key "$ARTIFACT_KEY" "${version_args[@]}" "$zip" > /dev/null

actual="$(sha256sum "$zip" | cut -d' ' -f1)"
if [ "$actual" != "$ARTIFACT_SHA256" ]; then
  echo "rollback: plan: s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY has sha256 $actual, the ledger recorded $ARTIFACT_SHA256; refusing to plan it" >&2
  exit 1
fi

mkdir -p "$assembly"
unzip -q "$zip" -d "$assembly"
if [ ! -f "$assembly/manifest.json" ]; then
  echo "rollback: plan: the archive of v$TARGET_VERSION is not a cloud assembly (no manifest.json)" >&2
  exit 1
fi

# A rollback does not canary: DeploymentConfig=CodeDeployDefault.LambdaAllAtOnce when the archived
# template declares it (assemblies from before traffic shifting do not, and have no canary).
parameters="$(node "$kit/deploy-parameters.js" "$assembly" "$STACK_NAME" rollback)"
read -r -a parameter_args <<< "$parameters"
# Everything below goes through the prod plan role, and only it.
planned="$work/planned"
node "$kit/bin/plan-assembly.js" --assembly "$assembly" --stack "$STACK_NAME" --role-arn "$PLAN_ROLE_ARN" --out "$planned"
echo "rollback: plan: preparing change set $change_set of $STACK_NAME from the cloud assembly of v$TARGET_VERSION ${parameter_args[*]:-}"
npx --no-install cdk deploy --app "$planned" "$STACK_NAME" --exclusively --require-approval never --ci \
  --no-execute --force --change-set-name "$change_set" "${parameter_args[@]}"
node "$kit/bin/render-plan.js" --stack "$STACK_NAME" --change-set "$change_set" --region "$TARGET_REGION" \
  --assembly "$planned" --role-arn "$PLAN_ROLE_ARN" --out-dir "$kit/.pipeline/plan"
