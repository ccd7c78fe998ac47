package kube

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// InventoryNamespace holds one inventory ConfigMap per Kustomization.
const InventoryNamespace = "sluice-system"

// ApplySet labels and annotations (KEP-3659), so `kubectl apply --prune
// --applyset` and `kubectl get -l applyset.kubernetes.io/part-of=...` see
// Sluice's sets.
const (
	applySetIDLabel         = "applyset.kubernetes.io/id"
	applySetPartOfLabel     = "applyset.kubernetes.io/part-of"
	applySetToolingAnnot    = "applyset.kubernetes.io/tooling"
	applySetGroupKindsAnnot = "applyset.kubernetes.io/contains-group-kinds"
	applySetNamespacesAnnot = "applyset.kubernetes.io/additional-namespaces"
	applySetTooling         = "sluice/v1"
	inventoryOwnerLabel     = LabelPrefix + "/inventory"
	inventoryKeyRevision    = "revision"
	inventoryKeySource      = "source"
	inventoryKeyAppliedAt   = "appliedAt"
	inventoryKeyPrune       = "prune"
	inventoryKeyEntries     = "entries"
	inventoryOwnerNSAnnot   = LabelPrefix + "/kustomization-namespace"
	inventoryOwnerNameAnnot = LabelPrefix + "/kustomization-name"
)

// Entry is one applied object, in Flux's inventory form: ID is
// "<namespace>_<name>_<group>_<kind>" and Version the API version.
type Entry struct {
	ID      string `json:"id"`
	Version string `json:"v"`
}

// EntryFor returns the inventory entry of obj.
func EntryFor(obj *unstructured.Unstructured) Entry {
	gvk := obj.GroupVersionKind()
	return Entry{ID: obj.GetNamespace() + "_" + obj.GetName() + "_" + gvk.Group + "_" + gvk.Kind, Version: gvk.Version}
}

// Object returns a skeleton of the entry's object (identity only).
func (e Entry) Object() (*unstructured.Unstructured, error) {
	parts := strings.Split(e.ID, "_")
	if len(parts) != 4 || parts[1] == "" || parts[3] == "" {
		return nil, fmt.Errorf("inventory entry %q is not <namespace>_<name>_<group>_<kind>", e.ID)
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(schema.GroupVersionKind{Group: parts[2], Version: e.Version, Kind: parts[3]})
	obj.SetNamespace(parts[0])
	obj.SetName(parts[1])
	return obj, nil
}

// Inventory is what Sluice applied for one Kustomization.
type Inventory struct {
	Owner types.NamespacedName
	// Source names the repository and branch applied ("<repo>@<branch>"), so
	// installations of Sluice for different repositories leave each other's
	// inventories alone.
	Source    string
	Revision  string
	AppliedAt time.Time
	Prune     bool
	Entries   []Entry
}

// InventoryName is the ConfigMap of a Kustomization's inventory. Namespaces
// hold no dots, so "<namespace>.<name>" is unambiguous.
func InventoryName(owner types.NamespacedName) string { return owner.Namespace + "." + owner.Name }

// ApplySetID is the KEP-3659 id of the ApplySet whose parent is the
// inventory ConfigMap of owner.
func ApplySetID(owner types.NamespacedName) string {
	sum := sha256.Sum256([]byte(InventoryName(owner) + "." + InventoryNamespace + ".ConfigMap."))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// SetOwner labels objs as members of owner's ApplySet and with Sluice's owner
// labels, before they are applied.
func SetOwner(objs []*unstructured.Unstructured, owner types.NamespacedName) {
	id := ApplySetID(owner)
	for _, o := range objs {
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l[applySetPartOfLabel] = id
		l[LabelPrefix+"/name"] = owner.Name
		l[LabelPrefix+"/namespace"] = owner.Namespace
		o.SetLabels(l)
	}
}

// Inventory reads owner's inventory; nil when there is none.
func (m *Manager) Inventory(ctx context.Context, owner types.NamespacedName) (*Inventory, error) {
	var cm corev1.ConfigMap
	err := m.client.Get(ctx, client.ObjectKey{Namespace: InventoryNamespace, Name: InventoryName(owner)}, &cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the inventory of %s: %w", owner, err)
	}
	return decodeInventory(&cm)
}

// Inventories lists every inventory Sluice keeps in the cluster.
func (m *Manager) Inventories(ctx context.Context) ([]Inventory, error) {
	var list corev1.ConfigMapList
	if err := m.client.List(ctx, &list, client.InNamespace(InventoryNamespace), client.HasLabels{inventoryOwnerLabel}); err != nil {
		return nil, fmt.Errorf("listing inventories in %s: %w", InventoryNamespace, err)
	}
	out := make([]Inventory, 0, len(list.Items))
	for i := range list.Items {
		inv, err := decodeInventory(&list.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *inv)
	}
	return out, nil
}

func decodeInventory(cm *corev1.ConfigMap) (*Inventory, error) {
	inv := &Inventory{
		Owner:    types.NamespacedName{Namespace: cm.Annotations[inventoryOwnerNSAnnot], Name: cm.Annotations[inventoryOwnerNameAnnot]},
		Revision: cm.Data[inventoryKeyRevision],
		Source:   cm.Data[inventoryKeySource],
		Prune:    cm.Data[inventoryKeyPrune] == "true",
	}
	if t, err := time.Parse(time.RFC3339, cm.Data[inventoryKeyAppliedAt]); err == nil {
		inv.AppliedAt = t
	}
	if err := json.Unmarshal([]byte(cm.Data[inventoryKeyEntries]), &inv.Entries); err != nil {
		return nil, fmt.Errorf("inventory %s/%s: entries are not JSON: %w", cm.Namespace, cm.Name, err)
	}
	if inv.Owner.Name == "" {
		return nil, fmt.Errorf("inventory %s/%s does not name its Kustomization", cm.Namespace, cm.Name)
	}
	return inv, nil
}

// SaveInventory writes inv (server-side apply, creating sluice-system when
// missing) as an ApplySet parent.
func (m *Manager) SaveInventory(ctx context.Context, inv Inventory) error {
	if err := m.ensureNamespace(ctx); err != nil {
		return err
	}
	entries := append([]Entry(nil), inv.Entries...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
	b, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	gks, namespaces := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		parts := strings.Split(e.ID, "_")
		if len(parts) != 4 {
			continue
		}
		gk := parts[3]
		if parts[2] != "" {
			gk += "." + parts[2]
		}
		gks[gk] = true
		if parts[0] != "" && parts[0] != InventoryNamespace {
			namespaces[parts[0]] = true
		}
	}
	applied := inv.AppliedAt
	if applied.IsZero() {
		applied = m.nowFunc()
	}
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      InventoryName(inv.Owner),
			Namespace: InventoryNamespace,
			Labels:    map[string]string{applySetIDLabel: ApplySetID(inv.Owner), inventoryOwnerLabel: "true"},
			Annotations: map[string]string{
				applySetToolingAnnot:    applySetTooling,
				applySetGroupKindsAnnot: joinSorted(gks),
				applySetNamespacesAnnot: joinSorted(namespaces),
				inventoryOwnerNSAnnot:   inv.Owner.Namespace,
				inventoryOwnerNameAnnot: inv.Owner.Name,
			},
		},
		Data: map[string]string{
			inventoryKeyRevision:  inv.Revision,
			inventoryKeySource:    inv.Source,
			inventoryKeyAppliedAt: applied.UTC().Format(time.RFC3339),
			inventoryKeyPrune:     fmt.Sprint(inv.Prune),
			inventoryKeyEntries:   string(b),
		},
	}
	if err := m.client.Patch(ctx, cm, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("saving the inventory of %s: %w", inv.Owner, err)
	}
	return nil
}

// DeleteInventory removes owner's inventory.
func (m *Manager) DeleteInventory(ctx context.Context, owner types.NamespacedName) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: InventoryName(owner), Namespace: InventoryNamespace}}
	if err := m.client.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the inventory of %s: %w", owner, err)
	}
	return nil
}

func (m *Manager) ensureNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: InventoryNamespace}}
	if err := m.client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", InventoryNamespace, err)
	}
	return nil
}

func joinSorted(set map[string]bool) string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}
