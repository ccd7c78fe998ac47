package kube

import (
	"context"
	"fmt"
	"testing"

	"github.com/fluxcd/pkg/ssa/normalize"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestUnchangedOnlyWhenAnApplyChangesNothing changes objects Sluice applied
// the ways others (and Git) change them, and checks that the objects an
// apply skips are exactly those it would not change: every drift by
// others that an apply corrects is applied and corrected.
func TestUnchangedOnlyWhenAnApplyChangesNothing(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	svcGVR := schema.GroupVersionResource{Version: "v1", Resource: "services"}
	cm := func(name string) *unstructured.Unstructured {
		return obj(t, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s, labels: {app: web}}\ndata: {a: '1', b: '2'}\n", name, ns))
	}
	svc := func(name string) *unstructured.Unstructured {
		return obj(t, fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}\n", name, ns))
	}
	// update writes the object as manager, changed by change.
	update := func(gvr schema.GroupVersionResource, manager string, change func(u *unstructured.Unstructured)) func(t *testing.T, name string) {
		return func(t *testing.T, name string) {
			u, err := dyn(t).Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			change(u)
			if _, err := dyn(t).Resource(gvr).Namespace(ns).Update(ctx, u, metav1.UpdateOptions{FieldManager: manager}); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name      string
		desired   func(name string) *unstructured.Unstructured
		gvr       schema.GroupVersionResource
		change    func(t *testing.T, name string)
		inGit     func(u *unstructured.Unstructured) // a change in Git after the apply
		unchanged bool
		action    Action // of the apply that follows
	}{
		{name: "nothing changed", desired: cm, gvr: cmGVR, unchanged: true, action: Unchanged},
		{name: "a controller adds an annotation", desired: cm, gvr: cmGVR, unchanged: true, action: Unchanged,
			change: update(cmGVR, "some-controller", func(u *unstructured.Unstructured) { u.SetAnnotations(map[string]string{"example.com/seen": "yes"}) })},
		{name: "someone edits a value", desired: cm, gvr: cmGVR, action: Configured,
			change: update(cmGVR, "someone", func(u *unstructured.Unstructured) { u.Object["data"].(map[string]any)["a"] = "edited" })},
		{name: "someone removes a value", desired: cm, gvr: cmGVR, action: Configured,
			change: update(cmGVR, "someone", func(u *unstructured.Unstructured) { delete(u.Object["data"].(map[string]any), "b") })},
		{name: "someone removes a label", desired: cm, gvr: cmGVR, action: Configured,
			change: update(cmGVR, "someone", func(u *unstructured.Unstructured) { u.SetLabels(nil) })},
		{name: "someone widens an atomic map", desired: svc, gvr: svcGVR, action: Configured,
			change: update(svcGVR, "someone", func(u *unstructured.Unstructured) {
				u.Object["spec"].(map[string]any)["selector"].(map[string]any)["tier"] = "front"
			})},
		{name: "kubectl leaves its last-applied annotation", desired: cm, gvr: cmGVR, action: Configured,
			change: update(cmGVR, "kubectl-client-side-apply", func(u *unstructured.Unstructured) {
				u.SetAnnotations(map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"})
			})},
		{name: "a key removed in Git", desired: cm, gvr: cmGVR, action: Configured,
			inGit: func(u *unstructured.Unstructured) { delete(u.Object["data"].(map[string]any), "b") }},
		{name: "a value changed in Git", desired: svc, gvr: svcGVR, action: Configured,
			inGit: func(u *unstructured.Unstructured) {
				u.Object["spec"].(map[string]any)["selector"] = map[string]any{"app": "api"}
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("obj-%d", i)
			if _, err := m.Apply(ctx, []*unstructured.Unstructured{tt.desired(name)}, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			if tt.change != nil {
				tt.change(t, name)
			}
			want := tt.desired(name)
			if tt.inGit != nil {
				tt.inGit(want)
			}
			if err := normalize.UnstructuredList([]*unstructured.Unstructured{want}); err != nil {
				t.Fatal(err)
			}
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(want.GroupVersionKind())
			if err := m.client.Get(ctx, client.ObjectKeyFromObject(want), live); err != nil {
				t.Fatal(err)
			}
			if got := unchanged(want, live, nil); got != tt.unchanged {
				t.Errorf("unchanged = %v, want %v", got, tt.unchanged)
			}
			changes, err := m.Apply(ctx, []*unstructured.Unstructured{want.DeepCopy()}, ApplyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != 1 || changes[0].Action != tt.action {
				t.Errorf("apply: %v, want %s", changes, tt.action)
			}
			if err := m.client.Get(ctx, client.ObjectKeyFromObject(want), live); err != nil {
				t.Fatal(err)
			}
			if !contains(live.Object, applied(want.Object)) {
				t.Errorf("after the apply the cluster holds %v, want %v", live.Object, want.Object)
			}
		})
	}
}
