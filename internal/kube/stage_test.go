package kube

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// requests counts a client's requests by method, dry-runs apart.
type requests struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (r *requests) RoundTrip(req *http.Request) (*http.Response, error) {
	k := req.Method
	if req.URL.Query().Has("dryRun") {
		k += " dry-run"
	}
	r.mu.Lock()
	r.n[k]++
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *requests) take() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.n
	r.n = map[string]int{}
	return n
}

// countingManager is a Manager whose requests are counted.
func countingManager(t *testing.T) (*Manager, *requests) {
	t.Helper()
	r := &requests{n: map[string]int{}}
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		r.next = rt
		return r
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}

// TestConcurrentApplyKeepsStageOrder applies, in one set and shuffled, a
// CRD and custom objects of it, and a Namespace and objects in it, enough of
// each kind to be read by LIST and applied concurrently: the definitions
// stage is applied and awaited before anything that needs it, or the API
// server would refuse the objects of a kind or a namespace it does not know.
// The same set again is unchanged, with no dry-run or apply at all.
func TestConcurrentApplyKeepsStageOrder(t *testing.T) {
	ctx := context.Background()
	m, reqs := countingManager(t)
	id := fmt.Sprintf("%d%d", time.Now().UnixNano()%1000000, nsCounter.Add(1))
	ns, group := "stages-"+id, "s"+id+".example.com"
	crd := obj(t, fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.%[1]s}
spec:
  group: %[1]s
  names: {kind: Gadget, listKind: GadgetList, plural: gadgets, singular: gadget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer}}}
`, group))
	set := func() []*unstructured.Unstructured {
		var objs []*unstructured.Unstructured
		for i := range 2 * listMin {
			objs = append(objs,
				obj(t, fmt.Sprintf("apiVersion: %s/v1\nkind: Gadget\nmetadata: {name: g%d, namespace: %s}\nspec: {size: %d}\n", group, i, ns, i)),
				configMap(t, ns, fmt.Sprintf("c%d", i), fmt.Sprint(i)))
		}
		// The definitions last, so that only staging puts them first.
		return append(objs, obj(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n"), crd)
	}
	changes, err := m.Apply(ctx, set(), ApplyOptions{StageTimeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("staged apply: %v", err)
	}
	if got, want := count(changes, Created), 4*listMin+2; got != want || len(changes) != want {
		t.Fatalf("%d of %d objects created, want all %d: %v", got, len(changes), want, changes)
	}
	gadgets, err := dyn(t).Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "gadgets"}).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(gadgets.Items) != 2*listMin {
		t.Fatalf("gadgets in the cluster: %v, %v; want %d", gadgets, err, 2*listMin)
	}

	reqs.take()
	changes, err = m.Apply(ctx, set(), ApplyOptions{StageTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := count(changes, Unchanged), 4*listMin+2; got != want || len(changes) != want {
		t.Fatalf("again: %d of %d objects unchanged, want all %d: %v", got, len(changes), want, changes)
	}
	// Reads: the Namespace, the CRD, their wait, one LIST per kind.
	if n := reqs.take(); n["PATCH"]+n["PATCH dry-run"] > 0 || n["GET"] > 6 {
		t.Errorf("an unchanged apply made requests %v, want no PATCH and a LIST per kind", n)
	}
}

// TestApplyFailingMidwayReportsWhatItCreated applies more ConfigMaps than a
// ResourceQuota allows: each dry-run passes (a dry-run uses no quota), the
// applies stop at the quota. The error says why, and the change set names
// exactly the objects that were created, so the caller can record them.
func TestApplyFailingMidwayReportsWhatItCreated(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	const allowed = 5
	quotas := dyn(t).Resource(schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}).Namespace(ns)
	q, err := quotas.Create(ctx, obj(t, fmt.Sprintf("apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: few, namespace: %s}\nspec: {hard: {count/configmaps: %q}}\n", ns, fmt.Sprint(allowed))), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No quota controller runs here: set the usage it would have set.
	q.Object["status"] = map[string]any{"hard": map[string]any{"count/configmaps": fmt.Sprint(allowed)}, "used": map[string]any{"count/configmaps": "0"}}
	if _, err := quotas.UpdateStatus(ctx, q, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	for i := range 2 * listMin {
		objs = append(objs, configMap(t, ns, fmt.Sprintf("c%02d", i), "1"))
	}
	changes, err := m.Apply(ctx, objs, ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "exceeded quota") {
		t.Fatalf("error = %v, want the quota's", err)
	}
	live, err := dyn(t).Resource(cmGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]Action{}
	for _, o := range live.Items {
		created["ConfigMap/"+ns+"/"+o.GetName()] = Created
	}
	if len(created) != allowed {
		t.Errorf("%d ConfigMaps in the cluster, want the quota's %d", len(created), allowed)
	}
	if diff := cmp.Diff(created, actions(changes)); diff != "" {
		t.Errorf("change set against the cluster (-cluster +changes):\n%s", diff)
	}
}
