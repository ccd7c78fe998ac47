package alertledger

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

var env *kubetest.Env

func TestMain(m *testing.M) { kubetest.Main(m, kubetest.Options{}, &env) }

func client(t *testing.T) kubernetes.Interface {
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// The ledger survives the process: a second Ledger (another function
// instance) sees what the first recorded, and concurrent writers (the
// Kustomizations of one reconcile) lose nothing.
func TestLedgerOnTheAPIServer(t *testing.T) {
	ctx := context.Background()
	a, b := New(client(t), "0123456789abcdef0123"), New(client(t), "0123456789abcdef0123")
	if done, err := a.Delivered(ctx, "k0"); err != nil || done {
		t.Fatalf("empty ledger: %v, %v", done, err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Record(ctx, fmt.Sprintf("k%d", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range 8 {
		if done, err := b.Delivered(ctx, fmt.Sprintf("k%d", i)); err != nil || !done {
			t.Errorf("k%d: delivered %v, %v", i, done, err)
		}
	}
	other := New(client(t), "ffffffffffffffffffff")
	if done, _ := other.Delivered(ctx, "k0"); done {
		t.Error("another installation's ledger holds this one's key")
	}
}

func TestTrim(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	l := &Ledger{nowFunc: func() time.Time { return now }}
	data := map[string]string{"old": now.Add(-Retention - time.Hour).Format(time.RFC3339), "garbage": "yesterday"}
	for i := range MaxEntries + 5 {
		data[fmt.Sprintf("k%04d", i)] = now.Add(-time.Duration(i) * time.Second).Format(time.RFC3339)
	}
	got := l.trim(data)
	if len(got) != MaxEntries {
		t.Fatalf("%d entries, want %d", len(got), MaxEntries)
	}
	for _, gone := range []string{"old", "garbage", fmt.Sprintf("k%04d", MaxEntries)} {
		if _, ok := got[gone]; ok {
			t.Errorf("%s kept", gone)
		}
	}
	if _, ok := got["k0000"]; !ok {
		t.Error("the newest entry was dropped")
	}
}

// A redelivered message reaching another function instance (a fresh
// Dispatcher) does not notify again: the ledger is in the cluster.
func TestRedeliveryToAnotherInstance(t *testing.T) {
	var mu sync.Mutex
	got := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { mu.Lock(); got++; mu.Unlock() }))
	defer srv.Close()
	cfg := &fluxconfig.Config{
		Providers: []fluxconfig.Provider{{Ref: fluxconfig.Ref{Namespace: "flux-system", Name: "hook"}, Type: "generic", Address: srv.URL}},
		Alerts: []fluxconfig.Alert{{Ref: fluxconfig.Ref{Namespace: "flux-system", Name: "all"}, ProviderRef: "hook", EventSeverity: "info",
			EventSources: []fluxconfig.EventSource{{Kind: "Kustomization", Ref: fluxconfig.Ref{Namespace: "flux-system", Name: "*"}}}}},
	}
	ev := alerting.NewEvent("Kustomization", "flux-system", "apps", alerting.SeverityError, alerting.ReasonFailed, "build failed",
		alerting.Revision("main", "abc"), "sluice-reconcile", time.Now())
	ctx := alerting.WithTrigger(context.Background(), "message-1")
	for range 2 {
		d := alerting.New()
		d.Ledger = New(client(t), "aaaaaaaaaaaaaaaaaaaa")
		d.Emit(ctx, cfg, ev)
	}
	if got != 1 {
		t.Errorf("%d deliveries, want 1", got)
	}
}
