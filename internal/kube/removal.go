package kube

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The deletion policies a Kustomization may give (Flux's spec.deletionPolicy),
// as its inventory records them.
const (
	deletionMirrorPrune        = "MirrorPrune"
	deletionDelete             = "Delete"
	deletionWaitForTermination = "WaitForTermination"
	deletionOrphan             = "Orphan"
)

// defaultTermination bounds the wait of WaitForTermination for inventories
// that predate the timeout field: Flux's default interval.
const defaultTermination = 5 * time.Minute

// Removal is what becomes of an inventory's objects once its Kustomization
// is gone, from Git or by `sluice uninstall`.
type Removal struct {
	// Policy is the deletionPolicy in force (MirrorPrune when none is recorded).
	Policy string
	// Delete says the objects are deleted; Wait that their termination is
	// awaited, for at most Timeout.
	Delete  bool
	Wait    bool
	Timeout time.Duration
}

// Removal decides, as Flux does, what happens to inv's objects: MirrorPrune
// deletes them when the Kustomization pruned, Delete always,
// WaitForTermination deletes them and waits until they are gone, Orphan
// never; a Kustomization suspended in Git keeps them. A policy Sluice does
// not know (written by a newer Sluice, say) is an error: deleting on a guess
// is not an option.
func (inv Inventory) Removal() (Removal, error) {
	r := Removal{Policy: inv.DeletionPolicy}
	if r.Policy == "" {
		r.Policy = deletionMirrorPrune
	}
	switch r.Policy {
	case deletionMirrorPrune:
		r.Delete = inv.Prune
	case deletionDelete:
		r.Delete = true
	case deletionWaitForTermination:
		r.Delete, r.Wait = true, true
		r.Timeout = inv.Timeout
		if r.Timeout == 0 {
			r.Timeout = defaultTermination
		}
	case deletionOrphan:
	default:
		return Removal{}, fmt.Errorf("its inventory's deletionPolicy %q is not one Sluice knows", inv.DeletionPolicy)
	}
	if inv.Suspended {
		r.Delete, r.Wait = false, false
	}
	return r, nil
}

// DeletedEntries are the entries whose objects changes (a Prune's) deleted:
// the ones whose termination a WaitForTermination removal waits for.
func DeletedEntries(entries []Entry, changes []Change) []Entry {
	deleted := map[string]bool{}
	for _, c := range changes {
		if c.Action == Deleted {
			deleted[c.ID] = true
		}
	}
	var out []Entry
	for _, e := range entries {
		if o, err := e.Object(); err == nil && deleted[ObjectID(o)] {
			out = append(out, e)
		}
	}
	return out
}

// DeleteInventoryNamespace deletes sluice-system when no installation keeps
// an inventory or a status in it, and reports whether it did: installations
// that share the cluster keep theirs.
func (m *Manager) DeleteInventoryNamespace(ctx context.Context) (bool, error) {
	for _, label := range []string{inventoryOwnerLabel, statusLabel} {
		var list corev1.ConfigMapList
		if err := m.client.List(ctx, &list, client.InNamespace(InventoryNamespace), client.HasLabels{label}, client.Limit(1)); err != nil {
			return false, fmt.Errorf("listing what %s holds: %w", InventoryNamespace, err)
		}
		if len(list.Items) > 0 {
			return false, nil
		}
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: InventoryNamespace}}
	if err := m.client.Delete(ctx, ns); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting the namespace %s: %w", InventoryNamespace, err)
	}
	return true, nil
}
