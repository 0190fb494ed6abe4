#!/usr/bin/env bash
# The action's run step (action.yml): checks the inputs, runs `stilt ci`, writes the step outputs
# and exits with stilt's exit code. stilt itself writes the step summary, the annotations, the
# log groups and most outputs (--ci-output github); this script adds what only it knows.
#
# Inputs arrive as INPUT_* variables (action.yml maps `${{ inputs.x }}` through `env:`, never
# into the script text); STILT_BIN is the binary the install step produced.
#
# A bad input fails with exactly one `::error` line: exit 2 for a bad value (timeout, args,
# working-directory, upload-artifacts, fail-on-error, retention-days, mask-env), 5 for a missing
# Tiltfile (stilt's code for it). With `fail-on-error: false` the step succeeds whatever stilt's
# verdict (the `exit-code` and `result` outputs still carry it); bad inputs still fail it.
# Works with bash 3.2 (macOS).
set -uo pipefail

out() { # key value
  if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; fi
}
have_out() { [ -n "${GITHUB_OUTPUT:-}" ] && grep -q "^$1=" "$GITHUB_OUTPUT" 2>/dev/null; }
fail() { # code message
  local msg=${2//'%'/'%25'}
  printf '::error title=stilt action::%s\n' "$msg"
  out exit-code "$1"
  out result error
  exit "$1"
}
abs() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }

workdir=${INPUT_WORKING_DIRECTORY:-.}
tiltfile=${INPUT_TILTFILE:-Tiltfile}
timeout=${INPUT_TIMEOUT:-30m}
upload=${INPUT_UPLOAD_ARTIFACTS:-true}
fail_on_error=${INPUT_FAIL_ON_ERROR:-true}
retention=${INPUT_RETENTION_DAYS:-0}
args=${INPUT_ARGS:-}
# mask-env: variable names separated by commas, spaces or newlines
mask_env=$(printf '%s' "${INPUT_MASK_ENV:-}" | tr ' \n\t' ',,,' | sed 's/,,*/,/g; s/^,//; s/,$//')

[ -n "${STILT_BIN:-}" ] || fail 4 "stilt is not installed (the install step did not report a binary)"
[ -d "$workdir" ] || fail 2 "working-directory '$workdir' does not exist"
cd "$workdir" || fail 2 "cannot enter working-directory '$workdir'"
[ -f "$tiltfile" ] || fail 5 "Tiltfile not found: '$tiltfile' (relative to working-directory '$workdir')"
if ! printf '%s' "$timeout" | grep -Eq '^(0|([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+)$'; then
  fail 2 "timeout '$timeout' is not a duration: use Go syntax such as 30m, 1h30m or 90s (0 disables)"
fi
case $upload in true | false) ;; *) fail 2 "upload-artifacts must be 'true' or 'false', not '$upload'" ;; esac
case ${INPUT_DOWN:-false} in true | false) ;; *) fail 2 "down must be 'true' or 'false', not '${INPUT_DOWN:-}'" ;; esac
case $fail_on_error in true | false) ;; *) fail 2 "fail-on-error must be 'true' or 'false', not '$fail_on_error'" ;; esac
if ! printf '%s' "$retention" | grep -Eq '^[0-9]+$' || [ "${#retention}" -gt 3 ]; then
  fail 2 "retention-days must be a number of days (0 = the repository's default), not '$retention'"
fi
if [ -n "$mask_env" ] && ! printf '%s' "$mask_env" | grep -Eq '^[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*$'; then
  fail 2 "mask-env must name environment variables (A_B, separated by commas or spaces), not '${INPUT_MASK_ENV:-}'"
fi

# `args` is split like a shell would split it (quotes and backslashes), without running anything.
extra=()
if [ -n "${args//[[:space:]]/}" ]; then
  if ! parsed=$(printf '%s\n' "$args" | xargs printf '%s\n' 2>/dev/null); then
    fail 2 "args: cannot split '$args' (unbalanced quotes?)"
  fi
  while IFS= read -r a; do extra+=("$a"); done <<<"$parsed"
fi

junit=$(abs "${INPUT_JUNIT_PATH:-stilt-reports/junit.xml}")
report=$(abs "${INPUT_REPORT_PATH:-stilt-reports/report.json}")
logdir=$(abs "${INPUT_LOG_DIR:-stilt-reports/logs}")
cmd=("$STILT_BIN" ci -f "$tiltfile" --timeout "$timeout" --junit "$junit" --report-json "$report" --log-dir "$logdir")
if [ -n "${INPUT_CONTEXT:-}" ]; then cmd+=(--context "$INPUT_CONTEXT"); fi
if [ -n "${INPUT_NAMESPACE:-}" ]; then cmd+=(--namespace "$INPUT_NAMESPACE"); fi
if [ -n "$mask_env" ]; then cmd+=(--mask-env "$mask_env"); fi

export STILT_CI_OUTPUT=${STILT_CI_OUTPUT:-github}
echo "stilt ci in $PWD: ${cmd[*]:1} ${extra[*]+${extra[*]}}"
"${cmd[@]}" ${extra[@]+"${extra[@]}"}
code=$?

if ! have_out result; then
  # stilt stopped before its reporter ran (e.g. an unknown flag in `args`): say why in one line.
  case $code in
    2) why="bad command line or configuration" ;;
    130 | 143) why="interrupted" ;;
    *) why="see the log above" ;;
  esac
  printf '::error title=stilt action::stilt ci exited with code %s (%s) before writing its reports\n' "$code" "$why"
  out result error
fi
have_out exit-code || out exit-code "$code"
have_out junit-path || out junit-path "$junit"
have_out report-path || out report-path "$report"
have_out log-dir || out log-dir "$logdir"
out artifact-name "${INPUT_ARTIFACT_NAME:-stilt-reports}"
if [ "$fail_on_error" = false ] && [ "$code" != 0 ]; then
  echo "stilt ci exited with code $code; fail-on-error is false, so the step passes"
  exit 0
fi
exit "$code"
