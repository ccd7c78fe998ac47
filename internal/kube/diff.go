package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	"github.com/fluxcd/pkg/ssa/normalize"
	"github.com/fluxcd/pkg/ssa/utils"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Status is how an object in Git compares with the cluster.
type Status string

// Statuses of a drift check, as the drift function's result names them.
const (
	InSync  Status = "InSync"
	Drifted Status = "Drifted"
	Missing Status = "Missing"
	Extra   Status = "Extra"
)

// ObjectDiff is the drift of one object.
type ObjectDiff struct {
	ID     string   `json:"id"`
	Status Status   `json:"status"`
	Fields []string `json:"fields,omitempty"`
	// Recreate marks a Drifted object whose immutable fields changed: a
	// correction deletes and recreates it (spec.force or the
	// kustomize.toolkit.fluxcd.io/force: enabled mark).
	Recreate bool `json:"recreate,omitempty"`
	// Live and Merged are a Drifted object as the cluster holds it and as an
	// apply would make it, Secret values masked, metadata.managedFields
	// dropped; set only with DiffOptions.Detail, for a reader to see the
	// values of Fields.
	Live, Merged *unstructured.Unstructured `json:"-"`
}

// DiffOptions change how objects are compared, as ApplyOptions change how
// they are applied, so a drift check reports what a correction would do.
type DiffOptions struct {
	// Force: an immutable-field change is drift that a correction recreates,
	// rather than an error.
	Force bool
	// Ignore rules keep fields that others own.
	Ignore []IgnoreRule
	// Detail keeps each Drifted object's Live and Merged forms.
	Detail bool
}

// Diff compares objs with the cluster by a server-side apply dry-run with
// Sluice's field manager, so defaulted fields never count as drift; fields
// matched by ignore rules do not count either, nor do objects an apply
// leaves alone (reconcile disabled, ssa Ignore, ssa IfNotPresent once they
// exist). Fields a takeover from Flux or kubectl would remove count. Results
// keep objs' order.
func (m *Manager) Diff(ctx context.Context, objs []*unstructured.Unstructured, opts DiffOptions) ([]ObjectDiff, error) {
	o := ssa.DefaultDiffOptions()
	o.DriftIgnoreRules = ignoreRules(opts.Ignore)
	o.Exclusions = excluded()
	o.IfNotPresentSelector = ifNotPresent()
	o.Force = opts.Force
	o.ForceSelector = forced()
	compiled, err := jsondiff.CompileIgnoreRules(o.DriftIgnoreRules)
	if err != nil {
		return nil, fmt.Errorf("ignore rules: %w", err)
	}
	want := make([]*unstructured.Unstructured, len(objs))
	for i, obj := range objs {
		want[i] = obj.DeepCopy()
	}
	if err := normalize.UnstructuredList(want); err != nil {
		return nil, fmt.Errorf("normalising: %w", err)
	}
	for _, w := range want {
		utils.RemoveCABundleFromCRD(w)
	}
	live := m.readLive(ctx, want)
	// Objects an apply would not change are in sync with no dry-run. All
	// are decided before any diff starts: the diffs take their answers out
	// of live as they go.
	out := make([]ObjectDiff, len(objs))
	var todo []int
	for i, w := range want {
		if unchanged(w, live[keyOf(w)].obj, compiled) {
			out[i] = ObjectDiff{ID: ObjectID(w), Status: InSync}
			continue
		}
		todo = append(todo, i)
	}
	ctx = withReadAhead(ctx, &readAhead{live: live})
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for _, i := range todo {
		w := want[i]
		g.Go(func() error {
			d, err := m.diff(ctx, w, o, compiled, opts.Detail)
			out[i] = d
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// diff compares want, normalised, with the cluster; detail keeps a drifted
// object's live and merged forms.
func (m *Manager) diff(ctx context.Context, want *unstructured.Unstructured, o ssa.DiffOptions, ignore jsondiff.CompiledIgnoreRules, detail bool) (ObjectDiff, error) {
	d := ObjectDiff{ID: ObjectID(want), Status: InSync}
	seen := &observed{}
	entry, live, merged, err := m.rm.Diff(withObserved(ctx, seen), want, o)
	if err != nil {
		return d, fmt.Errorf("dry-run of %s: %w", d.ID, err)
	}
	switch entry.Action {
	case ssa.SkippedAction:
		return d, nil
	case ssa.CreatedAction:
		d.Status = Missing
		if seen.live != nil && seen.live.GetUID() != "" {
			d.Status, d.Recreate = Drifted, true
		}
		return d, nil
	case ssa.ConfiguredAction:
		d.Status = Drifted
		if d.Fields, err = changedFields(live, merged); err != nil {
			return d, fmt.Errorf("comparing %s: %w", d.ID, err)
		}
	}
	taken, err := takeoverFields(want, seen.live, seen.dryRun, ignore)
	if err != nil {
		return d, fmt.Errorf("comparing %s: %w", d.ID, err)
	}
	if len(taken) > 0 {
		d.Status = Drifted
		d.Fields = mergeSorted(d.Fields, taken)
	}
	if detail && d.Status == Drifted {
		if err := d.keep(seen.live, seen.dryRun); err != nil {
			return d, fmt.Errorf("comparing %s: %w", d.ID, err)
		}
	}
	return d, nil
}

// keep sets d's Live and Merged from copies of live and dryRun (the
// server-side apply dry-run's answer), masking Secret values as Flux's diff
// does.
func (d *ObjectDiff) keep(live, dryRun *unstructured.Unstructured) error {
	if live == nil || dryRun == nil {
		return nil
	}
	d.Live, d.Merged = live.DeepCopy(), dryRun.DeepCopy()
	for _, o := range []*unstructured.Unstructured{d.Live, d.Merged} {
		unstructured.RemoveNestedField(o.Object, "metadata", "managedFields")
	}
	return ssa.SanitizeUnstructuredData(d.Live, d.Merged)
}

func mergeSorted(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range append(append([]string{}, a...), b...) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// changedFields lists the JSON pointers where live differs from what an apply
// would make of it.
func changedFields(live, merged *unstructured.Unstructured) ([]string, error) {
	if live == nil || merged == nil {
		return nil, nil
	}
	patch, err := jsondiff.DiffUnstructured(live, merged)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var fields []string
	for _, op := range patch {
		p := op.Path
		if !seen[p] {
			seen[p] = true
			fields = append(fields, p)
		}
	}
	// Labels and annotations an apply would add or change; extra ones on the
	// live object are others' (controllers add them) and are not drift.
	for _, md := range []struct {
		path       string
		live, want map[string]string
	}{
		{"/metadata/labels/", live.GetLabels(), merged.GetLabels()},
		{"/metadata/annotations/", live.GetAnnotations(), merged.GetAnnotations()},
	} {
		for k, v := range md.want {
			if lv, ok := md.live[k]; !ok || lv != v {
				fields = append(fields, md.path+pointerEscaper.Replace(k))
			}
		}
	}
	sort.Strings(fields)
	return fields, nil
}

// pointerEscaper escapes a key as one JSON pointer (RFC 6901) segment.
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// Prunable reports whether the object of an inventory entry is what a prune
// of owner would delete: in the cluster, still a member of owner's ApplySet
// (not taken over by another installation since), and without a mark that
// makes a prune keep it (pruneExclusions). A drift check reports these as
// Extra, since a correction deletes them.
func (m *Manager) Prunable(ctx context.Context, owner Owner, e Entry) (bool, error) {
	obj, err := m.live(ctx, e)
	if err != nil || obj == nil {
		return false, err
	}
	return obj.GetLabels()[applySetPartOfLabel] == ApplySetID(owner) && !utils.AnyInMetadata(obj, pruneExclusions()), nil
}

// live reads the object of an inventory entry from the cluster; nil when it
// is not there.
func (m *Manager) live(ctx context.Context, e Entry) (*unstructured.Unstructured, error) {
	obj, err := e.Object()
	if err != nil {
		return nil, err
	}
	err = m.client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	switch {
	case err == nil:
		return obj, nil
	case apierrors.IsNotFound(err):
		return nil, nil
	}
	return nil, fmt.Errorf("reading %s: %w", e.ID, err)
}
