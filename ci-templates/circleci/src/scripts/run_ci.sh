#!/bin/bash
# The orb's run_ci command: `stilt ci` with the command's parameters, which arrive as STILT_*
# environment variables (run_ci.yml maps them); exits with stilt's exit code.
set -u
set -- ci -f "$STILT_TILTFILE" --timeout "$STILT_TIMEOUT" --junit "$STILT_JUNIT" \
  --report-json "$STILT_REPORT" --log-dir "$STILT_LOG_DIR"
if [ -n "$STILT_CONTEXT" ]; then set -- "$@" --context "$STILT_CONTEXT"; fi
if [ -n "$STILT_NAMESPACE" ]; then set -- "$@" --namespace "$STILT_NAMESPACE"; fi
if [ -n "$STILT_ARGS" ]; then
  # split like a shell would (quotes work), without executing anything
  extra=$(printf '%s\n' "$STILT_ARGS" | xargs printf '%s\n' 2>/dev/null) || {
    echo "Error: args: cannot split '$STILT_ARGS' (unbalanced quotes?)" >&2
    exit 2
  }
  list=$(mktemp)
  printf '%s\n' "$extra" >"$list"
  while IFS= read -r a; do set -- "$@" "$a"; done <"$list"
  rm -f "$list"
fi
echo "stilt $*"
stilt "$@"
