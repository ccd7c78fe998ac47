package kube

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// With Detail, a drifted object keeps its live and merged forms for a
// reader (`sluice diff`), Secret values masked and managed fields dropped;
// without it, none are kept.
func TestDiffDetailMasksSecrets(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	secret := func() []*unstructured.Unstructured {
		return []*unstructured.Unstructured{obj(t, fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: %s}\ndata: {password: c2VjcmV0MQ==}\n", ns))}
	}
	if _, err := m.Apply(ctx, secret(), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	live, err := dyn(t).Resource(gvr).Namespace(ns).Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unstructured.SetNestedField(live.Object, "aHVudGVyMg==", "data", "password")
	if _, err := dyn(t).Resource(gvr).Namespace(ns).Update(ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}

	plain, err := m.Diff(ctx, secret(), DiffOptions{})
	if err != nil || plain[0].Status != Drifted || plain[0].Live != nil || plain[0].Merged != nil {
		t.Fatalf("without Detail: %+v, %v", plain, err)
	}
	got, err := m.Diff(ctx, secret(), DiffOptions{Detail: true})
	if err != nil || got[0].Live == nil || got[0].Merged == nil {
		t.Fatalf("with Detail: %+v, %v", got, err)
	}
	before, _, _ := unstructured.NestedString(got[0].Live.Object, "data", "password")
	after, _, _ := unstructured.NestedString(got[0].Merged.Object, "data", "password")
	if before == after || !strings.HasPrefix(before, "***") || !strings.HasPrefix(after, "***") {
		t.Errorf("values not masked, or masked alike: before %q, after %q", before, after)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(got[0].Live.Object, "metadata", "managedFields"); found {
		t.Error("managed fields kept")
	}
}
