package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// Entries are Flux's inventory ids, and every valid name survives the trip:
// RBAC names may hold ":" (written "__", as cli-utils does) and "_".
func TestEntryRoundTripsEveryName(t *testing.T) {
	tests := []struct {
		name             string
		gvk              schema.GroupVersionKind
		namespace, oname string
		wantID           string
	}{
		{"configmap", schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "prod", "app.config-1", "prod_app.config-1__ConfigMap"},
		{"cluster-scoped", schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, "", "prod", "_prod__Namespace"},
		{"rbac colon", schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, "", "system:sluice:reader",
			"_system__sluice__reader_rbac.authorization.k8s.io_ClusterRole"},
		{"rbac underscore", schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"}, "prod", "read_only",
			"prod_read_only_rbac.authorization.k8s.io_Role"},
		{"rbac both", schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"}, "prod", "team:dev_ops",
			"prod_team__dev_ops_rbac.authorization.k8s.io_RoleBinding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &unstructured.Unstructured{}
			o.SetGroupVersionKind(tt.gvk)
			o.SetNamespace(tt.namespace)
			o.SetName(tt.oname)
			e := EntryFor(o)
			if e.ID != tt.wantID || e.Version != tt.gvk.Version {
				t.Fatalf("EntryFor = %+v, want id %q", e, tt.wantID)
			}
			back, err := e.Object()
			if err != nil {
				t.Fatal(err)
			}
			if back.GroupVersionKind() != tt.gvk || back.GetNamespace() != tt.namespace || back.GetName() != tt.oname {
				t.Errorf("Object() = %v %s/%s, want %v %s/%s", back.GroupVersionKind(), back.GetNamespace(), back.GetName(), tt.gvk, tt.namespace, tt.oname)
			}
		})
	}
}

// An RBAC object named with ":" and "_" is applied, recorded and pruned.
func TestPruneRBACNames(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	owner := Owner{Installation: "0123456789abcdef0123", Namespace: "flux-system", Name: "rbac-" + ns}
	role := obj(t, fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: \"team:%s_reader\", namespace: %s}\nrules: []\n", ns, ns))
	SetOwner([]*unstructured.Unstructured{role}, owner)
	if _, err := m.Apply(ctx, []*unstructured.Unstructured{role}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := m.SaveInventory(ctx, Inventory{Owner: owner, Prune: true, Entries: []Entry{EntryFor(role)}}); err != nil {
		t.Fatal(err)
	}
	inv, err := m.Inventory(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := m.Prune(ctx, owner, inv.Entries)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"Role/" + ns + "/team:" + ns + "_reader": Deleted}
	if diff := cmp.Diff(want, actions(changes)); diff != "" {
		t.Errorf("prune (-want +got):\n%s", diff)
	}
}

// Two installations defining the same Kustomization keep apart: own
// inventory names, ApplySet ids, listings, and prunes.
func TestInstallationsAreDisjoint(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	a := Owner{Installation: "aaaaaaaaaaaaaaaaaaaa", Namespace: "flux-system", Name: "flux-system"}
	b := Owner{Installation: "bbbbbbbbbbbbbbbbbbbb", Namespace: "flux-system", Name: "flux-system"}
	if InventoryName(a) == InventoryName(b) || ApplySetID(a) == ApplySetID(b) {
		t.Fatalf("installations share an inventory (%s) or ApplySet (%s)", InventoryName(a), ApplySetID(a))
	}
	ca, cb := configMap(t, ns, "from-a", "1"), configMap(t, ns, "from-b", "1")
	SetOwner([]*unstructured.Unstructured{ca}, a)
	SetOwner([]*unstructured.Unstructured{cb}, b)
	if _, err := m.Apply(ctx, []*unstructured.Unstructured{ca, cb}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Owner{a, b} {
		if err := m.SaveInventory(ctx, Inventory{Owner: o, Prune: true, Entries: []Entry{EntryFor(ca), EntryFor(cb)}}); err != nil {
			t.Fatal(err)
		}
	}
	// a's inventory names b's object too (say, after b took it over): a's
	// prune still leaves it.
	changes, err := m.Prune(ctx, a, []Entry{EntryFor(ca), EntryFor(cb)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"ConfigMap/" + ns + "/from-a": Deleted, "ConfigMap/" + ns + "/from-b": Skipped}
	if diff := cmp.Diff(want, actions(changes)); diff != "" {
		t.Errorf("prune (-want +got):\n%s", diff)
	}
	invs, err := m.Inventories(ctx, b.Installation)
	if err != nil || len(invs) != 1 || invs[0].Owner != b {
		t.Fatalf("b's inventories = %+v, %v", invs, err)
	}
}

// An inventory written before installations had ids is taken over: its
// members move to the new ApplySet in place (same UID), an object that is
// not its member is left alone, and the old inventory goes.
func TestAdoptLegacyInventory(t *testing.T) {
	ctx := context.Background()
	m, ns := manager(t), freshNamespace(t)
	owner := Owner{Installation: "0123456789abcdef0123", Namespace: "flux-system", Name: "legacy-" + ns}
	legacy := owner.legacy()
	member, foreign := configMap(t, ns, "member", "1"), configMap(t, ns, "foreign", "1")
	SetOwner([]*unstructured.Unstructured{member}, legacy)
	SetOwner([]*unstructured.Unstructured{foreign}, Owner{Installation: "ffffffffffffffffffff", Namespace: "x", Name: "y"})
	if _, err := m.Apply(ctx, []*unstructured.Unstructured{member, foreign}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	before, err := dyn(t).Resource(cmGVR).Namespace(ns).Get(ctx, "member", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The ConfigMap as the previous release wrote it.
	entries, _ := json.Marshal([]Entry{EntryFor(member), EntryFor(foreign), {ID: ns + "_gone__ConfigMap", Version: "v1"}})
	cs := kubernetes.NewForConfigOrDie(env.Config)
	old := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: InventoryName(legacy), Namespace: InventoryNamespace}}
	old.Labels = map[string]string{applySetIDLabel: ApplySetID(legacy), inventoryOwnerLabel: "true"}
	old.Annotations = map[string]string{inventoryOwnerNSAnnot: owner.Namespace, inventoryOwnerNameAnnot: owner.Name}
	old.Data = map[string]string{inventoryKeySource: "example.com/o/r@main", inventoryKeyRevision: "abc", inventoryKeyPrune: "true", inventoryKeyEntries: string(entries)}
	if err := m.ensureNamespace(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps(InventoryNamespace).Create(ctx, old, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if got, err := m.LegacyInventory(ctx, owner, "example.com/o/other@main"); got != nil || err != nil {
		t.Fatalf("another source's legacy inventory = %+v, %v; want none", got, err)
	}
	found, err := m.LegacyInventory(ctx, owner, "example.com/o/r@main")
	if err != nil || found == nil || !found.Legacy {
		t.Fatalf("LegacyInventory = %+v, %v", found, err)
	}
	inv, err := m.Adopt(ctx, *found, owner)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Owner != owner || inv.Revision != "abc" || len(inv.Entries) != 3 {
		t.Errorf("adopted = %+v", inv)
	}
	after, err := dyn(t).Resource(cmGVR).Namespace(ns).Get(ctx, "member", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.GetUID() != before.GetUID() || after.GetLabels()[applySetPartOfLabel] != ApplySetID(owner) {
		t.Errorf("member: uid %s→%s, part-of %q, want %q in place", before.GetUID(), after.GetUID(), after.GetLabels()[applySetPartOfLabel], ApplySetID(owner))
	}
	f, err := dyn(t).Resource(cmGVR).Namespace(ns).Get(ctx, "foreign", metav1.GetOptions{})
	if err != nil || f.GetLabels()[applySetPartOfLabel] == ApplySetID(owner) {
		t.Errorf("a non-member was relabelled: %v, %v", f.GetLabels(), err)
	}
	if got, err := m.Inventory(ctx, owner); err != nil || got == nil {
		t.Fatalf("new inventory = %v, %v", got, err)
	}
	if got, err := m.LegacyInventory(ctx, owner, "example.com/o/r@main"); got != nil || err != nil {
		t.Errorf("legacy inventory still there: %+v, %v", got, err)
	}
}
