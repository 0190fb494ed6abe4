#!/usr/bin/env bash
# The action's run step (action.yml): checks the inputs, runs `stilt ci`, writes the step outputs
# and exits with stilt's exit code. stilt itself writes the step summary, the annotations, the
# log groups and most outputs (--ci-output github); this script adds what only it knows.
#
# Inputs arrive as INPUT_* variables (action.yml maps `${{ inputs.x }}` through `env:`, never
# into the script text); STILT_BIN is the binary the install step produced.
#
# A bad input fails with exactly one `::error` line: exit 2 for a bad value (timeout, args,
# working-directory, upload-artifacts), 5 for a missing Tiltfile (stilt's code for it).
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
args=${INPUT_ARGS:-}

[ -n "${STILT_BIN:-}" ] || fail 4 "stilt is not installed (the install step did not report a binary)"
[ -d "$workdir" ] || fail 2 "working-directory '$workdir' does not exist"
cd "$workdir" || fail 2 "cannot enter working-directory '$workdir'"
[ -f "$tiltfile" ] || fail 5 "Tiltfile not found: '$tiltfile' (relative to working-directory '$workdir')"
if ! printf '%s' "$timeout" | grep -Eq '^(0|([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+)$'; then
  fail 2 "timeout '$timeout' is not a duration: use Go syntax such as 30m, 1h30m or 90s (0 disables)"
fi
case $upload in true | false) ;; *) fail 2 "upload-artifacts must be 'true' or 'false', not '$upload'" ;; esac

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
exit "$code"
