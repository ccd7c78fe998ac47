package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/sluice-gitops/sluice/internal/kubetest"
)

var env *kubetest.Env

func TestMain(m *testing.M) {
	kubetest.Main(m, kubetest.Options{CRDFiles: kubetest.FixtureCRDs()}, &env)
}

var nsCounter atomic.Int32

// freshNamespace returns a namespace name no other test used: envtest never
// finishes deleting namespaces.
func freshNamespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("kube-%d-%d", time.Now().UnixNano()%100000, nsCounter.Add(1))
	if err := kubetest.CreateNamespace(context.Background(), env.Config, name); err != nil {
		t.Fatal(err)
	}
	return name
}

func manager(t *testing.T) *Manager {
	t.Helper()
	m, err := New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func configMap(t *testing.T, ns, name, value string) *unstructured.Unstructured {
	return obj(t, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\ndata: {key: %q}\n", name, ns, value))
}

func deployment(t *testing.T, ns, name string) *unstructured.Unstructured {
	return obj(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  replicas: 2
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      containers:
        - name: app
          image: example.com/app:1.0.0
          ports: [{containerPort: 8080}]
`, name, ns))
}

func actions(changes []Change) map[string]Action {
	out := map[string]Action{}
	for _, c := range changes {
		out[c.ID] = c.Action
	}
	return out
}

func dyn(t *testing.T) *dynamic.DynamicClient {
	d, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var (
	cmGVR     = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deployGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

func TestApplyCreatesThenNothingChanges(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	objs := func() []*unstructured.Unstructured {
		return []*unstructured.Unstructured{configMap(t, ns, "settings", "1"), deployment(t, ns, "web")}
	}
	changes, err := m.Apply(ctx, objs(), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"ConfigMap/" + ns + "/settings": Created, "Deployment/" + ns + "/web": Created}
	if diff := cmp.Diff(want, actions(changes)); diff != "" {
		t.Fatalf("first apply (-want +got):\n%s", diff)
	}
	changes, err = m.Apply(ctx, objs(), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for id, a := range actions(changes) {
		if a != Unchanged {
			t.Errorf("second apply: %s %s, want unchanged", id, a)
		}
	}
	next := objs()
	next[0] = configMap(t, ns, "settings", "2")
	changes, err = m.Apply(ctx, next, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(changes)["ConfigMap/"+ns+"/settings"]; a != Configured {
		t.Errorf("changed ConfigMap: %s, want configured", a)
	}
	live, err := dyn(t).Resource(deployGVR).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mf := live.GetManagedFields(); len(mf) == 0 || mf[0].Manager != FieldManager {
		t.Errorf("field manager = %+v, want %s", mf, FieldManager)
	}
}

func TestApplyStagesAndRefusesUnknownKinds(t *testing.T) {
	ctx := context.Background()
	m := manager(t)
	fresh := fmt.Sprintf("staged-%d", time.Now().UnixNano()%1000000)
	nsObj := obj(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+fresh+"}\n")

	// A namespace and objects in it, in one set: the namespace stage comes first.
	if _, err := m.Apply(ctx, []*unstructured.Unstructured{configMap(t, fresh, "in-new-ns", "x"), nsObj}, ApplyOptions{}); err != nil {
		t.Fatalf("staged apply: %v", err)
	}

	// An unknown kind: nothing of its stage is applied and the error names it.
	ns := freshNamespace(t)
	bad := obj(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: "+ns+"}\nspec: {size: 1}\n")
	_, err := m.Apply(ctx, []*unstructured.Unstructured{configMap(t, ns, "a", "1"), bad, configMap(t, ns, "z", "1")}, ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "Widget") {
		t.Fatalf("error = %v, want one naming the Widget", err)
	}
	for _, name := range []string{"a", "z"} {
		if _, err := dyn(t).Resource(cmGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap %s was applied although its stage failed the dry-run: %v", name, err)
		}
	}

	// An invalid object likewise.
	invalid := configMap(t, ns, "Not_A_Valid_Name", "1")
	_, err = m.Apply(ctx, []*unstructured.Unstructured{configMap(t, ns, "b", "1"), invalid}, ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "Not_A_Valid_Name") {
		t.Fatalf("error = %v, want one naming the invalid ConfigMap", err)
	}
	if _, err := dyn(t).Resource(cmGVR).Namespace(ns).Get(ctx, "b", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap b was applied beside an invalid object: %v", err)
	}
}

func TestInventoryIsAnApplySet(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	owner := Owner{Installation: "0123456789abcdef0123", Namespace: "flux-system", Name: "inv-" + ns}
	objs := []*unstructured.Unstructured{configMap(t, ns, "c", "1"), deployment(t, ns, "d")}
	entries := []Entry{EntryFor(objs[0]), EntryFor(objs[1])}
	if entries[1].ID != ns+"_d_apps_Deployment" || entries[1].Version != "v1" {
		t.Fatalf("entry = %+v", entries[1])
	}
	if err := m.SaveInventory(ctx, Inventory{Owner: owner, Revision: "abc", Prune: true, Entries: entries}); err != nil {
		t.Fatal(err)
	}
	got, err := m.Inventory(ctx, owner)
	if err != nil || got == nil {
		t.Fatalf("Inventory = %v, %v", got, err)
	}
	if got.Revision != "abc" || !got.Prune || len(got.Entries) != 2 || got.AppliedAt.IsZero() {
		t.Errorf("inventory = %+v", got)
	}
	cm, err := dyn(t).Resource(cmGVR).Namespace(InventoryNamespace).Get(ctx, InventoryName(owner), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.GetLabels()[applySetIDLabel] != ApplySetID(owner) {
		t.Errorf("labels = %v", cm.GetLabels())
	}
	want := map[string]string{
		applySetToolingAnnot:    "sluice/v1",
		applySetGroupKindsAnnot: "ConfigMap,Deployment.apps",
		applySetNamespacesAnnot: ns,
	}
	for k, v := range want {
		if cm.GetAnnotations()[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, cm.GetAnnotations()[k], v)
		}
	}
	all, err := m.Inventories(ctx, owner.Installation)
	if err != nil || !slices.ContainsFunc(all, func(i Inventory) bool { return i.Owner == owner }) {
		t.Fatalf("Inventories = %v, %v", all, err)
	}
	if others, err := m.Inventories(ctx, "another"); err != nil || len(others) != 0 {
		t.Fatalf("another installation's Inventories = %v, %v", others, err)
	}
	if err := m.DeleteInventory(ctx, owner); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Inventory(ctx, owner); got != nil || err != nil {
		t.Fatalf("after delete: %v, %v", got, err)
	}
}

func TestPruneOnlyWhatSluiceApplied(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	owner := Owner{Installation: "0123456789abcdef0123", Namespace: "flux-system", Name: "prune-" + ns}
	keep, gone, kept := configMap(t, ns, "keep", "1"), configMap(t, ns, "gone", "1"), configMap(t, ns, "kept-by-annotation", "1")
	kept.SetAnnotations(map[string]string{"kustomize.toolkit.fluxcd.io/prune": "disabled"})
	applied := []*unstructured.Unstructured{keep, gone, kept}
	SetOwner(applied, owner)
	if _, err := m.Apply(ctx, applied, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	// Someone else's object with a name in the inventory: never touched.
	foreign := configMap(t, ns, "foreign", "1")
	if _, err := dyn(t).Resource(cmGVR).Namespace(ns).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	old := []Entry{EntryFor(keep), EntryFor(gone), EntryFor(kept), EntryFor(foreign)}
	stale := Stale(old, []*unstructured.Unstructured{configMap(t, ns, "keep", "1")})
	if len(stale) != 3 {
		t.Fatalf("stale = %v", stale)
	}
	changes, err := m.Prune(ctx, owner, stale)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"ConfigMap/" + ns + "/gone": Deleted, "ConfigMap/" + ns + "/kept-by-annotation": Skipped, "ConfigMap/" + ns + "/foreign": Skipped}
	if diff := cmp.Diff(want, actions(changes)); diff != "" {
		t.Errorf("prune (-want +got):\n%s", diff)
	}
	for name, wantExists := range map[string]bool{"keep": true, "gone": false, "kept-by-annotation": true, "foreign": true} {
		_, err := dyn(t).Resource(cmGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if exists := err == nil; exists != wantExists {
			t.Errorf("%s exists = %v, want %v (%v)", name, exists, wantExists, err)
		}
	}
}

func TestDiff(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	desired := func() []*unstructured.Unstructured {
		return []*unstructured.Unstructured{deployment(t, ns, "web"), configMap(t, ns, "settings", "1"), configMap(t, ns, "other", "1")}
	}
	if _, err := m.Apply(ctx, desired(), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := m.Diff(ctx, desired(), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got {
		if d.Status != InSync {
			t.Errorf("right after apply: %+v (defaulted fields must not count)", d)
		}
	}

	// Another manager scales the Deployment; someone edits a ConfigMap and deletes another.
	scale := obj(t, fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: %s}\nspec: {replicas: 5}\n", ns))
	if _, err := dyn(t).Resource(deployGVR).Namespace(ns).Apply(ctx, "web", scale, metav1.ApplyOptions{FieldManager: "kubectl", Force: true}); err != nil {
		t.Fatal(err)
	}
	cm, _ := dyn(t).Resource(cmGVR).Namespace(ns).Get(ctx, "settings", metav1.GetOptions{})
	unstructured.SetNestedField(cm.Object, "edited", "data", "key")
	if _, err := dyn(t).Resource(cmGVR).Namespace(ns).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	if err := dyn(t).Resource(cmGVR).Namespace(ns).Delete(ctx, "other", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		ignore []IgnoreRule
		want   []ObjectDiff
	}{
		{name: "all drift", want: []ObjectDiff{
			{ID: "Deployment/" + ns + "/web", Status: Drifted, Fields: []string{"/spec/replicas"}},
			{ID: "ConfigMap/" + ns + "/settings", Status: Drifted, Fields: []string{"/data/key"}},
			{ID: "ConfigMap/" + ns + "/other", Status: Missing},
		}},
		{name: "replicas ignored", ignore: []IgnoreRule{{Paths: []string{"/spec/replicas"}, Target: &Selector{Kind: "Deployment"}}}, want: []ObjectDiff{
			{ID: "Deployment/" + ns + "/web", Status: InSync},
			{ID: "ConfigMap/" + ns + "/settings", Status: Drifted, Fields: []string{"/data/key"}},
			{ID: "ConfigMap/" + ns + "/other", Status: Missing},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Diff(ctx, desired(), DiffOptions{Ignore: tt.ignore})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}

	// An apply with the ignore rule keeps the other manager's replicas.
	if _, err := m.Apply(ctx, desired(), ApplyOptions{Ignore: tests[1].ignore}); err != nil {
		t.Fatal(err)
	}
	live, _ := dyn(t).Resource(deployGVR).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
	if r, _, _ := unstructured.NestedInt64(live.Object, "spec", "replicas"); r != 5 {
		t.Errorf("replicas = %d after an apply that ignores them, want 5", r)
	}
}

func TestWait(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	cm, dep := configMap(t, ns, "ready", "1"), deployment(t, ns, "never-ready")
	if _, err := m.Apply(ctx, []*unstructured.Unstructured{cm, dep}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := m.Wait(ctx, []*unstructured.Unstructured{cm}, nil, 10*time.Second); err != nil {
		t.Errorf("a ConfigMap is healthy at once: %v", err)
	}
	// No controllers run here: a Deployment never becomes available.
	err := m.Wait(ctx, nil, []HealthCheck{{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "never-ready"}}, 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), "never-ready") {
		t.Errorf("error = %v, want a timeout naming the Deployment", err)
	}
}
