package kube

import (
	"fmt"
	"time"
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
