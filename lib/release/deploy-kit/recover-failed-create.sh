#!/usr/bin/env bash
# The RecoverFailedCreate step (release and hotfix pipelines): a prod stack left in ROLLBACK_COMPLETE
# by a failed first create is deleted through the CDK deploy role when it holds nothing, so the
# release can create it; otherwise the step fails naming what is left and the commands that clear it
# (bin/failed-create.js, docs/runbooks/failed-first-create.md). Needs no cloud assembly.
#
# Environment: STACK_NAME TARGET_REGION DEPLOY_ROLE_ARN
set -euo pipefail
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$kit/require-env.sh"
require_env "recover failed create" STACK_NAME TARGET_REGION DEPLOY_ROLE_ARN

node "$kit/bin/failed-create.js" --stack "$STACK_NAME" --region "$TARGET_REGION" --role-arn "$DEPLOY_ROLE_ARN"
