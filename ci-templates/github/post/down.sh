#!/usr/bin/env bash
# `stilt down` at the end of the job (post.js runs it; the action's input `down: true`).
# Removes what `stilt ci` left running (docker-compose services, Kubernetes objects), like
# helm/kind-action's cleanup. A failure is a warning, not a failed job: the run's verdict was
# already given by `stilt ci`.
set -uo pipefail
if [ -z "${STILT_BIN:-}" ] || [ ! -x "$STILT_BIN" ]; then
  printf '::warning title=stilt down::stilt is not installed (%s): nothing torn down\n' "${STILT_BIN:-}"
  exit 0
fi
cd "${STILT_DOWN_WORKDIR:-.}" || {
  printf '::warning title=stilt down::cannot enter %s: nothing torn down\n' "${STILT_DOWN_WORKDIR:-.}"
  exit 0
}
cmd=("$STILT_BIN" down -f "${STILT_DOWN_TILTFILE:-Tiltfile}")
if [ -n "${STILT_DOWN_CONTEXT:-}" ]; then cmd+=(--context "$STILT_DOWN_CONTEXT"); fi
if [ -n "${STILT_DOWN_NAMESPACE:-}" ]; then cmd+=(--namespace "$STILT_DOWN_NAMESPACE"); fi
echo "stilt down in $PWD: ${cmd[*]:1}"
"${cmd[@]}"
code=$?
if [ "$code" != 0 ]; then
  printf '::warning title=stilt down::stilt down exited with code %s\n' "$code"
fi
exit 0
