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
	// aws-lambda-go and apimachinery assert http.DefaultTransport to be an
	// *http.Transport and clone it.
	clone := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if resp, err = clone.Get(srv.URL); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if requests.Load() != 2 {
		t.Fatalf("the server received %d requests, want 2", requests.Load())
	}
	if got := guard.take(); len(got) != 0 {
		t.Errorf("refused %v", got)
	}
}

// TestBuildFailsClosedWithoutGuard: when something replaced
// http.DefaultTransport, builds refuse to run rather than let kustomize fetch.
func TestBuildFailsClosedWithoutGuard(t *testing.T) {
	t.Run("another transport", func(t *testing.T) {
		saved := http.DefaultTransport
		http.DefaultTransport = http.NewFileTransport(http.Dir(t.TempDir()))
		defer func() { http.DefaultTransport = saved }()
		if _, err := Build(t.TempDir(), Options{}); !errors.Is(err, errGuardRemoved) {
			t.Fatalf("error = %v, want errGuardRemoved", err)
		}
	})
	t.Run("another Proxy function", func(t *testing.T) {
		tr := http.DefaultTransport.(*http.Transport)
		saved := tr.Proxy
		tr.Proxy = http.ProxyFromEnvironment
		defer func() { tr.Proxy = saved }()
		if _, err := Build(t.TempDir(), Options{}); !errors.Is(err, errGuardRemoved) {
			t.Fatalf("error = %v, want errGuardRemoved", err)
		}
	})
}
