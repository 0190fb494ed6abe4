#!/bin/bash
# The ci job's `cluster: kind`: a kind cluster with a local registry, created by ctlptl (both
# built with `go install` when missing), so stilt pushes images where the cluster pulls them.
set -eu
gobin=$(go env GOPATH)/bin
export PATH="$gobin:$PATH"
echo "export PATH=\"$gobin:\$PATH\"" >>"$BASH_ENV"
if ! command -v kind >/dev/null 2>&1; then go install sigs.k8s.io/kind@latest; fi
if ! command -v ctlptl >/dev/null 2>&1; then go install github.com/tilt-dev/ctlptl/cmd/ctlptl@latest; fi
ctlptl create cluster kind --registry=ctlptl-registry
