package kube

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// InventoryNamespace holds one inventory ConfigMap per Kustomization.
const InventoryNamespace = "sluice-system"

// ApplySet labels and annotations (KEP-3659), so `kubectl apply --prune
// --applyset` and `kubectl get -l applyset.kubernetes.io/part-of=...` see
// Sluice's sets.
const (
	applySetIDLabel            = "applyset.kubernetes.io/id"
	applySetPartOfLabel        = "applyset.kubernetes.io/part-of"
	applySetToolingAnnot       = "applyset.kubernetes.io/tooling"
	applySetGroupKindsAnnot    = "applyset.kubernetes.io/contains-group-kinds"
	applySetNamespacesAnnot    = "applyset.kubernetes.io/additional-namespaces"
	applySetTooling            = "sluice/v1"
	inventoryOwnerLabel        = LabelPrefix + "/inventory"
	inventoryKeyRevision       = "revision"
	inventoryKeySource         = "source"
	inventoryKeyAppliedAt      = "appliedAt"
	inventoryKeyPrune          = "prune"
	inventoryKeyEntries        = "entries"
	inventoryKeyPath           = "path"
	inventoryKeyTimeout        = "timeout"
	inventoryKeyDeletionPolicy = "deletionPolicy"
	inventoryKeySuspended      = "suspended"
	installationLabel          = LabelPrefix + "/installation"
	inventoryOwnerNSAnnot      = LabelPrefix + "/kustomization-namespace"
	inventoryOwnerNameAnnot    = LabelPrefix + "/kustomization-name"
)

// Entry is one applied object, in Flux's inventory form: ID is
// "<namespace>_<name>_<group>_<kind>" (cli-utils' ObjMetadata, with the
// colons of RBAC names written as "__") and Version the API version.
type Entry struct {
	ID      string `json:"id"`
	Version string `json:"v"`
}

// EntryFor returns the inventory entry of obj.
func EntryFor(obj *unstructured.Unstructured) Entry {
	gvk := obj.GroupVersionKind()
	id := object.ObjMetadata{Namespace: obj.GetNamespace(), Name: obj.GetName(), GroupKind: gvk.GroupKind()}
	return Entry{ID: id.String(), Version: gvk.Version}
}

// Object returns a skeleton of the entry's object (identity only).
func (e Entry) Object() (*unstructured.Unstructured, error) {
	id, err := object.ParseObjMetadata(e.ID)
	if err != nil || id.Name == "" || id.GroupKind.Kind == "" {
		return nil, fmt.Errorf("inventory entry %q is not <namespace>_<name>_<group>_<kind>", e.ID)
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(id.GroupKind.WithVersion(e.Version))
	obj.SetNamespace(id.Namespace)
	obj.SetName(id.Name)
	return obj, nil
}

// Owner names a Kustomization of one installation (one config repository,
// branch and config path). The inventory, its ApplySet id and the members'
// labels all derive from the three parts, so installations that share a
// cluster, even with Kustomizations of the same namespace and name, never
// read, prune or overwrite each other's.
type Owner struct {
	// Installation is the installation's id: a short hash, safe as a label value.
	Installation string
	Namespace    string
	Name         string
}

func (o Owner) String() string { return o.Namespace + "/" + o.Name }

// Inventory is what Sluice applied for one Kustomization.
type Inventory struct {
	Owner Owner
	// Source names the repository and branch applied ("<repo>@<branch>") and
	// Path the config folder that defines the Kustomization.
	Source string
	Path   string
	// Revision is the last revision applied in full; AppliedAt when.
	Revision  string
	AppliedAt time.Time
	// Prune, DeletionPolicy and Timeout are the Kustomization's, kept so
	// that its objects are handled as it said once it has left Git.
	Prune          bool
	DeletionPolicy string
	Timeout        time.Duration
	// Suspended marks a Kustomization suspended in Git: when it leaves Git
	// its objects stay, as in Flux.
	Suspended bool
	Entries   []Entry
	// Legacy marks an inventory written before installations had ids
	// (named "<namespace>.<name>", without the installation label).
	Legacy bool
}

// InventoryName is the ConfigMap of owner's inventory:
// "<namespace>.<name>.<installation>". Namespaces hold no dots, and the
// installation id has a fixed length, so the name is unambiguous; a name too
// long for a ConfigMap is replaced by its hash. An owner without an
// installation is a legacy one, named "<namespace>.<name>" as inventories
// were before installations had ids.
func InventoryName(owner Owner) string {
	if owner.Installation == "" {
		return owner.Namespace + "." + owner.Name
	}
	name := owner.Name
	if len(owner.Namespace)+len(name)+len(owner.Installation)+2 > validation.DNS1123SubdomainMaxLength {
		sum := sha256.Sum256([]byte(name))
		name = hex.EncodeToString(sum[:16])
	}
	return owner.Namespace + "." + name + "." + owner.Installation
}

// legacy is the owner of the inventory that owner's Kustomization had before
// installations had ids.
func (o Owner) legacy() Owner { return Owner{Namespace: o.Namespace, Name: o.Name} }

// ApplySetID is the KEP-3659 id of the ApplySet whose parent is owner's
// inventory ConfigMap.
func ApplySetID(owner Owner) string {
	sum := sha256.Sum256([]byte(InventoryName(owner) + "." + InventoryNamespace + ".ConfigMap."))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// SetOwner labels objs as members of owner's ApplySet and with Sluice's owner
// labels, before they are applied.
func SetOwner(objs []*unstructured.Unstructured, owner Owner) {
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
func (m *Manager) Inventory(ctx context.Context, owner Owner) (*Inventory, error) {
	inv, err := m.readInventory(ctx, InventoryName(owner))
	if err != nil || inv == nil {
		return nil, err
	}
	if inv.Owner != owner {
		return nil, fmt.Errorf("inventory %s/%s belongs to %s of installation %q, not to %s of %q",
			InventoryNamespace, InventoryName(owner), inv.Owner, inv.Owner.Installation, owner, owner.Installation)
	}
	return inv, nil
}

// LegacyInventory reads the inventory that owner's Kustomization had before
// installations had ids, when one is there and was written for source
// ("<repo>@<branch>"); nil otherwise. Adopt takes it over.
func (m *Manager) LegacyInventory(ctx context.Context, owner Owner, source string) (*Inventory, error) {
	inv, err := m.readInventory(ctx, InventoryName(owner.legacy()))
	if err != nil || inv == nil || !inv.Legacy || inv.Source != source {
		return nil, err
	}
	return inv, nil
}

func (m *Manager) readInventory(ctx context.Context, name string) (*Inventory, error) {
	var cm corev1.ConfigMap
	err := m.client.Get(ctx, client.ObjectKey{Namespace: InventoryNamespace, Name: name}, &cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the inventory %s/%s: %w", InventoryNamespace, name, err)
	}
	return decodeInventory(&cm)
}

// Inventories lists the inventories of one installation; the other
// installations' are not even read.
func (m *Manager) Inventories(ctx context.Context, installation string) ([]Inventory, error) {
	var list corev1.ConfigMapList
	if err := m.client.List(ctx, &list, client.InNamespace(InventoryNamespace),
		client.MatchingLabels{inventoryOwnerLabel: "true", installationLabel: installation}); err != nil {
		return nil, fmt.Errorf("listing the inventories of installation %s in %s: %w", installation, InventoryNamespace, err)
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
		Owner: Owner{
			Installation: cm.Labels[installationLabel],
			Namespace:    cm.Annotations[inventoryOwnerNSAnnot],
			Name:         cm.Annotations[inventoryOwnerNameAnnot],
		},
		Revision:       cm.Data[inventoryKeyRevision],
		Source:         cm.Data[inventoryKeySource],
		Path:           cm.Data[inventoryKeyPath],
		Prune:          cm.Data[inventoryKeyPrune] == "true",
		DeletionPolicy: cm.Data[inventoryKeyDeletionPolicy],
		Suspended:      cm.Data[inventoryKeySuspended] == "true",
		Legacy:         cm.Labels[installationLabel] == "",
	}
	if t, err := time.Parse(time.RFC3339, cm.Data[inventoryKeyAppliedAt]); err == nil {
		inv.AppliedAt = t
	}
	if s := cm.Data[inventoryKeyTimeout]; s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("inventory %s/%s: timeout %q: %w", cm.Namespace, cm.Name, s, err)
		}
		inv.Timeout = d
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
	if inv.Owner.Installation == "" {
		return fmt.Errorf("saving the inventory of %s: no installation id", inv.Owner)
	}
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
		id, err := object.ParseObjMetadata(e.ID)
		if err != nil {
			continue
		}
		gk := id.GroupKind.Kind
		if id.GroupKind.Group != "" {
			gk += "." + id.GroupKind.Group
		}
		gks[gk] = true
		if id.Namespace != "" && id.Namespace != InventoryNamespace {
			namespaces[id.Namespace] = true
		}
	}
	applied := inv.AppliedAt
	if applied.IsZero() {
		applied = m.nowFunc()
	}
	data := map[string]string{
		inventoryKeyRevision:  inv.Revision,
		inventoryKeySource:    inv.Source,
		inventoryKeyPath:      inv.Path,
		inventoryKeyAppliedAt: applied.UTC().Format(time.RFC3339),
		inventoryKeyPrune:     fmt.Sprint(inv.Prune),
		inventoryKeyEntries:   string(b),
	}
	if inv.DeletionPolicy != "" {
		data[inventoryKeyDeletionPolicy] = inv.DeletionPolicy
	}
	if inv.Suspended {
		data[inventoryKeySuspended] = "true"
	}
	if inv.Timeout > 0 {
		data[inventoryKeyTimeout] = inv.Timeout.String()
	}
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      InventoryName(inv.Owner),
			Namespace: InventoryNamespace,
			Labels: map[string]string{
				applySetIDLabel:     ApplySetID(inv.Owner),
				inventoryOwnerLabel: "true",
				installationLabel:   inv.Owner.Installation,
			},
			Annotations: map[string]string{
				applySetToolingAnnot:    applySetTooling,
				applySetGroupKindsAnnot: joinSorted(gks),
				applySetNamespacesAnnot: joinSorted(namespaces),
				inventoryOwnerNSAnnot:   inv.Owner.Namespace,
				inventoryOwnerNameAnnot: inv.Owner.Name,
			},
		},
		Data: data,
	}
	if err := m.client.Patch(ctx, cm, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("saving the inventory of %s: %w", inv.Owner, err)
	}
	return nil
}

// DeleteInventory removes owner's inventory.
func (m *Manager) DeleteInventory(ctx context.Context, owner Owner) error {
	name := InventoryName(owner)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: InventoryNamespace}}
	if err := m.client.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the inventory %s/%s of %s: %w", InventoryNamespace, name, owner, err)
	}
	return nil
}

// Adopt takes over legacy, owner's inventory from before installations had
// ids: its members still in the cluster are relabelled into owner's ApplySet
// (only those that carry the legacy set's label, so nothing Sluice did not
// apply becomes its own), the inventory is saved under owner, and the legacy
// one deleted. Nothing is re-created or orphaned, and a retry after a failure
// at any step finishes the job.
func (m *Manager) Adopt(ctx context.Context, legacy Inventory, owner Owner) (*Inventory, error) {
	from, to := ApplySetID(owner.legacy()), ApplySetID(owner)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for _, e := range legacy.Entries {
		g.Go(func() error { return m.relabel(gctx, e, from, to) })
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("taking over the inventory of %s: %w", owner, err)
	}
	inv := legacy
	inv.Owner, inv.Legacy = owner, false
	if err := m.SaveInventory(ctx, inv); err != nil {
		return nil, err
	}
	if err := m.DeleteInventory(ctx, owner.legacy()); err != nil {
		return nil, err
	}
	return &inv, nil
}

func (m *Manager) relabel(ctx context.Context, e Entry, from, to string) error {
	obj, err := m.live(ctx, e)
	if meta.IsNoMatchError(err) {
		return nil // its kind is gone from the cluster, and so is it
	}
	if err != nil || obj == nil || obj.GetLabels()[applySetPartOfLabel] != from {
		return err
	}
	patch := fmt.Appendf(nil, `{"metadata":{"labels":{%q:%q}}}`, applySetPartOfLabel, to)
	if err := m.client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(FieldManager)); err != nil {
		return fmt.Errorf("relabelling %s: %w", ObjectID(obj), err)
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
