// tilt-snapshot-check reads a Tilt webview snapshot (the --output-snapshot-on-exit file) with
// Tilt's own types and log store, the way `tilt snapshot view` and `tilt logs` read a view.
//
// It is built by scripts/install-ci-tools inside the tilt-dev/tilt module (same version as the
// tilt binary), so it compiles against exactly the types that Tilt release uses. Unknown fields
// are an error (a misspelt field would otherwise be silently dropped). On success it prints a
// JSON summary: each UIResource's name, statuses and conditions, and the log text as Tilt's log
// store renders it (with resource prefixes), for the integration tests to assert on.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/tilt-dev/tilt/internal/hud/webview"
	"github.com/tilt-dev/tilt/pkg/model"
	"github.com/tilt-dev/tilt/pkg/model/logstore"
	proto_webview "github.com/tilt-dev/tilt/pkg/webview"
)

type resourceSummary struct {
	Name          string            `json:"name"`
	UpdateStatus  string            `json:"updateStatus"`
	RuntimeStatus string            `json:"runtimeStatus"`
	Order         int32             `json:"order"`
	Conditions    map[string]string `json:"conditions"`
	Builds        int               `json:"builds"`
	LastError     string            `json:"lastError"`
}

type summary struct {
	CreatedAt   string            `json:"createdAt"`
	TiltfileKey string            `json:"tiltfileKey"`
	Resources   []resourceSummary `json:"resources"`
	Log         string            `json:"log"`
	Segments    int               `json:"segments"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tilt-snapshot-check: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: tilt-snapshot-check SNAPSHOT.json")
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var snap proto_webview.Snapshot
	if err := dec.Decode(&snap); err != nil {
		fail("not a Tilt snapshot: %v", err)
	}
	if snap.View == nil {
		fail("snapshot has no view")
	}
	if snap.CreatedAt.IsZero() {
		fail("snapshot has no createdAt")
	}
	v := snap.View
	if v.UiSession == nil {
		fail("view has no uiSession")
	}
	if v.LogList == nil {
		fail("view has no logList")
	}
	out := summary{CreatedAt: snap.CreatedAt.String(), TiltfileKey: v.UiSession.Status.TiltfileKey}
	for _, r := range v.UiResources {
		s := resourceSummary{
			Name:          r.Name,
			UpdateStatus:  string(r.Status.UpdateStatus),
			RuntimeStatus: string(r.Status.RuntimeStatus),
			Order:         r.Status.Order,
			Conditions:    map[string]string{},
			Builds:        len(r.Status.BuildHistory),
		}
		for _, c := range r.Status.Conditions {
			s.Conditions[string(c.Type)] = string(c.Status)
		}
		if len(r.Status.BuildHistory) > 0 {
			s.LastError = r.Status.BuildHistory[0].Error
		}
		out.Resources = append(out.Resources, s)
	}
	store := logstore.NewLogStore()
	for _, seg := range v.LogList.Segments {
		if _, ok := v.LogList.Spans[seg.SpanId]; !ok {
			fail("segment names span %q that the span list lacks", seg.SpanId)
		}
		store.Append(webview.LogSegmentToEvent(seg, v.LogList.Spans), model.SecretSet{})
	}
	out.Segments = len(v.LogList.Segments)
	out.Log = store.String()
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail("%v", err)
	}
}
