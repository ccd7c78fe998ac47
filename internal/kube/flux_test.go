package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

var (
	secretGVR  = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	serviceGVR = schema.GroupVersionResource{Version: "v1", Resource: "services"}
)

func annotated(u *unstructured.Unstructured, kv ...string) *unstructured.Unstructured {
	a := u.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	for i := 0; i < len(kv); i += 2 {
		a[kv[i]] = kv[i+1]
	}
	u.SetAnnotations(a)
	return u
}

// annotateLive marks the object in the cluster, as a user would with
// kubectl annotate.
func annotateLive(t *testing.T, gvr schema.GroupVersionResource, ns, name, key, value string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
	if _, err := dyn(t).Resource(gvr).Namespace(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "someone"}); err != nil {
		t.Fatal(err)
	}
}

func liveData(t *testing.T, gvr schema.GroupVersionResource, ns, name string) (map[string]any, bool) {
	t.Helper()
	u, err := dyn(t).Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedMap(u.Object, "data")
	return data, true
}

// TestApplyHonoursFluxAnnotations: each of the README's annotations, in Git
// or on the object in the cluster, as kustomize-controller reads them.
func TestApplyHonoursFluxAnnotations(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// inGit marks the object in Git; inCluster marks the live object
		// after the first apply.
		inGit, inCluster []string
		// existing: the object is applied (unmarked, value "1") first.
		existing bool
		want     map[string]any // the live data after applying value "2"; nil: absent
	}{
		{name: "reconcile disabled in Git, missing", inGit: []string{fluxReconcile, disabled}, want: nil},
		{name: "reconcile disabled in the cluster", existing: true, inCluster: []string{fluxReconcile, disabled}, want: map[string]any{"key": "1"}},
		{name: "ssa Ignore in Git, missing", inGit: []string{fluxSSA, ssaIgnore}, want: nil},
		{name: "ssa Ignore in Git, present", existing: true, inGit: []string{fluxSSA, ssaIgnore}, want: map[string]any{"key": "1"}},
		{name: "ssa Ignore in the cluster", existing: true, inCluster: []string{fluxSSA, ssaIgnore}, want: map[string]any{"key": "1"}},
		{name: "ssa IfNotPresent, missing", inGit: []string{fluxSSA, ssaIfMissing}, want: map[string]any{"key": "2"}},
		{name: "ssa IfNotPresent, present", existing: true, inGit: []string{fluxSSA, ssaIfMissing}, want: map[string]any{"key": "1"}},
		{name: "no mark", existing: true, want: map[string]any{"key": "2"}},
	}
	m, ns := manager(t), freshNamespace(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("cm-%d", i)
			if tt.existing {
				if _, err := m.Apply(ctx, []*unstructured.Unstructured{configMap(t, ns, name, "1")}, ApplyOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if len(tt.inCluster) > 0 {
				annotateLive(t, cmGVR, ns, name, tt.inCluster[0], tt.inCluster[1])
			}
			if _, err := m.Apply(ctx, []*unstructured.Unstructured{annotated(configMap(t, ns, name, "2"), tt.inGit...)}, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			got, exists := liveData(t, cmGVR, ns, name)
			if tt.want == nil {
				if exists {
					t.Fatalf("applied: %v, want nothing applied", got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("live data (-want +got):\n%s", diff)
			}
		})
	}
}

// selectorChange is a Deployment whose spec.selector (immutable) changes
// between versions.
func selectorDeployment(t *testing.T, ns, name, app string) *unstructured.Unstructured {
	return obj(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %[3]s}}
    spec: {containers: [{name: app, image: example.com/app:1.0.0}]}
`, name, ns, app))
}

// TestForceRecreates: spec.force and the force: enabled annotation recreate
// an object whose immutable fields changed, in apply and in drift's diff;
// without either the apply fails and leaves the object.
func TestForceRecreates(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		force  bool
		annot  []string
		forced bool
	}{
		{name: "no force"},
		{name: "spec.force", force: true, forced: true},
		{name: "force: enabled", annot: []string{fluxForce, enabled}, forced: true},
	}
	m, ns := manager(t), freshNamespace(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("web-%d", i)
			if _, err := m.Apply(ctx, []*unstructured.Unstructured{selectorDeployment(t, ns, name, "v1")}, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			before, err := dyn(t).Resource(deployGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			next := func() []*unstructured.Unstructured {
				return []*unstructured.Unstructured{annotated(selectorDeployment(t, ns, name, "v2"), tt.annot...)}
			}

			diffs, err := m.Diff(ctx, next(), DiffOptions{Force: tt.force})
			if !tt.forced {
				if err == nil || !strings.Contains(err.Error(), "immutable") {
					t.Errorf("diff without force: %v, %v; want an error naming the immutable field", diffs, err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if want := []ObjectDiff{{ID: "Deployment/" + ns + "/" + name, Status: Drifted, Recreate: true}}; !cmp.Equal(want, diffs) {
				t.Errorf("diff (-want +got):\n%s", cmp.Diff(want, diffs))
			}

			_, err = m.Apply(ctx, next(), ApplyOptions{Force: tt.force})
			after, getErr := dyn(t).Resource(deployGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
			if getErr != nil {
				t.Fatal(getErr)
			}
			app, _, _ := unstructured.NestedString(after.Object, "spec", "selector", "matchLabels", "app")
			if !tt.forced {
				if err == nil || after.GetUID() != before.GetUID() || app != "v1" {
					t.Errorf("apply without force: err %v, selector %s, recreated %v; want an error and the object left", err, app, after.GetUID() != before.GetUID())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if after.GetUID() == before.GetUID() || app != "v2" {
				t.Errorf("selector %s, recreated %v; want v2, recreated", app, after.GetUID() != before.GetUID())
			}
		})
	}
}

// TestPruneKeepsObjectsMarkedInCluster: prune leaves objects marked, in the
// cluster, reconcile: disabled or ssa: Ignore, as kustomize-controller does.
func TestPruneKeepsObjectsMarkedInCluster(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	owner := Owner{Installation: "0123456789abcdef0123", Namespace: "flux-system", Name: "marks-" + ns}
	objs := []*unstructured.Unstructured{configMap(t, ns, "disabled", "1"), configMap(t, ns, "ignored", "1"), configMap(t, ns, "plain", "1")}
	SetOwner(objs, owner)
	if _, err := m.Apply(ctx, objs, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	annotateLive(t, cmGVR, ns, "disabled", fluxReconcile, disabled)
	annotateLive(t, cmGVR, ns, "ignored", fluxSSA, ssaIgnore)
	entries := []Entry{EntryFor(objs[0]), EntryFor(objs[1]), EntryFor(objs[2])}
	for _, e := range entries {
		prunable, err := m.Prunable(ctx, owner, e)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Contains(e.ID, "_plain_"); prunable != want {
			t.Errorf("Prunable(%s) = %v, want %v", e.ID, prunable, want)
		}
	}
	changes, err := m.Prune(ctx, owner, entries)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"ConfigMap/" + ns + "/disabled": Skipped, "ConfigMap/" + ns + "/ignored": Skipped, "ConfigMap/" + ns + "/plain": Deleted}
	if diff := cmp.Diff(want, actions(changes)); diff != "" {
		t.Errorf("prune (-want +got):\n%s", diff)
	}
	for name, wantExists := range map[string]bool{"disabled": true, "ignored": true, "plain": false} {
		if _, exists := liveData(t, cmGVR, ns, name); exists != wantExists {
			t.Errorf("%s exists = %v, want %v", name, exists, wantExists)
		}
	}
}

// TestApplyNormalises: a Secret's stringData is applied as data, so a key
// removed from stringData in Git is removed from the cluster; ports without
// a protocol apply and compare cleanly.
func TestApplyNormalises(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	secret := func(keys ...string) *unstructured.Unstructured {
		s := obj(t, fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: %s}\ntype: Opaque\nstringData: {}\n", ns))
		for _, k := range keys {
			_ = unstructured.SetNestedField(s.Object, "value-"+k, "stringData", k)
		}
		return s
	}
	service := func() *unstructured.Unstructured {
		return obj(t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: %s}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: metrics, port: 9090}]
`, ns))
	}
	desired := func(keys ...string) []*unstructured.Unstructured {
		return []*unstructured.Unstructured{secret(keys...), service(), deployment(t, ns, "web")}
	}
	if _, err := m.Apply(ctx, desired("a", "b"), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	diffs, err := m.Diff(ctx, desired("a", "b"), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if d.Status != InSync {
			t.Errorf("right after apply: %+v", d)
		}
	}
	changes, err := m.Apply(ctx, desired("a", "b"), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for id, a := range actions(changes) {
		if a != Unchanged {
			t.Errorf("second apply: %s %s, want unchanged", id, a)
		}
	}

	diffs, err = m.Diff(ctx, desired("a"), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (ObjectDiff{ID: "Secret/" + ns + "/creds", Status: Drifted, Fields: []string{"/data/b"}}); !cmp.Equal(want, diffs[0]) {
		t.Errorf("diff with b removed from Git (-want +got):\n%s", cmp.Diff(want, diffs[0]))
	}
	if _, err := m.Apply(ctx, desired("a"), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	data, _ := liveData(t, secretGVR, ns, "creds")
	if _, ok := data["b"]; ok || data["a"] == nil {
		t.Errorf("Secret data = %v after b left stringData in Git; want a only", data)
	}
	if _, ok := liveData(t, serviceGVR, ns, "web"); !ok {
		t.Error("Service not applied")
	}
}

// TestTakeOverFromFluxAndKubectl: objects last applied by kustomize-controller,
// kubectl (client-side or server-side) are taken over as Flux takes them
// over: a field deleted from Git is reported as drift and removed by the
// next apply; ssa: Merge keeps the other manager's fields.
func TestTakeOverFromFluxAndKubectl(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	// first writes the object with fields a and b as another tool would.
	type writer func(t *testing.T, u *unstructured.Unstructured)
	serverSide := func(manager string) writer {
		return func(t *testing.T, u *unstructured.Unstructured) {
			if _, err := dyn(t).Resource(cmGVR).Namespace(ns).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: manager, Force: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	update := func(manager string, lastApplied bool) writer {
		return func(t *testing.T, u *unstructured.Unstructured) {
			if lastApplied {
				b, _ := u.MarshalJSON()
				annotated(u, "kubectl.kubernetes.io/last-applied-configuration", string(b))
			}
			if _, err := dyn(t).Resource(cmGVR).Namespace(ns).Create(ctx, u, metav1.CreateOptions{FieldManager: manager}); err != nil {
				t.Fatal(err)
			}
		}
	}
	lastApplied := "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"
	tests := []struct {
		name       string
		write      writer
		merge      bool
		wantFields []string
	}{
		{name: "kustomize-controller", write: serverSide("kustomize-controller"), wantFields: []string{"/data/b", "/metadata/labels/kustomize.toolkit.fluxcd.io~1name"}},
		{name: "kubectl server-side", write: serverSide("kubectl"), wantFields: []string{"/data/b", "/metadata/labels/kustomize.toolkit.fluxcd.io~1name"}},
		{name: "kubectl client-side", write: update("kubectl-client-side-apply", true), wantFields: []string{"/data/b", lastApplied, "/metadata/labels/kustomize.toolkit.fluxcd.io~1name"}},
		{name: "before-first-apply", write: update("before-first-apply", false), wantFields: []string{"/data/b", "/metadata/labels/kustomize.toolkit.fluxcd.io~1name"}},
		{name: "ssa Merge", write: serverSide("kustomize-controller"), merge: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("taken-%d", i)
			old := configMap(t, ns, name, "1")
			_ = unstructured.SetNestedField(old.Object, "2", "data", "b")
			old.SetLabels(map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps"})
			want := func() *unstructured.Unstructured { return configMap(t, ns, name, "1") }
			if tt.merge {
				annotated(old, fluxSSA, ssaMerge)
				want = func() *unstructured.Unstructured { return annotated(configMap(t, ns, name, "1"), fluxSSA, ssaMerge) }
			}
			tt.write(t, old)

			diffs, err := m.Diff(ctx, []*unstructured.Unstructured{want()}, DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantDiff := ObjectDiff{ID: "ConfigMap/" + ns + "/" + name, Status: Drifted, Fields: tt.wantFields}
			if tt.merge {
				wantDiff = ObjectDiff{ID: wantDiff.ID, Status: InSync}
			}
			if diff := cmp.Diff([]ObjectDiff{wantDiff}, diffs); diff != "" {
				t.Errorf("diff before the takeover (-want +got):\n%s", diff)
			}

			if _, err := m.Apply(ctx, []*unstructured.Unstructured{want()}, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			data, _ := liveData(t, cmGVR, ns, name)
			if _, kept := data["b"]; kept != tt.merge {
				t.Errorf("live data %v: b kept = %v, want %v", data, kept, tt.merge)
			}
			diffs, err = m.Diff(ctx, []*unstructured.Unstructured{want()}, DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diffs[0].Status != InSync {
				t.Errorf("after the apply: %+v, want InSync", diffs[0])
			}
		})
	}
}

// TestTakeOverPointsIntoLists: a removed item of a keyed list is reported
// at its index in the live object.
func TestTakeOverPointsIntoLists(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	withEnv := func(names ...string) *unstructured.Unstructured {
		d := deployment(t, ns, "web")
		c, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		var env []any
		for _, n := range names {
			env = append(env, map[string]any{"name": n, "value": "x"})
		}
		c[0].(map[string]any)["env"] = env
		_ = unstructured.SetNestedSlice(d.Object, c, "spec", "template", "spec", "containers")
		return d
	}
	if _, err := dyn(t).Resource(deployGVR).Namespace(ns).Apply(ctx, "web", withEnv("A", "B", "C"), metav1.ApplyOptions{FieldManager: "kustomize-controller"}); err != nil {
		t.Fatal(err)
	}
	diffs, err := m.Diff(ctx, []*unstructured.Unstructured{withEnv("A", "C")}, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectDiff{{ID: "Deployment/" + ns + "/web", Status: Drifted, Fields: []string{"/spec/template/spec/containers/0/env/1"}}}
	if diff := cmp.Diff(want, diffs); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
}

// TestDiffHonoursFluxAnnotations: objects an apply leaves alone are not
// drift, whether marked in Git or in the cluster.
func TestDiffHonoursFluxAnnotations(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	tests := []struct {
		name             string
		inGit, inCluster []string
	}{
		{name: "ssa IfNotPresent", inGit: []string{fluxSSA, ssaIfMissing}},
		{name: "ssa Ignore in Git", inGit: []string{fluxSSA, ssaIgnore}},
		{name: "ssa Ignore in the cluster", inCluster: []string{fluxSSA, ssaIgnore}},
		{name: "reconcile disabled in Git", inGit: []string{fluxReconcile, disabled}},
		{name: "reconcile disabled in the cluster", inCluster: []string{fluxReconcile, disabled}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("marked-%d", i)
			if _, err := m.Apply(ctx, []*unstructured.Unstructured{configMap(t, ns, name, "1")}, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			annotateLive(t, cmGVR, ns, name, "edited", "by-hand")
			if len(tt.inCluster) > 0 {
				annotateLive(t, cmGVR, ns, name, tt.inCluster[0], tt.inCluster[1])
			}
			diffs, err := m.Diff(ctx, []*unstructured.Unstructured{annotated(configMap(t, ns, name, "2"), tt.inGit...)}, DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diffs[0].Status != InSync {
				t.Errorf("diff = %+v, want InSync", diffs[0])
			}
		})
	}
}

// TestWaitSaysWhenTheInvocationCutsTheTimeout: a timeout longer than the
// invocation has left is not silently shortened.
func TestWaitSaysWhenTheInvocationCutsTheTimeout(t *testing.T) {
	m, ns := manager(t), freshNamespace(t)
	if _, err := m.Apply(context.Background(), []*unstructured.Unstructured{deployment(t, ns, "never-ready")}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	checks := []HealthCheck{{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "never-ready"}}
	err := m.Wait(ctx, nil, checks, 10*time.Minute)
	if !errors.Is(err, ErrInvocationDeadline) {
		t.Fatalf("error = %v, want ErrInvocationDeadline", err)
	}
	for _, want := range []string{"10m0s timeout", "never-ready"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
