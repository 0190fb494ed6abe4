#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries used by scripts/test-env from Go modules:
#   kube-apiserver, kube-controller-manager, kube-scheduler  (k8s.io/kubernetes, replace-directive wrapper)
#   etcd                                                     (go.etcd.io/etcd/server/v3, wrapper module)
#   kwok, kwokctl                                            (sigs.k8s.io/kwok, go install)
#   kubectl or kubelet, alone, when STILT_BUILD_ONLY=kubectl|kubelet (same wrapper; kubectl for machines without
#   one, kubelet for the real node of `scripts/test-env up --real-node`)
# Usage: build.sh OUT_DIR K8S_VERSION ETCD_VERSION KWOK_VERSION
# Writes into OUT_DIR atomically: binaries are built in OUT_DIR.tmp.$$ and the directory is renamed at the end.
# Each wrapper module lives in its own temp dir (never mix them: MVS drift breaks the k8s build).
set -euo pipefail

out=$1 k8s=$2 etcd=$3 kwok=$4
k8s=${k8s#v}
minor=$(echo "$k8s" | cut -d. -f2)
staging="v0.${k8s#1.}"
tmp="$out.tmp.$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/stilt-test-env-build.XXXXXX")
trap 'rm -rf "$work" "$tmp"' EXIT
mkdir -p "$tmp"

ts() { date +%s; }
log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

build_k8s() {
  local w="$work/k8s" t0 modfile m ld v pkgs
  t0=$(ts); mkdir -p "$w"; cd "$w"
  go mod init local/stilt-k8s-build >/dev/null 2>&1
  # k8s.io/kubernetes's own go.mod exactly as the module proxy serves it; its replace block lists the staging modules.
  modfile=$(go mod download -json "k8s.io/kubernetes@v$k8s" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -s "$modfile" ] || { log "cannot download k8s.io/kubernetes@v$k8s"; return 1; }
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*#\1#p' "$modfile"); do
    go mod edit -replace="$m=$m@$staging"
  done
  pkgs=${STILT_K8S_PKGS:-"k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler"}
  # shellcheck disable=SC2046
  go get $(for p in $pkgs; do echo "$p@v$k8s"; done) >/dev/null
  ld="-s -w -buildid="
  for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $v.gitVersion=v$k8s -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
    ld+=" -X $v.gitCommit=0000000000000000000000000000000000000000 -X $v.buildDate=1970-01-01T00:00:00Z"
  done
  # shellcheck disable=SC2086
  go build -trimpath -tags=selinux,notest -ldflags="$ld" -o "$tmp/" $pkgs
  log "k8s v$k8s built in $(( $(ts) - t0 ))s"
}

build_etcd() {
  local w="$work/etcd" t0
  t0=$(ts); mkdir -p "$w"; cd "$w"
  go mod init local/stilt-etcd-build >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$etcd" >/dev/null
  go build -trimpath -ldflags="-s -w -buildid=" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
  log "etcd $etcd built in $(( $(ts) - t0 ))s"
}

build_kwok() {
  local t0
  t0=$(ts)
  GOBIN="$tmp" go install -trimpath -ldflags="-s -w -buildid=" \
    "sigs.k8s.io/kwok/cmd/kwok@$kwok" "sigs.k8s.io/kwok/cmd/kwokctl@$kwok"
  log "kwok $kwok built in $(( $(ts) - t0 ))s"
}

t0=$(ts)
case "${STILT_BUILD_ONLY:-}" in
kubectl | kubelet)
  only=$STILT_BUILD_ONLY
  log "building $only v$k8s into $out; go: $(go version)"
  STILT_K8S_PKGS=k8s.io/kubernetes/cmd/$only build_k8s
  "$tmp/$only" --version 2>/dev/null || "$tmp/$only" version --client
  rm -rf "$out"
  mv "$tmp" "$out"
  log "$only built in $(( $(ts) - t0 ))s -> $out"
  exit 0
  ;;
"") ;;
*) log "STILT_BUILD_ONLY=$STILT_BUILD_ONLY: expected kubectl or kubelet"; exit 2 ;;
esac
log "building into $out (k8s v$k8s, etcd $etcd, kwok $kwok); go: $(go version)"
# etcd and kwok are small; build them alongside k8s so their downloads overlap the big compile.
( build_etcd ) > "$work/etcd.log" 2>&1 & etcd_pid=$!
( build_kwok ) > "$work/kwok.log" 2>&1 & kwok_pid=$!
rc=0
( build_k8s ) || rc=$?
wait "$etcd_pid" || { log "etcd build failed:"; cat "$work/etcd.log"; rc=1; }
cat "$work/etcd.log"
wait "$kwok_pid" || { log "kwok build failed:"; cat "$work/kwok.log"; rc=1; }
cat "$work/kwok.log"
[ "$rc" = 0 ] || { log "build failed"; exit 1; }

for b in kube-apiserver kube-controller-manager kube-scheduler etcd kwok kwokctl; do
  [ -x "$tmp/$b" ] || { log "missing $b after build"; exit 1; }
done
"$tmp/kube-apiserver" --version
"$tmp/etcd" --version | sed -n 1p
"$tmp/kwok" --version 2>/dev/null | sed -n 1p || true
# kwok's default stage manifests come from the module cache; keep a copy with the binaries.
moddir=$(cd "$work" && go env GOMODCACHE)/sigs.k8s.io/kwok@$kwok
if [ -d "$moddir/kustomize/stage" ]; then
  mkdir -p "$tmp/kwok-stages" && cp -r "$moddir/kustomize/stage/." "$tmp/kwok-stages/" && chmod -R u+w "$tmp/kwok-stages"
fi
echo "k8s=v$k8s etcd=$etcd kwok=$kwok go=$(go env GOVERSION) built=$(date -u +%FT%TZ) seconds=$(( $(ts) - t0 ))" > "$tmp/BUILD-INFO"
rm -rf "$out"
mv "$tmp" "$out"
log "all binaries built in $(( $(ts) - t0 ))s -> $out"
