package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
func (m *Manager) Prune(ctx context.Context, owner Owner, entries []Entry) ([]Change, error) {
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

// WaitForTermination waits until the objects of entries are gone from the
// cluster (finalizers done), or fails naming those still there when timeout
// passes or ctx ends.
func (m *Manager) WaitForTermination(ctx context.Context, entries []Entry, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pending := append([]Entry(nil), entries...)
	for {
		var still []Entry
		for _, e := range pending {
			obj, err := m.live(ctx, e)
			if err != nil && ctx.Err() == nil {
				return err
			}
			if obj != nil || err != nil {
				still = append(still, e)
			}
		}
		if len(still) == 0 {
			return nil
		}
		pending = still
		select {
		case <-ctx.Done():
			ids := make([]string, 0, len(still))
			for _, e := range still {
				ids = append(ids, e.ID)
			}
			return fmt.Errorf("objects not terminated after %s: %s", timeout, strings.Join(ids, ", "))
		case <-time.After(time.Second):
		}
	}
}
