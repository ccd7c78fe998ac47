package kube

import (
	"testing"
	"time"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
)

// Removal is the one place that decides what becomes of a gone
// Kustomization's objects, for reconcile and uninstall alike.
func TestRemovalFollowsDeletionPolicy(t *testing.T) {
	tests := []struct {
		name string
		inv  Inventory
		want Removal
	}{
		{"unset, pruned", Inventory{Prune: true}, Removal{Policy: "MirrorPrune", Delete: true}},
		{"MirrorPrune without prune", Inventory{DeletionPolicy: "MirrorPrune"}, Removal{Policy: "MirrorPrune"}},
		{"Delete without prune", Inventory{DeletionPolicy: "Delete"}, Removal{Policy: "Delete", Delete: true}},
		{"WaitForTermination, its timeout", Inventory{DeletionPolicy: "WaitForTermination", Timeout: time.Minute},
			Removal{Policy: "WaitForTermination", Delete: true, Wait: true, Timeout: time.Minute}},
		{"WaitForTermination, no timeout recorded", Inventory{DeletionPolicy: "WaitForTermination"},
			Removal{Policy: "WaitForTermination", Delete: true, Wait: true, Timeout: 5 * time.Minute}},
		{"Orphan, pruned", Inventory{DeletionPolicy: "Orphan", Prune: true}, Removal{Policy: "Orphan"}},
		{"suspended in Git keeps them", Inventory{DeletionPolicy: "Delete", Suspended: true}, Removal{Policy: "Delete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.inv.Removal()
			if err != nil || got != tt.want {
				t.Errorf("Removal() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if _, err := (Inventory{DeletionPolicy: "Shred", Prune: true}).Removal(); err == nil {
		t.Error("an unknown deletionPolicy was given a removal, want an error")
	}
}

// The policies an inventory records are the ones fluxconfig accepts.
func TestRemovalKnowsFluxconfigPolicies(t *testing.T) {
	for _, p := range []string{fluxconfig.DeletionPolicyMirrorPrune, fluxconfig.DeletionPolicyDelete,
		fluxconfig.DeletionPolicyWaitForTermination, fluxconfig.DeletionPolicyOrphan} {
		if _, err := (Inventory{DeletionPolicy: p}).Removal(); err != nil {
			t.Errorf("policy %s: %v", p, err)
		}
	}
}
