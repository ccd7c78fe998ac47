package render

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestGuardPassesOtherRequests: the guard refuses kustomize's requests only;
// every other user of http.DefaultTransport in the process is served.
func TestGuardPassesOtherRequests(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if requests.Load() != 1 {
		t.Fatalf("the server received %d requests, want 1", requests.Load())
	}
	if got := guard.take(); len(got) != 0 {
		t.Errorf("refused %v", got)
	}
}

// TestBuildFailsClosedWithoutGuard: when something replaced
// http.DefaultTransport, builds refuse to run rather than let kustomize fetch.
func TestBuildFailsClosedWithoutGuard(t *testing.T) {
	http.DefaultTransport = guard.next
	defer func() { http.DefaultTransport = guard }()
	_, err := Build(t.TempDir(), Options{})
	if !errors.Is(err, errGuardRemoved) {
		t.Fatalf("error = %v, want errGuardRemoved", err)
	}
}
