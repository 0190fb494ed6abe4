#!/usr/bin/env bash
# Copies the post helper (ci-templates/github/post) into the workspace, where a composite
# action's `uses: ./…` step can find it (local action paths are relative to the workspace).
set -euo pipefail
dest=$GITHUB_WORKSPACE/.stilt-action/post
mkdir -p "$dest"
cp "$GITHUB_ACTION_PATH"/ci-templates/github/post/* "$dest/"
