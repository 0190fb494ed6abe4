# shellcheck shell=bash
# The test environment's real node (`scripts/test-env up --real-node`), sourced by scripts/test-env.
#
# Beside kwok's fake node, one real node joins the already-running control plane: Debian's containerd (its CRI
# plugin, its own config, socket, root and state dirs, not the containerd dockerd runs) and a kubelet built from
# the same Kubernetes modules as the control plane, registered as $REAL_NODE with a NoSchedule taint and a label,
# so only pods that tolerate the taint and select the label run there (docs/test-env.md).
#
# Nothing of it touches the rest of the environment or the host's settings:
# - containerd and the kubelet run in a mount namespace of their own ($RN_DIR/mnt.ns): their mounts (overlay
#   rootfs, volumes, pod netns files) stay there; /var/log and /var/lib are directories of ours there; the kernel
#   tunables the kubelet insists on (vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1, ...) are
#   files of ours bound over /proc/sys there, so the host's values never change (protectKernelDefaults: true, the
#   kubelet only reads them);
# - pods get a veth on the bridge $RN_BRIDGE with an address on $RN_POD_SUBNET and no other route: nothing a pod
#   sends can leave this machine (no default route, no masquerading, an empty resolv.conf);
# - the node's address ($RN_NODE_IP, the kubelet's listener; the kubelet refuses a loopback node IP) sits on a
#   veth of ours that pods have no route to;
# - the kubelet's cgroups live below $RN_CGROUP; no iptables rules (makeIPTablesUtilChains: false, no portmap);
# - kwok must not play this node or its pods: scripts/test-env starts kwok with
#   --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake, which only the fake node has. A cluster
#   created before that (kwok --manage-all-nodes=true) is refused: such a kwok patches the status of every pod on
#   every node (kwok v0.7.0's pod controller played the real node's pods although it did not hold the node's
#   lease), racing the kubelet.

REAL_NODE=${STILT_TEST_ENV_REAL_NODE_NAME:-stilt-real-0}
KUBELET_PORT=${STILT_TEST_ENV_KUBELET_PORT:-29250}
KUBELET_HEALTHZ_PORT=${STILT_TEST_ENV_KUBELET_HEALTHZ_PORT:-29248}
RN_POD_SUBNET=${STILT_TEST_ENV_REAL_NODE_POD_SUBNET:-10.244.77.0/24} # a /24: the bridge takes .1
RN_NODE_IP=${STILT_TEST_ENV_REAL_NODE_IP:-10.244.76.1}
RN_BRIDGE=${STILT_TEST_ENV_REAL_NODE_BRIDGE:-stilt-rn0}
RN_DIR=$STATE/real-node
RN_NS=$RN_DIR/mnt.ns
RN_SOCK=$RN_DIR/containerd.sock
RN_CGROUP=/$REAL_NODE
RN_GATEWAY=${RN_POD_SUBNET%.*/*}.1
RN_VETH=${RN_BRIDGE}n # host end (carries $RN_NODE_IP); its peer is ${RN_VETH}p
REAL_NODE_LABEL=stilt.dev/real-node
REAL_NODE_TAINT="$REAL_NODE_LABEL=true:NoSchedule"
PAUSE_IMAGE=$REGISTRY/stilt-test/pause:3.10
PAUSE_IMAGE_REV=1 # bump when pause.c or the image recipe changes
BASE_IMAGE_IN_REGISTRY=$REGISTRY/${BASE_IMAGE%:*}:${BASE_IMAGE##*:}
KUBELET_DIR=$CACHE/kubelet-v${K8S_VERSION#v}
KUBELET_BIN=$KUBELET_DIR/kubelet
# the kernel tunables kubelet 1.33 requires (pkg/kubelet/cm/container_manager_linux.go setupKernelTunables)
RN_SYSCTLS="vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000"

rn_in_ns() { nsenter --mount="$RN_NS" -- "$@"; }
rn_ctr() { ctr --address "$RN_SOCK" --namespace k8s.io "$@"; }
rn_ns_ok() { [ -e "$RN_NS" ] && awk -v p="$RN_NS" '$5 == p {f=1} END {exit !f}' /proc/self/mountinfo; }
containerd_ok() { [ -S "$RN_SOCK" ] && ctr --address "$RN_SOCK" version >/dev/null 2>&1; }
kubelet_healthz_ok() { curl -fsS --max-time 3 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz" 2>/dev/null | grep -q ok; }
real_node_ready() {
  [ "$(kc get node "$REAL_NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
real_node_ok() { pid_alive rn-containerd && pid_alive rn-kubelet && containerd_ok && kubelet_healthz_ok && real_node_ready; }
real_node_started() { [ -d "$RN_DIR" ]; }

# ---- kubelet binary: built like the control plane (scripts/lib/test-env/build.sh), cached per version -----------
KUBELET_BUILD_PID=
start_kubelet_build() {
  [ -x "$KUBELET_BIN" ] && return 0
  [ -z "$KUBELET_BUILD_PID" ] || return 0
  command -v go >/dev/null || die "go is needed to build the kubelet (k8s v$K8S_VERSION)"
  mkdir -p "$CACHE" "$LOGS"
  log "real-node: building kubelet v${K8S_VERSION#v} in the background (cold: ~10-15 min on 2 cores, niced; log: $LOGS/build-kubelet.log)"
  (
    exec 9>"$CACHE/.build-kubelet.lock"
    flock 9
    [ -x "$KUBELET_BIN" ] || STILT_BUILD_ONLY=kubelet nice -n 10 "$LIB/build.sh" "$KUBELET_DIR" "$K8S_VERSION" "$ETCD_VERSION" "$KWOK_VERSION"
  ) >"$LOGS/build-kubelet.log" 2>&1 8>&- &
  KUBELET_BUILD_PID=$!
}
ensure_kubelet() {
  start_kubelet_build
  if [ -n "$KUBELET_BUILD_PID" ]; then
    local t; t=$(now_ms)
    wait "$KUBELET_BUILD_PID" || { tail -40 "$LOGS/build-kubelet.log" >&2; die "building the kubelet failed (full log: $LOGS/build-kubelet.log)"; }
    KUBELET_BUILD_PID=
    log "real-node: kubelet ready after waiting $(elapsed_since "$t")s -> $KUBELET_DIR"
  fi
  [ -x "$KUBELET_BIN" ] || die "no kubelet at $KUBELET_BIN after the build (log: $LOGS/build-kubelet.log)"
}

# ---- images in the registry: the base image and the pod sandbox (pause) image -----------------------------------
registry_has() { # registry_has REPO TAG
  curl -fsS --max-time 5 -o /dev/null -I -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/$1/manifests/$2" 2>/dev/null
}
push_real_node_images() {
  local t; t=$(now_ms)
  local repo=${BASE_IMAGE%:*} tag=${BASE_IMAGE##*:} have
  if ! registry_has "$repo" "$tag"; then
    dk tag "$BASE_IMAGE" "$BASE_IMAGE_IN_REGISTRY" && dk push "$BASE_IMAGE_IN_REGISTRY" >"$LOGS/push-base-image.log" 2>&1 ||
      { cat "$LOGS/push-base-image.log" >&2; die "pushing $BASE_IMAGE_IN_REGISTRY failed"; }
    log "real-node: pushed $BASE_IMAGE_IN_REGISTRY"
  fi
  repo=${PAUSE_IMAGE#"$REGISTRY"/}; tag=${repo##*:}; repo=${repo%:*}
  have=$(dk image inspect --format '{{ index .Config.Labels "stilt.test-env.rev" }}' "$PAUSE_IMAGE" 2>/dev/null || true)
  if [ "$have" != "$PAUSE_IMAGE_REV" ]; then
    command -v gcc >/dev/null || apt_install gcc libc6-dev
    local ctx; ctx=$(mktemp -d)
    gcc -static -Os -s -o "$ctx/pause" "$LIB/pause.c" || die "compiling $LIB/pause.c failed"
    cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
LABEL stilt.test-env.rev="$PAUSE_IMAGE_REV" org.opencontainers.image.description="pod sandbox (pause) of the real node, from scripts/lib/test-env/pause.c"
EOF
    DOCKER_BUILDKIT=0 dk build -q -t "$PAUSE_IMAGE" "$ctx" >"$LOGS/pause-image.log" 2>&1 || { cat "$LOGS/pause-image.log" >&2; die "building $PAUSE_IMAGE failed"; }
    rm -rf "$ctx"
    have=
  fi
  if [ -z "$have" ] || ! registry_has "$repo" "$tag"; then
    dk push "$PAUSE_IMAGE" >"$LOGS/push-pause-image.log" 2>&1 || { cat "$LOGS/push-pause-image.log" >&2; die "pushing $PAUSE_IMAGE failed"; }
    log "real-node: built and pushed $PAUSE_IMAGE"
  fi
  log "real-node: images $BASE_IMAGE_IN_REGISTRY, $PAUSE_IMAGE in the registry ($(elapsed_since "$t")s)"
}

# ---- host side: bridge, node address, cgroups, mount namespace -------------------------------------------------
rn_network_up() {
  if ! ip link show "$RN_BRIDGE" >/dev/null 2>&1; then
    ip link add "$RN_BRIDGE" type bridge
  fi
  ip addr replace "$RN_GATEWAY/${RN_POD_SUBNET#*/}" dev "$RN_BRIDGE"
  ip link set "$RN_BRIDGE" up
  if ! ip link show "$RN_VETH" >/dev/null 2>&1; then
    ip link add "$RN_VETH" type veth peer name "${RN_VETH}p"
  fi
  ip addr replace "$RN_NODE_IP/32" dev "$RN_VETH"
  ip link set "${RN_VETH}p" up
  ip link set "$RN_VETH" up
}
rn_network_down() {
  local l
  for l in "$RN_VETH" "$RN_BRIDGE"; do
    if ip link show "$l" >/dev/null 2>&1; then ip link del "$l" 2>/dev/null || true; fi
  done
}

# every cgroup v1 hierarchy mounted below /sys/fs/cgroup (the kubelet's cgroupfs driver needs $RN_CGROUP in each)
rn_cgroup_hierarchies() { awk '$3 == "cgroup" && index($2, "/sys/fs/cgroup/") == 1 {print $2}' /proc/mounts; }
rn_cgroups_up() {
  local h
  for h in $(rn_cgroup_hierarchies); do
    mkdir -p "$h$RN_CGROUP"
    if [ -f "$h/cpuset.cpus" ]; then
      [ -n "$(cat "$h$RN_CGROUP/cpuset.cpus")" ] || cat "$h/cpuset.cpus" >"$h$RN_CGROUP/cpuset.cpus"
      [ -n "$(cat "$h$RN_CGROUP/cpuset.mems")" ] || cat "$h/cpuset.mems" >"$h$RN_CGROUP/cpuset.mems"
    fi
  done
}
# rn_cgroup_pids: every process in a cgroup below $RN_CGROUP (containers, whatever started them)
rn_cgroup_pids() {
  local h
  for h in $(rn_cgroup_hierarchies); do
    [ -d "$h$RN_CGROUP" ] && find "$h$RN_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un | while read -r p; do if alive "$p"; then echo "$p"; fi; done
}
rn_cgroups_down() {
  local h _
  for _ in 1 2 3 4 5; do
    for h in $(rn_cgroup_hierarchies); do
      [ -d "$h$RN_CGROUP" ] && find "$h$RN_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    local left=0
    for h in $(rn_cgroup_hierarchies); do [ ! -d "$h$RN_CGROUP" ] || left=1; done
    [ $left = 0 ] && return 0
    sleep 0.5
  done
  log "real-node: some cgroups below $RN_CGROUP could not be removed"
}

# A mount namespace for containerd and the kubelet, kept by a bind mount of its nsfs file at $RN_NS.
rn_ns_up() {
  rn_ns_ok && return 0
  mkdir -p "$RN_DIR/varlog" "$RN_DIR/varlib" "$RN_DIR/sysctl"
  touch "$RN_NS"
  unshare --mount="$RN_NS" --propagation private true || die "unshare --mount=$RN_NS failed"
  local s key val f
  # copies of dockerd's mounts would pin its overlays while this namespace lives
  rn_in_ns sh -c 'awk -v s="$1/docker/" "index(\$5, s) == 1 {print \$5}" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done' _ "$STATE"
  rn_in_ns mount --bind "$RN_DIR/varlog" /var/log
  # the kubelet hard-codes /var/lib/kubelet/device-plugins; nothing else in here uses /var/lib
  rn_in_ns mount --bind "$RN_DIR/varlib" /var/lib
  for s in $RN_SYSCTLS; do
    key=${s%%=*} val=${s#*=} f=$RN_DIR/sysctl/${key//\//.}
    echo "$val" >"$f"
    rn_in_ns mount --bind "$f" "/proc/sys/$key"
  done
}
rn_ns_down() {
  if rn_ns_ok; then umount "$RN_NS" 2>/dev/null || umount -l "$RN_NS" 2>/dev/null || true; fi
}
# rn_ns_pids: processes in our mount namespace (containerd, its shims, the kubelet)
rn_ns_pids() {
  rn_ns_ok || return 0
  local ino p
  ino=$(stat -L -c %i "$RN_NS" 2>/dev/null) || return 0
  for p in $({ stat -L -c '%i %n' /proc/[0-9]*/ns/mnt 2>/dev/null || true; } | awk -v i="$ino" '$1 == i {split($2, a, "/"); print a[3]}'); do
    if alive "$p"; then echo "$p"; fi
  done
}
# rn_unix_sockets_of PID...: paths of the unix sockets those processes have open
rn_unix_sockets_of() {
  [ $# -gt 0 ] || return 0
  local p inodes=
  for p in "$@"; do
    inodes+=" $(find "/proc/$p/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n' | tr '\n' ' ')"
  done
  awk -v want="$inodes" 'BEGIN {n = split(want, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1}
    NR > 1 && ($7 in w) && $8 != "" {print $8}' /proc/net/unix | sort -u
}
rn_kill_pids() { # rn_kill_pids WHAT PID...
  local what=$1 p; shift
  [ $# -gt 0 ] || return 0
  for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
  log "real-node: killed $# leftover $what process(es)"
}

# ---- configuration files ---------------------------------------------------------------------------------------
rn_write_config() {
  local pki=$KWOK_WORKDIR/clusters/$CLUSTER/pki
  mkdir -p "$RN_DIR/containerd/root" "$RN_DIR/containerd/state" "$RN_DIR/containerd/certs.d/$REGISTRY" \
    "$RN_DIR/cni/net.d" "$RN_DIR/cni/ipam" "$RN_DIR/kubelet/root" "$RN_DIR/runc" "$RN_DIR/pki"
  cp "$pki/ca.crt" "$RN_DIR/pki/ca.crt"
  cat >"$RN_DIR/containerd/config.toml" <<EOF
# containerd of the test environment's real node (scripts/lib/test-env/real-node.sh); not dockerd's.
version = 2
root = "$RN_DIR/containerd/root"
state = "$RN_DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.opt",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$RN_SOCK"
[ttrpc]
  address = "$RN_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  # without CAP_SYS_RESOURCE (not granted here) no process may lower its oom_score_adj: the kubelet asks -998 for
  # sandboxes and -997 for Guaranteed pods, which runc cannot set ("can't get final child's PID from pipe");
  # this clamps them to containerd's own score
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
        Root = "$RN_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RN_DIR/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$RN_DIR/containerd/certs.d"
EOF
  # the test registry speaks plain HTTP
  cat >"$RN_DIR/containerd/certs.d/$REGISTRY/hosts.toml" <<EOF
server = "http://$REGISTRY"
[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve", "push"]
EOF
  # pods: a veth on the bridge, an address from the subnet, no route beyond it (no default route, no masquerade)
  cat >"$RN_DIR/cni/net.d/10-stilt-real-node.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "stilt-real-node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$RN_BRIDGE",
      "isGateway": true,
      "isDefaultGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "$RN_POD_SUBNET", "gateway": "$RN_GATEWAY"}]], "dataDir": "$RN_DIR/cni/ipam"}
    }
  ]
}
EOF
  : >"$RN_DIR/resolv.conf" # pods get no DNS server: no name lookup can leave the machine
  # client certificate for system:node:<name> (group system:nodes) signed by the cluster CA, as kwokctl signs its own
  KWOK_WORKDIR=$KWOK_WORKDIR "$BIN/kwokctl" get kubeconfig --name "$CLUSTER" \
    --user "system:node:$REAL_NODE" --group system:nodes >"$RN_DIR/kubelet/kubeconfig.tmp" 8>&- ||
    die "kwokctl get kubeconfig (kubelet client certificate) failed"
  chmod 600 "$RN_DIR/kubelet/kubeconfig.tmp" && mv "$RN_DIR/kubelet/kubeconfig.tmp" "$RN_DIR/kubelet/kubeconfig"
  cat >"$RN_DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $RN_NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
# kube-apiserver (kwokctl's) has no kubelet client certificate: it reaches kubelets anonymously. Only the host can
# reach $RN_NODE_IP (pods have no route to it).
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
  x509: {clientCAFile: $RN_DIR/pki/ca.crt}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$RN_SOCK
cgroupDriver: cgroupfs
cgroupRoot: $RN_CGROUP
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
protectKernelDefaults: true
makeIPTablesUtilChains: false
resolvConf: $RN_DIR/resolv.conf
clusterDomain: cluster.local
registerNode: true
registerWithTaints:
- {key: $REAL_NODE_LABEL, value: "true", effect: NoSchedule}
maxPods: 30
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
nodeLeaseDurationSeconds: 40
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
containerLogMaxSize: 10Mi
logging: {format: text}
EOF
}

# ---- up / down / status ----------------------------------------------------------------------------------------
up_real_node() {
  local t; t=$(now_ms)
  if real_node_started && real_node_ok && cmp -s "$RN_DIR/pki/ca.crt" "$KWOK_WORKDIR/clusters/$CLUSTER/pki/ca.crt"; then
    log "real-node: $REAL_NODE already running (containerd pid $(cat "$PIDS/rn-containerd.pid"), kubelet pid $(cat "$PIDS/rn-kubelet.pid"))"
    return 0
  fi
  docker_ok || die "--real-node needs the Docker Engine on $DOCKER_SOCK (it builds and pushes the pause image)"
  registry_ok || die "--real-node needs the registry on $REGISTRY"
  apiserver_ok || die "--real-node needs the Kubernetes control plane (the k8s component)"
  local kwok_mode; kwok_mode=$(kwok_node_selection)
  case "$kwok_mode" in
    "manages nodes annotated kwok.x-k8s.io/node=fake only") ;;
    *) die "the running kwok controller $kwok_mode: it would play the real node's pods (kwok's pod controller ignores node leases). Recreate the cluster with this scripts/test-env, whose kwok manages only nodes annotated kwok.x-k8s.io/node=fake: scripts/test-env down && scripts/test-env up --real-node" ;;
  esac
  if real_node_started; then log "real-node: not healthy (or the cluster was recreated); restarting it"; down_real_node; fi
  local pkgs=()
  command -v containerd >/dev/null || pkgs+=(containerd)
  command -v runc >/dev/null || pkgs+=(runc)
  command -v ctr >/dev/null || pkgs+=(containerd)
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] || pkgs+=(containernetworking-plugins)
  command -v conntrack >/dev/null || pkgs+=(conntrack)
  command -v socat >/dev/null || pkgs+=(socat) # kubelet port-forward falls back to it
  command -v nsenter >/dev/null || pkgs+=(util-linux)
  [ ${#pkgs[@]} -eq 0 ] || apt_install "${pkgs[@]}"
  push_real_node_images
  ensure_kubelet
  mkdir -p "$RN_DIR"
  rn_write_config
  rn_network_up
  rn_cgroups_up
  rn_ns_up
  start_daemon_in_ns rn-containerd "$(command -v containerd)" --config "$RN_DIR/containerd/config.toml" --log-level warn
  wait_for 30 containerd containerd_ok || { tail -30 "$LOGS/rn-containerd.log" >&2; die "the real node's containerd did not answer on $RN_SOCK"; }
  log "real-node: containerd up on $RN_SOCK ($(elapsed_since "$t")s)"
  start_daemon_in_ns rn-kubelet "$KUBELET_BIN" --config "$RN_DIR/kubelet/config.yaml" \
    --kubeconfig "$RN_DIR/kubelet/kubeconfig" --root-dir "$RN_DIR/kubelet/root" --cert-dir "$RN_DIR/kubelet/pki" \
    --hostname-override "$REAL_NODE" --node-ip "$RN_NODE_IP" --node-labels "$REAL_NODE_LABEL=true" --v 1
  wait_for 60 "node $REAL_NODE registered" kc get node "$REAL_NODE" ||
    { tail -30 "$LOGS/rn-kubelet.log" >&2; die "the kubelet did not register node $REAL_NODE (log: $LOGS/rn-kubelet.log)"; }
  log "real-node: kubelet registered $REAL_NODE ($(elapsed_since "$t")s)"
  if ! wait_for 90 "node $REAL_NODE Ready" real_node_ready; then
    tail -30 "$LOGS/rn-kubelet.log" >&2
    die "node $REAL_NODE did not become Ready (logs: $LOGS/rn-kubelet.log, $LOGS/rn-containerd.log)"
  fi
  log "real-node: $REAL_NODE Ready (kubelet v${K8S_VERSION#v}, $(containerd --version | awk '{print "containerd " $3}'), pods on $RN_POD_SUBNET; kwok: $kwok_mode) in $(elapsed_since "$t")s"
}

# start_daemon_in_ns NAME EXE ARGS...: like start_daemon, inside the real node's mount namespace
start_daemon_in_ns() {
  local name=$1 exe=$2; shift 2
  mkdir -p "$PIDS" "$LOGS"
  setsid nsenter --mount="$RN_NS" -- "$exe" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 8>&- &
  echo $! >"$PIDS/$name.pid"
  readlink -f "$exe" >"$PIDS/$name.exe"
}

# how the running kwok controller chooses nodes (read from its command line)
kwok_node_selection() {
  local f pid args
  f=$KWOK_WORKDIR/clusters/$CLUSTER/pids/kwok-controller.pid
  pid=$(cat "$f" 2>/dev/null || true)
  args=$([ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  case " $args " in
    *" --manage-nodes-with-annotation-selector="*)
      args=${args##*--manage-nodes-with-annotation-selector=}
      echo "manages nodes annotated ${args%% *} only" ;;
    *" --manage-all-nodes=true "*) echo "manages all nodes (--manage-all-nodes=true)" ;;
    *) echo "is not running or chooses its nodes in an unknown way (pid '$pid')" ;;
  esac
}

# down_real_node [--api]: stop the kubelet, every container, containerd and its shims; remove the namespace,
# bridge, cgroups and the state; with --api also delete the Node and its Lease from the (still running) cluster.
# shellcheck disable=SC2120 # scripts/test-env calls it with --api
down_real_node() {
  real_node_started || return 0
  stop_pid rn-kubelet
  local pids
  # containers first (each in a cgroup below $RN_CGROUP), then containerd, then what is left in the namespace (shims)
  # shellcheck disable=SC2046
  rn_kill_pids container $(rn_cgroup_pids)
  stop_pid rn-containerd
  local shims socks
  shims=$(rn_ns_pids)
  # a killed shim leaves its socket (/run/containerd/s/<hash>): note which ones they listen on, remove them after
  # shellcheck disable=SC2086
  socks=$(rn_unix_sockets_of $shims)
  # shellcheck disable=SC2086
  rn_kill_pids "containerd-shim/namespace" $shims
  local _
  for _ in $(seq 1 20); do pids=$(rn_cgroup_pids; rn_ns_pids); [ -z "$pids" ] && break; sleep 0.25; done
  [ -z "$pids" ] || log "real-node: still running after KILL: $(echo $pids)"
  local sock
  for sock in $socks; do case "$sock" in /run/containerd/s/*) rm -f "$sock" ;; esac; done
  if [ "${1:-}" = --api ] && apiserver_ok; then
    kc delete node "$REAL_NODE" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    kc -n kube-node-lease delete lease "$REAL_NODE" --ignore-not-found >/dev/null 2>&1 || true
    log "real-node: deleted node $REAL_NODE from the cluster"
  fi
  rn_ns_down
  rn_cgroups_down
  rn_network_down
  local m
  for m in $(awk -v s="$RN_DIR/" 'index($2, s) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$RN_DIR"
  log "real-node: stopped $REAL_NODE (kubelet, containerd, containers; removed $RN_BRIDGE, $RN_VETH, cgroups $RN_CGROUP, $RN_DIR)"
}

status_real_node() { # prints lines; returns 1 if the real node was started but is not healthy
  if ! real_node_started; then echo "real-node: off       (scripts/test-env up --real-node)"; return 0; fi
  local ok=0
  if pid_alive rn-containerd && containerd_ok; then
    echo "real-node: containerd running  pid $(cat "$PIDS/rn-containerd.pid")  unix://$RN_SOCK"
  else echo "real-node: containerd DEAD"; ok=1; fi
  if pid_alive rn-kubelet && kubelet_healthz_ok; then
    echo "real-node: kubelet    running  pid $(cat "$PIDS/rn-kubelet.pid")  https://$RN_NODE_IP:$KUBELET_PORT  v${K8S_VERSION#v}"
  else echo "real-node: kubelet    DEAD"; ok=1; fi
  if real_node_ready; then echo "real-node: node $REAL_NODE Ready  taint $REAL_NODE_TAINT  label $REAL_NODE_LABEL=true  pods $RN_POD_SUBNET on $RN_BRIDGE"
  else echo "real-node: node $REAL_NODE NOT Ready"; ok=1; fi
  return $ok
}
