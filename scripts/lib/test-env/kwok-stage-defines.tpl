{{- /* Shared Go-template helpers for the kwok Stages in kwok-stages.yaml (inlined into every statusTemplate). */ -}}
{{ define "cond" }}
- lastProbeTime: null
  lastTransitionTime: {{ Now | Quote }}
  {{ with index . 3 }}message: {{ . | Quote }}{{ end }}
  {{ with index . 2 }}reason: {{ . | Quote }}{{ end }}
  status: {{ index . 1 | Quote }}
  type: {{ index . 0 | Quote }}
{{ end }}
{{ define "pod-net" }}{{ $ip := PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}{{ $host := NodeIPWith .spec.nodeName }}
hostIP: {{ $host | Quote }}
hostIPs:
- ip: {{ $host | Quote }}
podIP: {{ $ip | Quote }}
podIPs:
- ip: {{ $ip | Quote }}
{{ end }}
{{ define "cid" }}{{ printf "containerd://%s" (sha256sum (printf "%s/%s/%v" (index . 0).metadata.uid (index . 1) (index . 2))) | Quote }}{{ end }}
{{ define "image-fields" }}{{ $i := . }}{{ $p := splitList "/" $i }}{{ if eq (len $p) 1 }}{{ $i = print "docker.io/library/" $i }}{{ else if not (or (contains "." (first $p)) (contains ":" (first $p)) (eq (first $p) "localhost")) }}{{ $i = print "docker.io/" $i }}{{ end }}{{ if not (or (contains "@" $i) (contains ":" (last (splitList "/" $i)))) }}{{ $i = print $i ":latest" }}{{ end }}image: {{ $i | Quote }}
  imageID: {{ if contains "@" $i }}{{ $i | Quote }}{{ else }}{{ printf "%s@sha256:%s" (regexReplaceAll ":[^:/]*$" $i "") (sha256sum $i) | Quote }}{{ end }}{{ end }}
{{ define "container-id" }}
- containerID: {{ template "cid" (list (index . 0) (index . 1) (index . 2)) }}
  {{ template "image-fields" (index . 3) }}
  name: {{ index . 1 | Quote }}
{{ end }}
{{ define "started-at" }}{{ $root := index . 0 }}{{ $i := index . 1 }}{{ $t := index . 2 }}{{ with $root.status.containerStatuses }}{{ if lt $i (len .) }}{{ with (index . $i).state.running }}{{ $t = .startedAt }}{{ end }}{{ end }}{{ end }}{{ $t | Quote }}{{ end }}
{{ define "unready-conditions" }}{{ $names := list }}{{ range .spec.containers }}{{ $names = append $names .name }}{{ end }}{{ $msg := printf "containers with unready status: [%s]" (join " " $names) }}
conditions:
{{ template "cond" (list "PodReadyToStartContainers" "True" "" "") }}
{{ template "cond" (list "Initialized" "True" "" "") }}
{{ template "cond" (list "Ready" "False" "ContainersNotReady" $msg) }}
{{ template "cond" (list "ContainersReady" "False" "ContainersNotReady" $msg) }}
{{ end }}
{{ define "crashloop" }}{{ $root := index . 0 }}{{ $n := index . 1 }}{{ $now := Now }}
{{- $ann := or $root.metadata.annotations dict }}
{{- $exit := or (index $ann "stilt.test/exit-code") "1" }}
{{- $reason := or (index $ann "stilt.test/exit-reason") "Error" }}
{{- $backoff := index (list "10s" "20s" "40s" "1m20s" "2m40s" "5m0s") (min (sub $n 1) 5) }}
containerStatuses:
{{ range $root.spec.containers }}
{{ template "container-id" (list $root .name (sub $n 1) .image) }}
  lastState:
    terminated:
      containerID: {{ template "cid" (list $root .name (sub $n 1)) }}
      exitCode: {{ $exit }}
      finishedAt: {{ $now | Quote }}
      reason: {{ $reason | Quote }}
      startedAt: {{ $now | Quote }}
  ready: false
  restartCount: {{ $n }}
  started: false
  state:
    waiting:
      message: {{ printf "back-off %s restarting failed container=%s pod=%s_%s(%s)" $backoff .name $root.metadata.name $root.metadata.namespace $root.metadata.uid | Quote }}
      reason: CrashLoopBackOff
{{ end }}
{{ end }}
{{ define "image-pull" }}{{ $root := index . 0 }}{{ $reason := index . 1 }}
containerStatuses:
{{ range $root.spec.containers }}
{{- $i := .image }}{{ $p := splitList "/" $i }}{{ if eq (len $p) 1 }}{{ $i = print "docker.io/library/" $i }}{{ else if not (or (contains "." (first $p)) (contains ":" (first $p)) (eq (first $p) "localhost")) }}{{ $i = print "docker.io/" $i }}{{ end }}{{ if not (or (contains "@" $i) (contains ":" (last (splitList "/" $i)))) }}{{ $i = print $i ":latest" }}{{ end }}
{{- $err := printf "rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: %s: not found" $i $i $i }}
- image: {{ .image | Quote }}
  imageID: ""
  lastState: {}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 0
  started: false
  state:
    waiting:
      {{ if eq $reason "ErrImagePull" }}
      message: {{ $err | Quote }}
      {{ else }}
      message: {{ printf "Back-off pulling image %q: ErrImagePull: %s" .image $err | Quote }}
      {{ end }}
      reason: {{ $reason | Quote }}
{{ end }}
{{ end }}
