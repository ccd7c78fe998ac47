package render

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
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
// through http.DefaultTransport, which asks its Proxy function for a proxy
// on the goroutine that runs the build, before any connection is made. So
// render installs, once at start-up, a Proxy function on
// http.DefaultTransport that refuses every request made from kustomize's
// code and hands every other request to the original Proxy function
// (ProxyFromEnvironment): no field list to keep up to date, and nothing else
// in the process sees a difference. http.DefaultTransport stays an
// *http.Transport, which other packages (aws-lambda-go, apimachinery)
// assert and clone.
//
// Build checks that the guard is still installed and refuses to run
// otherwise, so a later replacement of http.DefaultTransport fails closed.

// kustomizePackage prefixes the function names of kustomize's code.
const kustomizePackage = "sigs.k8s.io/kustomize/"

// guard refuses kustomize's requests; its proxy method is installed as
// http.DefaultTransport's Proxy.
var guard = &netGuard{}

// guardedTransport is http.DefaultTransport as it was when the guard was
// installed.
var guardedTransport *http.Transport

func init() {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return // checkGuard refuses every build
	}
	guard.next = t.Proxy
	t.Proxy = guard.proxy
	guardedTransport = t
}

// netGuard refuses the requests kustomize makes and records them, for the
// build that made them to report.
type netGuard struct {
	next func(*http.Request) (*url.URL, error)

	mu      sync.Mutex
	refused []string
}

// proxy refuses a request made from kustomize's code, before any connection
// is made, and asks the original Proxy function about any other request.
func (g *netGuard) proxy(req *http.Request) (*url.URL, error) {
	if !calledFromKustomize() {
		if g.next == nil {
			return nil, nil
		}
		return g.next(req)
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
// goroutine's stack. http.Transport calls Proxy on the goroutine that sent
// the request, a few frames below the caller.
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

// errGuardRemoved is returned when http.DefaultTransport is not the
// transport render guarded, or its Proxy function was replaced.
var errGuardRemoved = errors.New("http.DefaultTransport is not the transport render guards against kustomize's fetches; refusing to run kustomize, which could then fetch URLs")

func checkGuard() error {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok || t != guardedTransport || t.Proxy == nil ||
		reflect.ValueOf(t.Proxy).Pointer() != reflect.ValueOf(guard.proxy).Pointer() {
		return errGuardRemoved
	}
	return nil
}
