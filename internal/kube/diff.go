package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
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
}

// Diff compares objs with the cluster by a server-side apply dry-run with
// Sluice's field manager, so defaulted fields never count as drift; fields
// matched by ignore rules do not count either. Results keep objs' order.
func (m *Manager) Diff(ctx context.Context, objs []*unstructured.Unstructured, ignore []IgnoreRule) ([]ObjectDiff, error) {
	opts := ssa.DefaultDiffOptions()
	opts.DriftIgnoreRules = ignoreRules(ignore)
	opts.Exclusions = map[string]string{"kustomize.toolkit.fluxcd.io/reconcile": "disabled", LabelPrefix + "/reconcile": "disabled"}
	out := make([]ObjectDiff, len(objs))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i, obj := range objs {
		g.Go(func() error {
			entry, live, merged, err := m.rm.Diff(ctx, obj.DeepCopy(), opts)
			if err != nil {
				return fmt.Errorf("dry-run of %s: %w", ObjectID(obj), err)
			}
			d := ObjectDiff{ID: ObjectID(obj), Status: InSync}
			switch entry.Action {
			case ssa.CreatedAction:
				d.Status = Missing
			case ssa.ConfiguredAction:
				d.Status = Drifted
				d.Fields, err = changedFields(live, merged)
				if err != nil {
					return fmt.Errorf("comparing %s: %w", ObjectID(obj), err)
				}
			}
			out[i] = d
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
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

// Exists reports whether the object of an inventory entry is in the cluster.
func (m *Manager) Exists(ctx context.Context, e Entry) (bool, error) {
	obj, err := e.Object()
	if err != nil {
		return false, err
	}
	err = m.client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("reading %s: %w", e.ID, err)
}

// Owned reports whether the object of an inventory entry is in the cluster
// and still a member of owner's ApplySet: what a prune would delete. An object
// another installation has since applied is not owner's to report.
func (m *Manager) Owned(ctx context.Context, owner Owner, e Entry) (bool, error) {
	obj, err := e.Object()
	if err != nil {
		return false, err
	}
	err = m.client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	switch {
	case err == nil:
		return obj.GetLabels()[applySetPartOfLabel] == ApplySetID(owner), nil
	case apierrors.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("reading %s: %w", e.ID, err)
}
