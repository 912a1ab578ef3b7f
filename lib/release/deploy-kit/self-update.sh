#!/usr/bin/env bash
# The release pipeline's SelfUpdate step (Build stage, after the build): brings the pipeline stack
# up to date with the cloud assembly the build made. `cdk deploy` skips an unchanged stack; when the
# definition did change, CloudFormation updates it, CodePipeline stops this execution once the step
# ends and (restartExecutionOnUpdate) starts a fresh one that runs the new definition.
#
# Environment: STACK_NAME (the pipeline stack) CODEBUILD_SRC_DIR_Assembly
set -euo pipefail
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$kit/require-env.sh"
require_env "self-update" STACK_NAME CODEBUILD_SRC_DIR_Assembly

npx --no-install cdk deploy --app "$CODEBUILD_SRC_DIR_Assembly" "$STACK_NAME" --exclusively --require-approval never
