# Sourced by every step script of the deploy kit: `require_env <step> NAME...` stops the step
# (exit 1) before it does anything, naming every variable that is not set or empty. The project
# sets the static ones (STACK_NAME, TARGET_REGION, the role ARNs); the pipeline action sets the
# per-execution ones (PIPELINE_EXECUTION_ID, ALLOW_STATEFUL_CHANGE, the Resolve step's variables);
# CodeBuild sets CODEBUILD_SRC_DIR_Assembly when the action has the cloud assembly as its input.
require_env() {
  local step="$1"
  shift
  local missing=()
  local name
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then missing+=("$name"); fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "$step: ${missing[*]} not set (see lib/release/deploy-kit/README.md for where each comes from); nothing was done" >&2
    exit 1
  fi
}
