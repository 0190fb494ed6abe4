#!/usr/bin/env bash
# Smoke tests for scripts/test-env: the Docker Engine, the registry, and the Kubernetes control plane with its
# kwok fault simulations. Needs a running environment (`scripts/test-env up`); FAILS (never skips) without one.
# Prints `N passed, M failed` as its last line; exits non-zero if any check failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
eval "$("$ROOT/scripts/test-env" env)"

PASSED=0 FAILED=0 FAILURES=()
NS=stilt-smoke-$$-$RANDOM
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

pass() { PASSED=$((PASSED + 1)); printf 'ok    %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); FAILURES+=("$1"); printf 'FAIL  %s\n      %s\n' "$1" "$2"; }
# check NAME FUNCTION: runs FUNCTION; its stderr/stdout go to a file shown on failure.
check() {
  local name=$1 fn=$2 out=$WORK/out
  if "$fn" >"$out" 2>&1; then pass "$name"; else fail "$name" "$(tail -15 "$out" | sed '2,$s/^/      /')"; fi
}
finish() {
  echo
  [ "$FAILED" = 0 ] || printf 'failed checks:\n%s\n' "$(printf '  - %s\n' "${FAILURES[@]}")"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
  exit $?
}

k() { kubectl --context "$STILT_TEST_KUBE_CONTEXT" -n "$NS" "$@"; }
# poll SECONDS COMMAND...: retries COMMAND every 0.5s until it succeeds.
poll() {
  local secs=$1 _; shift
  for _ in $(seq 1 $((secs * 2))); do "$@" && return 0; sleep 0.5; done
  echo "timed out after ${secs}s: $*"; "$@"; return 1
}
# jq-like assertions with python: pyj 'PYTHON-EXPR' < json   (o = parsed object); prints the value, fails if falsy
pyj() { python3 -c 'import json,sys; o=json.load(sys.stdin); v=eval("(" + sys.argv[1] + ")"); print(json.dumps(v)); sys.exit(0 if v else 1)' "$1"; }
pod_of() { k get pods -l "$1" -o json | python3 -c 'import json,sys; i=json.load(sys.stdin)["items"]; print(i[0]["metadata"]["name"] if i else "")'; }
# podj SELECTOR 'EXPR': EXPR over the first pod matching SELECTOR
podj() { local p; p=$(pod_of "$1"); [ -n "$p" ] || { echo "no pod for $1"; return 1; }; k get pod "$p" -o json | pyj "$2"; }
cond() { echo "[c for c in o['status'].get('conditions',[]) if c['type']=='$1'][0]"; }

# ---- preflight: the environment must be up --------------------------------------------------------------------
if ! "$ROOT/scripts/test-env" status >"$WORK/status" 2>&1; then
  cat "$WORK/status"
  fail "test environment is up" "scripts/test-env status failed: run 'scripts/test-env up' first (see docs/test-env.md)"
  finish
fi
pass "test environment is up"

# ---- Docker Engine ---------------------------------------------------------------------------------------------
SOCK=${DOCKER_HOST#unix://}
t_engine_api() {
  curl -fsS --unix-socket "$SOCK" http://localhost/_ping | grep -qx OK &&
    curl -fsS --unix-socket "$SOCK" http://localhost/version | pyj 'o["ApiVersion"] >= "1.41" and o["Os"] == "linux"'
}
t_build_run() {
  # build through the Engine API (POST /build with a tar context), then run the image
  local ctx=$WORK/ctx tag=stilt-smoke/built:$NS
  mkdir -p "$ctx"
  printf 'FROM %s\nRUN echo built-by-engine-api > /built.txt\nCMD ["cat", "/built.txt"]\n' "$STILT_TEST_BASE_IMAGE" >"$ctx/Dockerfile"
  tar -C "$ctx" -cf "$WORK/ctx.tar" . &&
    curl -fsS --unix-socket "$SOCK" -X POST -H 'Content-Type: application/x-tar' --data-binary "@$WORK/ctx.tar" \
      "http://localhost/v1.41/build?t=$tag&rm=1&forcerm=1" >"$WORK/build.json" &&
    ! grep -q '"errorDetail"' "$WORK/build.json" || { cat "$WORK/build.json"; return 1; }
  local out; out=$(docker run --rm "$tag") || return 1
  docker rmi "$tag" >/dev/null
  [ "$out" = built-by-engine-api ] || { echo "unexpected output: $out"; return 1; }
}
t_bridge_network() {
  local net=stilt-smoke-net-$$ out
  docker network create --driver bridge "$net" >/dev/null || return 1
  out=$(docker run --rm --network "$net" "$STILT_TEST_BASE_IMAGE" ip -4 -o addr show eth0)
  docker network rm "$net" >/dev/null
  echo "$out"; [[ "$out" == *"inet "* ]]
}
# The default bridge BuildKit's RUN steps need: containers get an address on it, and nothing beyond it is
# reachable (the containers' gateway is an address nobody has). Probed with this host's own address on another
# interface, so a broken isolation would still send nothing off the machine.
t_default_bridge() {
  local out host_ip
  docker network inspect bridge >/dev/null || { echo "no default bridge network (dockerd --bridge=none?)"; return 1; }
  host_ip=$(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | grep -v '^198\.18\.' | head -1)
  out=$(docker run --rm -e HOST_IP="${host_ip:-127.0.0.2}" "$STILT_TEST_BASE_IMAGE" sh -c \
    'ip -4 -o addr show eth0; ip route; ping -c1 -W1 "$HOST_IP" >/dev/null 2>&1 && echo "LEAK: reached $HOST_IP" || echo isolated')
  echo "$out"; [[ "$out" == *"inet 198.18."* ]] && [[ "$out" == *isolated* ]]
}
t_registry_push_pull() {
  local ref=$STILT_TEST_REGISTRY/stilt-smoke/busybox:$NS d1 d2
  docker tag "$STILT_TEST_BASE_IMAGE" "$ref" && docker push "$ref" >/dev/null || return 1
  d1=$(docker image inspect --format '{{index .RepoDigests 0}}' "$ref")
  docker rmi "$ref" >/dev/null && docker pull "$ref" >/dev/null || return 1
  d2=$(docker image inspect --format '{{index .RepoDigests 0}}' "$ref")
  curl -fsS "http://$STILT_TEST_REGISTRY/v2/stilt-smoke/busybox/tags/list" | pyj "'$NS' in o['tags']" || return 1
  echo "pushed $d1 pulled $d2"; [ -n "$d1" ] && [ "$d1" = "$d2" ]
}
check "docker: Engine API answers (/_ping, /version API >= 1.41)" t_engine_api
check "docker: build via Engine API from $STILT_TEST_BASE_IMAGE and run it" t_build_run
check "docker: user-defined bridge network" t_bridge_network
check "docker: default bridge (for BuildKit RUN steps), isolated" t_default_bridge
check "registry: push to and pull from $STILT_TEST_REGISTRY" t_registry_push_pull

# ---- Kubernetes ------------------------------------------------------------------------------------------------
t_version() { kubectl --context "$STILT_TEST_KUBE_CONTEXT" version -o json 2>/dev/null | pyj "o['serverVersion']['gitVersion'] == 'v$STILT_TEST_K8S_VERSION'"; }
t_components() {
  local c
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller; do
    grep -q "^  $c  *running" <("$ROOT/scripts/test-env" status) || { echo "$c not running"; return 1; }
  done
  kubectl --context "$STILT_TEST_KUBE_CONTEXT" get --raw /readyz
}
t_node() { kubectl --context "$STILT_TEST_KUBE_CONTEXT" get node "$STILT_TEST_KUBE_NODE" -o json | pyj "[c for c in o['status']['conditions'] if c['type']=='Ready'][0]['status'] == 'True' and o['status']['addresses'][0]['address'] == '127.0.0.1'"; }
t_contexts() {
  local s1 s2
  s1=$(kubectl config view -o jsonpath="{.clusters[?(@.name=='$STILT_TEST_KUBE_CONTEXT')].cluster.server}")
  s2=$(kubectl config view -o jsonpath="{.clusters[?(@.name=='$STILT_TEST_KUBE_CONTEXT_REMOTE')].cluster.server}")
  echo "$STILT_TEST_KUBE_CONTEXT -> $s1; $STILT_TEST_KUBE_CONTEXT_REMOTE -> $s2"
  [[ "$STILT_TEST_KUBE_CONTEXT" == kind-* ]] && [[ "$STILT_TEST_KUBE_CONTEXT_REMOTE" != kind-* ]] &&
    [ "$s1" = "$STILT_TEST_KUBE_SERVER" ] && [ "$s2" = "$s1" ] &&
    [ "$(kubectl config current-context)" = "$STILT_TEST_KUBE_CONTEXT" ] &&
    kubectl --context "$STILT_TEST_KUBE_CONTEXT_REMOTE" get ns default -o name
}
t_registry_cm() {
  kubectl --context "$STILT_TEST_KUBE_CONTEXT" -n kube-public get configmap local-registry-hosting -o json |
    pyj "'host: \"$STILT_TEST_REGISTRY\"' in o['data']['localRegistryHosting.v1']"
}
check "k8s: apiserver is v$STILT_TEST_K8S_VERSION" t_version
check "k8s: etcd, apiserver, controller-manager, scheduler, kwok running; /readyz ok" t_components
check "k8s: fake node $STILT_TEST_KUBE_NODE Ready with loopback address" t_node
check "k8s: contexts $STILT_TEST_KUBE_CONTEXT and $STILT_TEST_KUBE_CONTEXT_REMOTE reach the same apiserver" t_contexts
check "k8s: KEP-1755 ConfigMap kube-public/local-registry-hosting names the registry" t_registry_cm

kubectl --context "$STILT_TEST_KUBE_CONTEXT" create namespace "$NS" >/dev/null
poll 30 k get serviceaccount default >/dev/null 2>&1

IMG=$STILT_TEST_REGISTRY/stilt-smoke/busybox:$NS
pod_yaml() { # pod_yaml NAME FAULT-LABEL(or "") [restartPolicy]
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {app: $1$([ -n "$2" ] && echo ", stilt.test/fault: $2")}
spec:
  restartPolicy: ${3:-Always}
  containers:
  - {name: app, image: $IMG, command: [sleep, "3600"]}
EOF
}
job_yaml() { # job_yaml NAME FAULT-LABEL(or "") BACKOFF-LIMIT
  cat <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  backoffLimit: $3
  template:
    metadata:
      labels: {app: $1$([ -n "$2" ] && echo ", stilt.test/fault: $2")}
    spec:
      restartPolicy: Never
      containers:
      - {name: app, image: $IMG, command: [sh, -c, "echo done"]}
EOF
}
# Create every workload first, then check them: their timers run in parallel.
k apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: $IMG
        ports: [{containerPort: 8080}]
EOF
job_yaml ok-job "" 0 | k apply -f - >/dev/null
job_yaml failing-job fail 1 | k apply -f - >/dev/null
pod_yaml crashloop crashloop | k apply -f - >/dev/null
pod_yaml imagepull image-pull | k apply -f - >/dev/null
pod_yaml unschedulable unschedulable | k apply -f - >/dev/null
pod_yaml neverready never-ready | k apply -f - >/dev/null

t_deployment() {
  k rollout status deployment/web --timeout=60s || return 1
  k get pods -l app=web -o json | pyj "len(o['items']) == 2 and all(
    p['status']['phase'] == 'Running' and
    [c for c in p['status']['conditions'] if c['type']=='Ready'][0]['status'] == 'True' and
    [c for c in p['status']['conditions'] if c['type']=='PodScheduled'][0]['status'] == 'True' and
    p['spec']['nodeName'] == '$STILT_TEST_KUBE_NODE' and p['status'].get('podIP') and
    all(s['ready'] and s['started'] and 'running' in s['state'] and s['restartCount'] == 0 and
        s['containerID'].startswith('containerd://') and s['image'] == '$IMG' for s in p['status']['containerStatuses'])
    for p in o['items'])"
}
t_job() {
  k wait --for=condition=Complete job/ok-job --timeout=60s || return 1
  podj app=ok-job "o['status']['phase'] == 'Succeeded' and o['status']['containerStatuses'][0]['state']['terminated']['exitCode'] == 0 and o['status']['containerStatuses'][0]['state']['terminated']['reason'] == 'Completed'"
}
crash_grown() { [ "$(crash_restarts)" -gt "$CRASH_R1" ]; }
crash_restarts() { podj app=crashloop "o['status']['containerStatuses'][0]['restartCount']" 2>/dev/null | tr -d '"'; }
t_crashloop() {
  poll 30 podj app=crashloop "o['status']['containerStatuses'][0]['state'].get('waiting', {}).get('reason') == 'CrashLoopBackOff'" >/dev/null || return 1
  local r1 r2
  r1=$(crash_restarts)
  podj app=crashloop "o['status']['phase'] == 'Running' and
    (s := o['status']['containerStatuses'][0]) and s['ready'] is False and s['started'] is False and
    s['restartCount'] >= 1 and
    s['lastState']['terminated']['exitCode'] == 1 and s['lastState']['terminated']['reason'] == 'Error' and
    s['state']['waiting']['message'].startswith('back-off ') and 'restarting failed container=app' in s['state']['waiting']['message'] and
    $(cond Ready)['status'] == 'False' and $(cond Ready)['reason'] == 'ContainersNotReady'" || return 1
  # restartCount grows
  CRASH_R1=$r1 poll 20 crash_grown || return 1
  r2=$(crash_restarts)
  echo "restartCount $r1 -> $r2"
}
t_imagepull() {
  local seen="" r _
  for _ in $(seq 1 60); do
    r=$(podj app=imagepull "o['status'].get('containerStatuses', [{}])[0].get('state', {}).get('waiting', {}).get('reason', '')" 2>/dev/null | tr -d '"')
    [ -n "$r" ] && [[ "$seen" != *"$r" ]] && seen="$seen $r"
    [[ "$seen" == *"ErrImagePull ImagePullBackOff"* ]] && break
    sleep 0.5
  done
  echo "waiting reasons seen in order:$seen"
  [[ "$seen" == *"ErrImagePull ImagePullBackOff"* ]] || return 1
  podj app=imagepull "o['status']['phase'] == 'Pending' and
    (s := o['status']['containerStatuses'][0]) and s['ready'] is False and s['restartCount'] == 0 and
    s['state']['waiting']['message'].startswith('Back-off pulling image \"$IMG\"') and
    $(cond Ready)['status'] == 'False'"
}
t_unschedulable() {
  poll 30 podj app=unschedulable "$(cond PodScheduled)['reason'] == 'Unschedulable'" >/dev/null || return 1
  podj app=unschedulable "o['status']['phase'] == 'Pending' and not o['spec'].get('nodeName') and
    $(cond PodScheduled)['status'] == 'False' and
    \"didn't match Pod's node affinity/selector\" in $(cond PodScheduled)['message']"
}
t_failing_job() {
  k wait --for=condition=Failed job/failing-job --timeout=90s || return 1
  k get job failing-job -o json | pyj "o['status'].get('failed') == 2 and
    [c for c in o['status']['conditions'] if c['type']=='Failed'][0]['reason'] == 'BackoffLimitExceeded'" || return 1
  k get pods -l app=failing-job -o json | pyj "len(o['items']) == 2 and all(
    p['status']['phase'] == 'Failed' and
    p['status']['containerStatuses'][0]['state']['terminated']['exitCode'] == 1 and
    p['status']['containerStatuses'][0]['state']['terminated']['reason'] == 'Error' and
    [c for c in p['status']['conditions'] if c['type']=='Ready'][0]['reason'] == 'PodFailed'
    for p in o['items'])"
}
t_neverready() {
  poll 30 podj app=neverready "o['status'].get('phase') == 'Running'" >/dev/null || return 1
  sleep 2 # it must stay unready
  podj app=neverready "(s := o['status']['containerStatuses'][0]) and s['ready'] is False and s['started'] is True and
    'running' in s['state'] and s['restartCount'] == 0 and
    $(cond Ready)['status'] == 'False' and $(cond Ready)['reason'] == 'ContainersNotReady' and
    $(cond ContainersReady)['status'] == 'False' and $(cond Ready)['message'] == 'containers with unready status: [app]'"
}
t_logs() {
  local p; p=$(pod_of app=web)
  k logs "$p" | tee /dev/stderr | grep -q 'stilt-test-env: container started' &&
    poll 10 previous_log "$p"
}
# kwok once answered `--previous` with nothing right after the pod started (1 run in many): retried, and
# what it answered is shown.
previous_log() { k logs "$1" --previous 2>&1 | tee /dev/stderr | grep -q 'previous container instance exited'; }
# ---- the real node (scripts/test-env up --real-node): kubelet + containerd, pods really pulled and run ----------
# Runs when the real node is registered, and is required (fails when it is missing) with STILT_TEST_ENV_REAL_NODE=1.
RN=$STILT_TEST_KUBE_REAL_NODE
real_node_registered() { kubectl --context "$STILT_TEST_KUBE_CONTEXT" get node "$RN" >/dev/null 2>&1; }
# rn_pod_yaml NAME IMAGE COMMAND-JSON [EXTRA-CONTAINER-YAML]: a pod that tolerates the real node's taint and selects it
rn_pod_yaml() {
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {app: $1}}
spec:
  nodeSelector: {$STILT_TEST_REAL_NODE_LABEL: "true"}
  tolerations: [{key: $STILT_TEST_REAL_NODE_LABEL, operator: Exists, effect: NoSchedule}]
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: $2
    command: $3
${4:-}
EOF
}
RN_IMG=$STILT_TEST_REGISTRY/${STILT_TEST_BASE_IMAGE%:*}:${STILT_TEST_BASE_IMAGE##*:}
rn_lease_is_kubelets() {
  kubectl --context "$STILT_TEST_KUBE_CONTEXT" -n kube-node-lease get lease "$RN" -o json 2>/dev/null | pyj "o['spec']['holderIdentity'] == '$RN'"
}
t_rn_node() {
  kubectl --context "$STILT_TEST_KUBE_CONTEXT" get node "$RN" -o json | pyj "
    [c for c in o['status']['conditions'] if c['type']=='Ready'][0]['status'] == 'True' and
    o['metadata']['labels'].get('$STILT_TEST_REAL_NODE_LABEL') == 'true' and
    {'key': '$STILT_TEST_REAL_NODE_LABEL', 'value': 'true', 'effect': 'NoSchedule'} in o['spec'].get('taints', []) and
    o['status']['nodeInfo']['containerRuntimeVersion'].startswith('containerd://1.') and
    o['status']['nodeInfo']['kubeletVersion'] == 'v$STILT_TEST_K8S_VERSION' and
    'kwok.x-k8s.io/node' not in o['metadata'].get('annotations', {})" || return 1
  # the kubelet (not kwok) renews the node's lease; it creates it a few seconds after registering
  poll 30 rn_lease_is_kubelets
}
t_rn_run() {
  # busybox pulled from the registry; logs, a readiness probe and exec all go through the real kubelet
  k wait --for=condition=Ready pod/rn-web --timeout=90s || { k describe pod rn-web | tail -20; return 1; }
  k get pod rn-web -o json | pyj "o['spec']['nodeName'] == '$RN' and o['status']['phase'] == 'Running' and
    (s := o['status']['containerStatuses'][0]) and s['ready'] and s['restartCount'] == 0 and
    s['imageID'].startswith('$STILT_TEST_REGISTRY/${STILT_TEST_BASE_IMAGE%:*}@sha256:') and
    s['containerID'].startswith('containerd://') and o['status']['podIP'].count('.') == 3" || return 1
  k logs rn-web | tee /dev/stderr | grep -qx "hi from $RN" || return 1
  [ "$(k exec rn-web -- cat /www/index.html)" = "served by busybox httpd" ]
}
t_rn_unready() {
  # the probe hits a port nothing listens on: Running, never Ready
  poll 60 podj app=rn-unready "o['status'].get('phase') == 'Running'" >/dev/null || return 1
  sleep 3
  podj app=rn-unready "(s := o['status']['containerStatuses'][0]) and s['ready'] is False and 'running' in s['state'] and
    $(cond Ready)['status'] == 'False'" || return 1
  k get events --field-selector involvedObject.name=rn-unready -o json | pyj "any(e['reason'] == 'Unhealthy' and
    e['message'].startswith('Readiness probe failed') for e in o['items'])"
}
t_rn_crash() {
  poll 90 podj app=rn-crash "(s := o['status']['containerStatuses'][0]) and s['restartCount'] >= 1 and
    s.get('lastState', {}).get('terminated', {}).get('exitCode') == 3" >/dev/null || { podj app=rn-crash "o['status']"; return 1; }
  podj app=rn-crash "(s := o['status']['containerStatuses'][0]) and s['lastState']['terminated']['reason'] == 'Error'"
}
t_rn_pull_error() {
  # a registry host nothing listens on: containerd's real pull error, then kubelet's back-off
  local seen="" r _
  for _ in $(seq 1 120); do
    r=$(podj app=rn-badpull "o['status'].get('containerStatuses', [{}])[0].get('state', {}).get('waiting', {}).get('reason', '')" 2>/dev/null | tr -d '"')
    [ -n "$r" ] && [[ "$seen" != *"$r" ]] && seen="$seen $r"
    [[ "$seen" == *"ErrImagePull"*"ImagePullBackOff"* ]] && break
    sleep 0.5
  done
  echo "waiting reasons seen in order:$seen"
  [[ "$seen" == *"ErrImagePull"*"ImagePullBackOff"* ]] || return 1
  k get events --field-selector involvedObject.name=rn-badpull -o json | pyj "any(e['reason'] == 'Failed' and
    '127.0.0.1:9' in e['message'] and 'connection refused' in e['message'] for e in o['items'])"
}
RN_ON=0
if real_node_registered || [ "${STILT_TEST_ENV_REAL_NODE:-0}" = 1 ]; then
  RN_ON=1
  rn_pod_yaml rn-web "$RN_IMG" '[sh, -c, "echo hi from '"$RN"'; mkdir -p /www; echo served by busybox httpd > /www/index.html; exec httpd -f -p 8080 -h /www"]' \
    '    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}' | k apply -f - >/dev/null
  rn_pod_yaml rn-unready "$RN_IMG" '[sleep, "3600"]' \
    '    readinessProbe: {httpGet: {path: /, port: 8081}, periodSeconds: 1}' | k apply -f - >/dev/null
  rn_pod_yaml rn-crash "$RN_IMG" '[sh, -c, "echo crashing; exit 3"]' | k apply -f - >/dev/null
  rn_pod_yaml rn-badpull "127.0.0.1:9/stilt-smoke/nothing:$NS" '[sh]' | k apply -f - >/dev/null
fi

check "k8s: Deployment rolls out, its pods Running/Ready with kubelet-like status" t_deployment
check "k8s: kubectl logs on a fake container (kwok serves it on 127.0.0.1)" t_logs
check "k8s: Job Complete, its pod Succeeded with exit code 0" t_job
check "fault crashloop: CrashLoopBackOff, lastState.terminated exit 1, restartCount grows" t_crashloop
check "fault image-pull: ErrImagePull then ImagePullBackOff, phase Pending" t_imagepull
check "fault unschedulable: PodScheduled=False reason Unschedulable (real scheduler)" t_unschedulable
check "fault fail: Job fails until backoffLimit, Failed/BackoffLimitExceeded" t_failing_job
check "fault never-ready: Running, started, Ready=False ContainersNotReady" t_neverready

if [ "$RN_ON" = 1 ]; then
  check "real node: $RN Ready, tainted, labelled, kubelet v$STILT_TEST_K8S_VERSION + containerd, its lease not kwok's" t_rn_node
  check "real node: pod pulls $RN_IMG, runs httpd, readiness probe passes, kubectl logs/exec reach the container" t_rn_run
  check "real node: a failing readiness probe keeps a running pod unready (Unhealthy event)" t_rn_unready
  check "real node: sh -c 'exit 3' restarts, lastState.terminated exit code 3" t_rn_crash
  check "real node: a wrong registry host gives containerd's ErrImagePull, then ImagePullBackOff" t_rn_pull_error
fi

if [ "$FAILED" != 0 ]; then
  echo "--- namespace $NS kept for inspection (kubectl --context $STILT_TEST_KUBE_CONTEXT -n $NS get pods -o yaml)"
else
  kubectl --context "$STILT_TEST_KUBE_CONTEXT" delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
  docker rmi "$IMG" >/dev/null 2>&1 || true
fi
finish
