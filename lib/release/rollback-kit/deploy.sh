#!/usr/bin/env bash
# The rollback pipeline's Deploy step (CodeBuild). Puts the archived cloud assembly of an earlier
# release back into prod: download that exact object, check its sha256 against the ledger's (again:
# Resolve checked it, but the bytes deployed are these), unzip, `cdk deploy --app <assembly>`.
# No build, no tests: the assembly was built and tested when it was released.
#
# Environment (from the Resolve step's variables and the project):
#   TARGET_VERSION ARTIFACT_BUCKET ARTIFACT_KEY ARTIFACT_VERSION_ID ("none" = current object)
#   ARTIFACT_SHA256 STACK_NAME
# The CDK CLI assumes the bootstrap deploy and file-publishing roles named in the assembly; this
# project's own role may assume those and read archived assemblies, nothing else.
set -euo pipefail

for name in TARGET_VERSION ARTIFACT_BUCKET ARTIFACT_KEY ARTIFACT_VERSION_ID ARTIFACT_SHA256 STACK_NAME; do
  if [ -z "${!name:-}" ]; then
    echo "rollback: deploy: $name is not set (it comes from the Resolve step)" >&2
    exit 1
  fi
done

work="$(mktemp -d)"
zip="$work/cloud-assembly.zip"
assembly="$work/assembly"

version_args=()
if [ "$ARTIFACT_VERSION_ID" != "none" ]; then version_args=(--version-id "$ARTIFACT_VERSION_ID"); fi
echo "rollback: deploy: downloading s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY ${version_args[*]:-}"
aws s3api get-object --bucket "$ARTIFACT_BUCKET" --key "$ARTIFACT_KEY" "${version_args[@]}" "$zip" > /dev/null

actual="$(sha256sum "$zip" | cut -d' ' -f1)"
if [ "$actual" != "$ARTIFACT_SHA256" ]; then
  echo "rollback: deploy: s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY has sha256 $actual, the ledger recorded $ARTIFACT_SHA256; refusing to deploy it" >&2
  exit 1
fi

mkdir -p "$assembly"
unzip -q "$zip" -d "$assembly"
if [ ! -f "$assembly/manifest.json" ]; then
  echo "rollback: deploy: the archive of v$TARGET_VERSION is not a cloud assembly (no manifest.json)" >&2
  exit 1
fi

# A rollback does not canary: DeploymentConfig=CodeDeployDefault.LambdaAllAtOnce when the archived
# template declares it (assemblies from before traffic shifting do not, and have no canary).
parameters="$(node deploy-parameters.js "$assembly" "$STACK_NAME" rollback)"
read -r -a parameter_args <<< "$parameters"
echo "rollback: deploy: deploying $STACK_NAME from the cloud assembly of v$TARGET_VERSION ${parameter_args[*]:-}"
npx --no-install cdk deploy --app "$assembly" "$STACK_NAME" --exclusively --require-approval never --ci "${parameter_args[@]}"
echo "rollback: deploy: $STACK_NAME now runs the assembly of v$TARGET_VERSION"
