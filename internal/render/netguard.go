package render

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
)

// kustomize's file loader (api/internal/loader FileLoader.Load) fetches any
// path that parses as an http(s) URL itself, with a fresh http.Client{} and
// so with http.DefaultTransport, before any file system check; kustomize
// offers no option to pass it another client. Wherever such a path comes
// from (a resource, a patch, a generator's files or envs, a builtin
// plugin's config, openapi.path, crds, replacements...), the request goes
// through http.DefaultTransport on the goroutine that runs the build. So
// render wraps http.DefaultTransport once, at start-up, with a transport
// that refuses every request made from kustomize's code and passes every
// other request through unchanged: no field list to keep up to date, and
// nothing else in the process loses its default transport.
//
// Build checks that the guard is still installed and refuses to run
// otherwise, so a later replacement of http.DefaultTransport fails closed.

// kustomizePackage prefixes the function names of kustomize's code.
const kustomizePackage = "sigs.k8s.io/kustomize/"

// guard is the transport installed as http.DefaultTransport.
var guard = &netGuard{next: http.DefaultTransport}

func init() { http.DefaultTransport = guard }

// netGuard refuses the requests kustomize makes and records them, for the
// build that made them to report.
type netGuard struct {
	next http.RoundTripper

	mu      sync.Mutex
	refused []string
}

// RoundTrip refuses a request made from kustomize's code, before any
// connection is made, and passes any other request on.
func (g *netGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if !calledFromKustomize() {
		return g.next.RoundTrip(req)
	}
	u := req.URL.String()
	g.mu.Lock()
	g.refused = append(g.refused, u)
	g.mu.Unlock()
	return nil, fmt.Errorf("%q: %w", u, ErrNotLocal)
}

// take returns and forgets the URLs refused so far. Builds run one at a
// time (kustomizeMu), so the URLs refused between two calls are the build's.
func (g *netGuard) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.refused
	g.refused = nil
	return out
}

// calledFromKustomize reports whether kustomize's code is on the calling
// goroutine's stack. http.Client calls its transport on the goroutine that
// sent the request, a few frames below the caller.
func calledFromKustomize() bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, kustomizePackage) {
			return true
		}
		if !more {
			return false
		}
	}
}

// errGuardRemoved is returned when something replaced http.DefaultTransport
// after render installed its guard.
var errGuardRemoved = errors.New("http.DefaultTransport was replaced after render installed its guard; refusing to run kustomize, which could then fetch URLs")

func checkGuard() error {
	if rt, ok := http.DefaultTransport.(*netGuard); !ok || rt != guard {
		return errGuardRemoved
	}
	return nil
}
