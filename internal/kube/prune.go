package kube

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// Stale returns the entries of old that are not in current.
func Stale(old []Entry, current []*unstructured.Unstructured) []Entry {
	keep := make(map[string]bool, len(current))
	for _, o := range current {
		keep[EntryFor(o).ID] = true
	}
	var out []Entry
	for _, e := range old {
		if !keep[e.ID] {
			out = append(out, e)
		}
	}
	return out
}

// Prune deletes the objects of entries, in background propagation (as Flux
// does; nothing waits on garbage collection). Only objects that still carry
// owner's ApplySet label are deleted, so an object Sluice did not apply is
// never touched; objects marked in the cluster as pruneExclusions says stay.
func (m *Manager) Prune(ctx context.Context, owner types.NamespacedName, entries []Entry) ([]Change, error) {
	objs := make([]*unstructured.Unstructured, 0, len(entries))
	for _, e := range entries {
		o, err := e.Object()
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		return nil, nil
	}
	cs, err := m.rm.DeleteAll(ctx, objs, ssa.DeleteOptions{
		PropagationPolicy: metav1.DeletePropagationBackground,
		Inclusions:        map[string]string{applySetPartOfLabel: ApplySetID(owner)},
		Exclusions:        pruneExclusions(),
	})
	changes := toChanges(cs)
	if err != nil {
		return changes, fmt.Errorf("pruning objects of %s: %w", owner, err)
	}
	return changes, nil
}
