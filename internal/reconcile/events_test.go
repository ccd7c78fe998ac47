package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// eventReceiver is a local generic Provider endpoint: it keeps the events
// it is sent.
type eventReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	events []alerting.Event
}

func newEventReceiver(t *testing.T) *eventReceiver {
	r := &eventReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var ev alerting.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Errorf("not an event: %s", b)
		}
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *eventReceiver) take() []alerting.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// An Alert in the config folder delivers the reconcile's events, on the
// real API server and Git server: applied with its change set, nothing for
// an unchanged apply, a failure once however often the queue redelivers
// its message.
func TestAlertDelivers(t *testing.T) {
	ctx := context.Background()
	s := newStory(t)
	const ns = "alerted"
	if err := kubetest.CreateNamespace(ctx, env.Config, ns); err != nil {
		t.Fatal(err)
	}
	recv := newEventReceiver(t)
	ks := filepath.Join("clusters/prod/task-tool-kustomization.yaml")
	sha := s.commit("Apply one ConfigMap, and alert on every Kustomization", func(dir string) error {
		return errors.Join(
			os.MkdirAll(filepath.Join(dir, "solo"), 0o755),
			os.WriteFile(filepath.Join(dir, "solo/cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: solo}\ndata: {a: b}\n"), 0o644),
			gittest.ReplaceInFile(filepath.Join(dir, ks), "path: ./app/overlays/prod", "path: ./solo"),
			gittest.ReplaceInFile(filepath.Join(dir, ks), "targetNamespace: prod", "targetNamespace: "+ns),
			os.WriteFile(filepath.Join(dir, "clusters/prod/alerts.yaml"), []byte(`apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: receiver, namespace: flux-system}
spec: {type: generic, address: "`+recv.URL+`"}
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: all, namespace: flux-system}
spec:
  providerRef: {name: receiver}
  eventSources: [{kind: Kustomization, name: "*"}]
  eventMetadata: {cluster: test}
`), 0o644),
		)
	})
	d := alerting.New()
	d.Retry = alerting.Retry{Attempts: 1}
	s.rec.Events = d

	t.Run("applied with its change set", func(t *testing.T) {
		if _, err := s.reconcile(); err != nil {
			t.Fatal(err)
		}
		got := recv.take()
		if len(got) != 1 {
			t.Fatalf("%d events, want 1: %+v", len(got), got)
		}
		ev := got[0]
		if ev.InvolvedObject.Kind != "Kustomization" || ev.InvolvedObject.Name != "task-tool" || ev.InvolvedObject.Namespace != "flux-system" ||
			ev.Severity != alerting.SeverityInfo || ev.Reason != alerting.ReasonSucceeded || ev.Message != "ConfigMap/"+ns+"/solo created" ||
			ev.Metadata["revision"] != "main@sha1:"+sha || ev.Metadata["cluster"] != "test" || ev.ReportingController != "kustomize-controller" {
			t.Errorf("event = %+v", ev)
		}
	})

	t.Run("unchanged is not an event", func(t *testing.T) {
		if _, err := s.reconcile(); err != nil {
			t.Fatal(err)
		}
		if got := recv.take(); len(got) != 0 {
			t.Errorf("events: %+v", got)
		}
	})

	t.Run("a failure notifies once however often the message comes back", func(t *testing.T) {
		s.commit("Point at a folder that does not exist", func(dir string) error {
			return gittest.ReplaceInFile(filepath.Join(dir, ks), "path: ./solo", "path: ./gone")
		})
		body, _ := json.Marshal(queue.Reconcile{Repository: s.repo.ID(), Branch: "main", Reason: queue.ReasonPush})
		raw, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{"messageId": "m-1", "eventSource": "aws:sqs", "body": string(body)}}})
		h := NewHandler(s.rec)
		for range 2 {
			resp, err := h.Handle(ctx, raw)
			if err != nil || len(resp.BatchItemFailures) != 1 {
				t.Fatalf("handle: %+v, %v", resp, err)
			}
		}
		got := recv.take()
		if len(got) != 1 || got[0].Severity != alerting.SeverityError || got[0].Reason != alerting.ReasonFailed {
			t.Fatalf("events = %+v, want one error", got)
		}
	})
}

// Each outcome notifies under Flux's reason and severity.
func TestEventOfResult(t *testing.T) {
	r := New(desired.Repository{URL: "https://github.com/o/r", Branch: "main"}, nil, nil, nil)
	snap := &desired.Snapshot{Revision: "abc"}
	changes := []kube.Change{{ID: "Deployment/prod/web", Action: kube.Configured}, {ID: "Service/prod/web", Action: kube.Unchanged}, {ID: "ConfigMap/prod/old", Action: kube.Deleted}}
	push, drift := queue.Reconcile{Reason: queue.ReasonPush}, queue.Reconcile{Reason: queue.ReasonDrift}
	tests := []struct {
		name                      string
		msg                       queue.Reconcile
		kr                        KustomizationResult
		removed                   bool
		severity, reason, message string
		none                      bool
	}{
		{name: "applied and pruned", msg: push, kr: KustomizationResult{Outcome: Applied, Changes: changes},
			severity: "info", reason: "ReconciliationSucceeded", message: "Deployment/prod/web configured\nConfigMap/prod/old deleted"},
		{name: "drift corrected", msg: drift, kr: KustomizationResult{Outcome: Applied, Changes: changes[:1]},
			severity: "info", reason: "ReconciliationSucceeded", message: "Drift corrected:\nDeployment/prod/web configured"},
		{name: "unchanged", msg: push, kr: KustomizationResult{Outcome: Applied, Changes: changes[1:2]}, none: true},
		{name: "skipped", msg: push, kr: KustomizationResult{Outcome: Skipped, Reason: "suspended"}, none: true},
		{name: "failed", msg: push, kr: KustomizationResult{Outcome: Failed, Reason: "kustomize build failed"},
			severity: "error", reason: "ReconciliationFailed", message: "kustomize build failed"},
		{name: "health check failed", msg: push, kr: KustomizationResult{Outcome: Failed, Reason: "health check: timeout", failure: kube.ReasonHealthCheckFailed},
			severity: "error", reason: "HealthCheckFailed", message: "health check: timeout"},
		{name: "dependency not ready", msg: push, kr: KustomizationResult{Outcome: Failed, Reason: "not applied: its dependency flux-system/infra failed", failure: kube.ReasonDependencyFailed},
			severity: "error", reason: "DependencyNotReady", message: "not applied: its dependency flux-system/infra failed"},
		{name: "removed from Git", msg: push, removed: true, kr: KustomizationResult{Outcome: Applied, Reason: "removed from Git: 1 deleted"},
			severity: "info", reason: "Pruned", message: "removed from Git: 1 deleted"},
		{name: "removal failed", msg: push, removed: true, kr: KustomizationResult{Outcome: Failed, Reason: "forbidden"},
			severity: "error", reason: "PruneFailed", message: "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.kr.Name = "flux-system/apps"
			ev, ok := r.event(snap, tt.msg, tt.kr, tt.removed)
			if ok == tt.none {
				t.Fatalf("event: %v, want %v", ok, !tt.none)
			}
			if tt.none {
				return
			}
			if ev.Severity != tt.severity || ev.Reason != tt.reason || ev.Message != tt.message || ev.Metadata["revision"] != "main@sha1:abc" || ev.InvolvedObject.Name != "apps" {
				t.Errorf("event = %+v", ev)
			}
		})
	}
}
