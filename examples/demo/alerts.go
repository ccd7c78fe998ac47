package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sluice-gitops/sluice/internal/alerting"
)

// receiver plays a team's alerting endpoint: a Flux `generic` Provider posts
// each event to it, in Flux's event shape.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	events []alerting.Event
	shown  int
}

func newReceiver() *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev alerting.Event
		if err := json.NewDecoder(req.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
	}))
	return r
}

// fresh returns the events received since the last call, one line each.
func (r *receiver) fresh() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events[r.shown:] {
		msg := strings.ReplaceAll(strings.TrimSpace(ev.Message), "\n", "; ")
		out = append(out, fmt.Sprintf("%s %s %s/%s %s: %s", ev.Severity, ev.Reason, ev.InvolvedObject.Kind, ev.InvolvedObject.Name, ev.Metadata["revision"], msg))
	}
	r.shown = len(r.events)
	return out
}

// writeAlert adds to the config folder in dir the Provider and Alert a Flux
// user would have: every Kustomization and image automation event, to url.
func writeAlert(dir, url string) error {
	return os.WriteFile(filepath.Join(dir, "clusters/prod/alerts.yaml"), []byte(`apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata:
  name: demo-receiver
  namespace: flux-system
spec:
  type: generic
  address: `+url+`
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata:
  name: demo
  namespace: flux-system
spec:
  providerRef:
    name: demo-receiver
  eventSeverity: info
  eventSources:
    - kind: Kustomization
      name: "*"
    - kind: ImageUpdateAutomation
      name: "*"
`), 0o644)
}
