package drift

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/kube"
)

// Drift found notifies (information when a reconcile was queued to correct
// it, an error when it is only detected), and so does Git ahead of the
// cluster; a Kustomization in sync does not.
func TestAlertEvents(t *testing.T) {
	drifted := []kube.ObjectDiff{{ID: "Deployment/prod/web", Status: kube.Drifted}, {ID: "Service/prod/web", Status: kube.InSync}}
	tests := []struct {
		name string
		rep  Report
		want []string // severity reason message
	}{
		{"corrected", Report{Queued: true, Kustomizations: []KustomizationReport{{Name: "flux-system/apps", Head: "abc", Mode: Correct, Objects: drifted}}},
			[]string{"info DriftDetected Drift detected: 1 drifted, 0 missing, 0 extra; a reconcile was queued to correct it\nDeployment/prod/web drifted"}},
		{"detected only", Report{Kustomizations: []KustomizationReport{{Name: "flux-system/apps", Head: "abc", Mode: Detect, Objects: drifted}}},
			[]string{"error DriftDetected Drift detected: 1 drifted, 0 missing, 0 extra; not corrected (drift mode detect)\nDeployment/prod/web drifted"}},
		{"behind", Report{Queued: true, Kustomizations: []KustomizationReport{{Name: "flux-system/apps", Revision: "0123456789abcdef", Head: "fedcba9876543210", Behind: true, Mode: Correct}}},
			[]string{"info GitBehind Git is ahead of the cluster: applied 0123456789ab, branch head fedcba987654; a reconcile was queued"}},
		{"in sync", Report{Kustomizations: []KustomizationReport{{Name: "flux-system/apps", Head: "abc", Mode: Correct, Objects: drifted[1:]}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := alertEvents(&tt.rep, "main", time.Now())
			if len(evs) != len(tt.want) {
				t.Fatalf("%d events, want %d: %+v", len(evs), len(tt.want), evs)
			}
			for i, ev := range evs {
				if got := ev.Severity + " " + ev.Reason + " " + ev.Message; got != tt.want[i] {
					t.Errorf("event %d = %q, want %q", i, got, tt.want[i])
				}
				if ev.InvolvedObject.Kind != "Kustomization" || ev.InvolvedObject.Name != "apps" || ev.Metadata[alerting.MetaRevision] == "" {
					t.Errorf("event %d = %+v", i, ev)
				}
			}
		})
	}
}

// A drift run sends what it found to the config's Alert, on the real API
// server and Git server; the same scheduled event retried notifies once.
func TestDriftRunNotifies(t *testing.T) {
	f := newFixture(t, "drift-alert")
	var mu sync.Mutex
	var got []alerting.Event
	recv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var ev alerting.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}))
	defer recv.Close()
	f.commit("Alert on drift", func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "clusters/prod/alert.yaml"), []byte(`apiVersion: notification.toolkit.fluxcd.io/v1beta2
kind: Provider
metadata: {name: hook, namespace: flux-system}
spec: {type: generic, address: "`+recv.URL+`"}
---
apiVersion: notification.toolkit.fluxcd.io/v1beta2
kind: Alert
metadata: {name: drift, namespace: flux-system}
spec:
  providerRef: {name: hook}
  eventSources: [{kind: Kustomization, name: "*"}]
  inclusionList: ["^Drift detected"]
`), 0o644)
	})
	f.reconcile(nil) // applies the commit: Git is not ahead
	f.tamper()
	h := NewHandler(New(f.repo, f.git, f.cluster, Correct, f.sender), nil)
	d := alerting.New()
	d.Retry = alerting.Retry{Attempts: 1}
	h.Events = d
	ev := strings.Replace(scheduled, "RUN", "drift-alert-run", 1)
	for range 2 {
		if _, err := h.Handle(context.Background(), json.RawMessage(ev)); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d events, want 1: %+v", len(got), got)
	}
	e := got[0]
	if e.Reason != alerting.ReasonDriftDetected || e.Severity != alerting.SeverityInfo || e.InvolvedObject.Name != "drift-alert" ||
		!strings.Contains(e.Message, "2 drifted, 1 missing") || !strings.Contains(e.Message, "Service/drift-alert/prod-task-web missing") {
		t.Errorf("event = %+v", e)
	}
}
