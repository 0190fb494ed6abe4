#!/usr/bin/env bash
# After actions/upload-artifact (action.yml): links the uploaded reports and logs from the job
# summary, under stilt's own table (whose log column can only point at the run's artifacts).
set -euo pipefail
if [ -n "${ARTIFACT_URL:-}" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  printf '\n📦 stilt reports and logs: [%s](%s)\n' "${ARTIFACT_NAME:-stilt-reports}" "$ARTIFACT_URL" >>"$GITHUB_STEP_SUMMARY"
fi
