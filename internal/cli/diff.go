package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/kube"
)

// Exit codes of `sluice diff`, as `flux diff`: a pull request's CI tells
// "the cluster would change" from "the diff could not be computed".
const (
	exitDiffNone   = 0
	exitDiffFound  = 1
	exitDiffFailed = 2
)

func newDiffCmd(app *App) *cobra.Command {
	diff := &cobra.Command{
		Use:   "diff",
		Short: "Compare a Kustomization of a local checkout with the cluster",
	}
	var local localFlags
	ks := &cobra.Command{
		Use:     "kustomization NAME",
		Aliases: []string{"ks", "kustomizations"},
		Short:   "Show what applying a Kustomization of a local checkout would change in the cluster",
		Long: `Render the Kustomization NAME of a local checkout (--path) as the reconcile function
would, compare it with the cluster by a server-side apply dry-run (the drift function's
comparison), and print each object that would be created, changed or pruned, with the
changed fields (Secret values masked).

Exit codes: 0 no difference, 1 differences found, 2 the diff could not be made.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &ExitError{Code: exitDiffFailed, Err: fmt.Errorf("diff kustomization takes one NAME, got %d", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			changed, err := app.diffKustomization(cmd.Context(), local, args[0])
			switch {
			case err != nil:
				return &ExitError{Code: exitDiffFailed, Err: err}
			case changed:
				return &ExitError{Code: exitDiffFound}
			}
			fmt.Fprintln(app.Err, "✔ no changes")
			return nil
		},
	}
	local.register(ks.Flags())
	diff.AddCommand(ks)
	return diff
}

// diffKustomization prints how the cluster differs from the local render
// of name, and reports whether it does.
func (a *App) diffKustomization(ctx context.Context, local localFlags, name string) (bool, error) {
	snap, k, err := a.openLocal(ctx, local, name)
	if err != nil {
		return false, err
	}
	defer snap.Close()
	cluster, err := a.Cluster(ctx)
	if err != nil {
		return false, err
	}
	objs, err := snap.Render(ctx, k, cluster)
	if err != nil {
		return false, err
	}
	diffs, err := cluster.Diff(ctx, objs, kube.DiffOptions{Force: k.Force, Ignore: desired.IgnoreRules(k), Detail: true})
	if err != nil {
		return false, err
	}
	if k.Prune {
		pruned, err := wouldPrune(ctx, cluster, snap, k.Ref.Namespace, k.Ref.Name, objs)
		if err != nil {
			return false, err
		}
		diffs = append(diffs, pruned...)
	}
	sort.SliceStable(diffs, func(i, j int) bool { return diffs[i].ID < diffs[j].ID })
	changed := false
	for _, d := range diffs {
		if d.Status == kube.InSync {
			continue
		}
		changed = true
		printObjectDiff(a.Out, d)
	}
	return changed, nil
}

// wouldPrune lists, as Extra, the objects of the Kustomization's inventory
// that the render no longer holds and that a prune would delete: the drift
// function's rule, so both report the same objects.
func wouldPrune(ctx context.Context, cluster *kube.Manager, snap *desired.Snapshot, namespace, name string, objs []*unstructured.Unstructured) ([]kube.ObjectDiff, error) {
	owner := kube.Owner{Installation: snap.Repository.Installation(), Namespace: namespace, Name: name}
	inv, err := cluster.Inventory(ctx, owner)
	if err == nil && inv == nil {
		inv, err = cluster.LegacyInventory(ctx, owner, snap.Repository.Source())
	}
	if err != nil || inv == nil {
		return nil, err
	}
	if inv.Legacy {
		owner = inv.Owner
	}
	var out []kube.ObjectDiff
	for _, e := range kube.Stale(inv.Entries, objs) {
		prunable, err := cluster.Prunable(ctx, owner, e)
		if err != nil {
			return nil, err
		}
		if prunable {
			o, err := e.Object()
			if err != nil {
				return nil, err
			}
			out = append(out, kube.ObjectDiff{ID: kube.ObjectID(o), Status: kube.Extra})
		}
	}
	return out, nil
}

var diffVerbs = map[kube.Status]string{kube.Missing: "created", kube.Drifted: "drifted", kube.Extra: "deleted"}

// printObjectDiff writes Flux's "► Kind/ns/name verb" line, and for a
// drifted object a unified diff of its changed fields, cluster against Git.
func printObjectDiff(w io.Writer, d kube.ObjectDiff) {
	verb := diffVerbs[d.Status]
	if d.Recreate {
		verb += " (immutable fields changed: recreated with force)"
	}
	fmt.Fprintf(w, "► %s %s\n", d.ID, verb)
	if d.Status != kube.Drifted || d.Live == nil {
		return
	}
	fmt.Fprintf(w, "--- %s (cluster)\n+++ %s (local)\n", d.ID, d.ID)
	for _, f := range d.Fields {
		fmt.Fprintf(w, "@@ %s @@\n", f)
		writeSide(w, "-", d.Live.Object, f)
		writeSide(w, "+", d.Merged.Object, f)
	}
}

// writeSide writes the value at the JSON pointer ptr of obj as YAML lines,
// each after sign; an absent value writes nothing, as a unified diff does.
func writeSide(w io.Writer, sign string, obj map[string]any, ptr string) {
	v, ok := lookupPointer(obj, ptr)
	if !ok {
		return
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprint(v))
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		fmt.Fprintf(w, "%s%s\n", sign, line)
	}
}

// lookupPointer resolves an RFC 6901 JSON pointer in a decoded JSON value.
func lookupPointer(v any, ptr string) (any, bool) {
	if ptr == "" {
		return v, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}
