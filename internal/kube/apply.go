package kube

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	"github.com/fluxcd/pkg/ssa/normalize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Action is what happened to one object.
type Action string

// Actions reported per object.
const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
	Deleted    Action = "deleted"
	Skipped    Action = "skipped"
)

// Change is what an apply or prune did to one object.
type Change struct {
	ID     string // Kind/namespace/name
	Action Action
}

// IgnoreRule excludes fields (JSON pointers) of the objects Target selects
// (all when nil) from apply and drift: fields someone else owns, such as
// replicas under an HPA.
type IgnoreRule struct {
	Paths  []string
	Target *Selector
}

// Selector selects objects by kind, name, namespace (regular expressions) and
// label or annotation selectors, as kustomize patch targets do.
type Selector struct {
	Group, Version, Kind, Name, Namespace string
	LabelSelector, AnnotationSelector     string
}

// ApplyOptions change how objects are applied.
type ApplyOptions struct {
	// Force recreates objects whose immutable fields changed.
	Force bool
	// Ignore rules keep fields that others own.
	Ignore []IgnoreRule
	// StageTimeout bounds the wait for CRDs and Namespaces of the first stage.
	StageTimeout time.Duration
}

// Apply server-side applies objs in stages: CRDs, Namespaces and ClusterRoles
// first, waited for, then classes (StorageClass, IngressClass...), waited
// for, then the rest. objs are normalised first, as Flux does (a Secret's
// stringData becomes data, so Sluice owns the keys and removing one in Git
// removes it; ports get their default protocol), and objects applied before
// by Flux or kubectl are taken over (see takeover). Each stage is dry-run on
// the server in full before any of it is applied, so an invalid object or an
// unknown kind leaves its stage and every later one unapplied; the error
// names the object. Within a stage, objects are applied kind by kind in
// ssa's order, the objects of one kind concurrently. On failure the changes
// made so far are returned with the error.
func (m *Manager) Apply(ctx context.Context, objs []*unstructured.Unstructured, opts ApplyOptions) ([]Change, error) {
	o := ssa.DefaultApplyOptions()
	o.Force = opts.Force
	o.WaitInterval = 500 * time.Millisecond
	if opts.StageTimeout > 0 {
		o.WaitTimeout = opts.StageTimeout
	}
	o.DriftIgnoreRules = ignoreRules(opts.Ignore)
	// Objects that opt out with Flux's annotations are left as they are.
	o.ExclusionSelector = excluded()
	o.IfNotPresentSelector = ifNotPresent()
	o.ForceSelector = forced()
	o.Cleanup = takeover()
	compiled, err := jsondiff.CompileIgnoreRules(o.DriftIgnoreRules)
	if err != nil {
		return nil, fmt.Errorf("ignore rules: %w", err)
	}
	if err := normalize.UnstructuredList(objs); err != nil {
		return nil, fmt.Errorf("normalising: %w", err)
	}
	var changes []Change
	for _, st := range stages(objs) {
		cs, err := m.applyStage(ctx, st.objs, o, compiled)
		changes = append(changes, cs...)
		if err != nil {
			return changes, fmt.Errorf("applying: %w", err)
		}
		if st.wait {
			set := object.UnstructuredSetToObjMetadataSet(st.objs)
			if err := m.rm.WaitForSet(set, ssa.WaitOptions{Interval: o.WaitInterval, Timeout: o.WaitTimeout}); err != nil {
				return changes, fmt.Errorf("applying: %w", err)
			}
		}
	}
	return changes, nil
}

func toChanges(cs *ssa.ChangeSet) []Change {
	if cs == nil {
		return nil
	}
	out := make([]Change, 0, len(cs.Entries))
	for _, e := range cs.Entries {
		out = append(out, Change{ID: e.Subject, Action: action(e.Action)})
	}
	return out
}

func action(a ssa.Action) Action {
	switch a {
	case ssa.CreatedAction:
		return Created
	case ssa.ConfiguredAction:
		return Configured
	case ssa.UnchangedAction:
		return Unchanged
	case ssa.DeletedAction:
		return Deleted
	default:
		return Skipped
	}
}

func ignoreRules(rules []IgnoreRule) []jsondiff.IgnoreRule {
	out := make([]jsondiff.IgnoreRule, 0, len(rules))
	for _, r := range rules {
		rule := jsondiff.IgnoreRule{Paths: r.Paths}
		if t := r.Target; t != nil {
			rule.Selector = &jsondiff.Selector{
				Group: t.Group, Version: t.Version, Kind: t.Kind, Name: t.Name, Namespace: t.Namespace,
				LabelSelector: t.LabelSelector, AnnotationSelector: t.AnnotationSelector,
			}
		}
		out = append(out, rule)
	}
	return out
}
