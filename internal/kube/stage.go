package kube

import (
	"context"
	"fmt"
	"sort"

	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	"github.com/fluxcd/pkg/ssa/utils"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// stage is objects applied together; wait: awaited before the next stage.
type stage struct {
	objs []*unstructured.Unstructured
	wait bool
}

// stages splits objs as ssa's ApplyAllStaged does: cluster definitions
// (CRDs, Namespaces, ClusterRoles), then class definitions, both awaited,
// then everything else. Empty stages are left out.
func stages(objs []*unstructured.Unstructured) []stage {
	defs, classes, rest := stage{wait: true}, stage{wait: true}, stage{}
	for _, o := range objs {
		utils.RemoveCABundleFromCRD(o)
		switch {
		case utils.IsClusterDefinition(o):
			defs.objs = append(defs.objs, o)
		case utils.IsClassDefinition(o):
			classes.objs = append(classes.objs, o)
		default:
			rest.objs = append(rest.objs, o)
		}
	}
	var out []stage
	for _, s := range []stage{defs, classes, rest} {
		if len(s.objs) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// applyStage applies the objects of one stage. Their live state is read
// ahead (readLive); objects an apply would not change (unchanged) are
// reported so with no further request. The others are dry-run, all of them,
// before any is applied; when a dry-run fails, ssa's ApplyAll takes the
// stage over, so its errors and its recreation of objects whose immutable
// fields changed stay as they were. Then they are applied kind by kind, in
// ssa's order, the objects of one kind concurrently, each with ssa's Apply
// served the GET and the dry-run already made.
func (m *Manager) applyStage(ctx context.Context, objs []*unstructured.Unstructured, o ssa.ApplyOptions, ignore jsondiff.CompiledIgnoreRules) ([]Change, error) {
	sort.Sort(ssa.SortableUnstructureds(objs))
	live := m.readLive(ctx, objs)
	changes := make([]Change, len(objs))
	var todo []int
	for i, obj := range objs {
		if a := live[keyOf(obj)]; unchanged(obj, a.obj, ignore) {
			changes[i] = Change{ID: utils.FmtUnstructured(obj), Action: Unchanged}
			continue
		}
		todo = append(todo, i)
	}
	dryRuns, ok := m.dryRunAll(ctx, objs, todo)
	if !ok {
		return m.applyAllBySSA(ctx, objs, todo, changes, o)
	}
	ra := &readAhead{live: live, dryRun: dryRuns}
	actx := withReadAhead(ctx, ra)
	for _, kind := range byKind(objs, todo) {
		g := errgroup.Group{} // not WithContext: an apply under way finishes
		g.SetLimit(concurrency)
		errs := make([]error, len(kind))
		for j, i := range kind {
			g.Go(func() error {
				entry, err := m.rm.Apply(actx, objs[i], o)
				if err != nil {
					errs[j] = err
					return nil
				}
				changes[i] = Change{ID: entry.Subject, Action: action(entry.Action)}
				return nil
			})
		}
		_ = g.Wait()
		if err := firstOf(errs); err != nil {
			return made(changes), err
		}
	}
	return changes, nil
}

// dryRunAll dry-runs objs[i] for each i of todo, concurrently, as ssa's
// Apply would. ok is false when any of them failed.
func (m *Manager) dryRunAll(ctx context.Context, objs []*unstructured.Unstructured, todo []int) (map[objKey]*unstructured.Unstructured, bool) {
	results := make([]*unstructured.Unstructured, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for j, i := range todo {
		g.Go(func() error {
			d := objs[i].DeepCopy()
			if err := m.client.Patch(gctx, d, client.Apply, client.DryRunAll, client.ForceOwnership, client.FieldOwner(FieldManager)); err != nil {
				return err
			}
			results[j] = d
			return nil
		})
	}
	if g.Wait() != nil {
		return nil, false
	}
	out := make(map[objKey]*unstructured.Unstructured, len(todo))
	for j, i := range todo {
		out[keyOf(objs[i])] = results[j]
	}
	return out, true
}

// applyAllBySSA applies objs[i] for each i of todo with ssa's ApplyAll,
// which dry-runs and applies one by one; changes holds the unchanged.
func (m *Manager) applyAllBySSA(ctx context.Context, objs []*unstructured.Unstructured, todo []int, changes []Change, o ssa.ApplyOptions) ([]Change, error) {
	subset := make([]*unstructured.Unstructured, 0, len(todo))
	for _, i := range todo {
		subset = append(subset, objs[i])
	}
	cs, err := m.rm.ApplyAll(ctx, subset, o)
	out := append(made(changes), toChanges(cs)...)
	return out, err
}

// firstOf is the first error of errs, saying how many more there are: a
// quota or a webhook may refuse hundreds of objects alike.
func firstOf(errs []error) error {
	var first error
	more := 0
	for _, err := range errs {
		switch {
		case err == nil:
		case first == nil:
			first = err
		default:
			more++
		}
	}
	if more > 0 {
		return fmt.Errorf("%w (and %d more objects failed)", first, more)
	}
	return first
}

// made is changes without the entries of objects not dealt with.
func made(changes []Change) []Change {
	out := make([]Change, 0, len(changes))
	for _, c := range changes {
		if c.ID != "" {
			out = append(out, c)
		}
	}
	return out
}

// byKind groups the indexes of todo (into objs, sorted by ssa's order) by
// kind, in that order.
func byKind(objs []*unstructured.Unstructured, todo []int) [][]int {
	var out [][]int
	for _, i := range todo {
		gk := objs[i].GroupVersionKind().GroupKind()
		if n := len(out); n > 0 {
			prev := objs[out[n-1][0]].GroupVersionKind().GroupKind()
			if !ssa.IsLessThan(prev, gk) && !ssa.IsLessThan(gk, prev) {
				out[n-1] = append(out[n-1], i)
				continue
			}
		}
		out = append(out, []int{i})
	}
	return out
}
