package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kube"
)

// ErrEmptyRender is returned when a Kustomization renders no objects while
// its inventory holds some: most likely a mistake (a wrong path, a deleted
// overlay), and pruning would delete everything. Removing the Kustomization
// object itself from the config folder is how to delete its objects on purpose.
var ErrEmptyRender = errors.New("the build yields no objects while the inventory holds some; refusing to prune them all (remove the Kustomization from the config folder to delete its objects on purpose)")

// one reconciles a single Kustomization and never panics on bad input.
func (r *Reconciler) one(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization) KustomizationResult {
	kr := KustomizationResult{Name: k.Ref.String(), Revision: snap.Revision}
	if k.Suspend {
		kr.Outcome, kr.Reason = Skipped, "suspended (spec.suspend: true)"
		return kr
	}
	changes, err := r.apply(ctx, snap, k)
	kr.Changes = changes
	if err != nil {
		kr.Outcome, kr.Reason = Failed, err.Error()
		return kr
	}
	kr.Outcome, kr.Reason = Applied, summary(changes)
	return kr
}

func (r *Reconciler) apply(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization) ([]kube.Change, error) {
	owner := desired.Owner(k)
	objs, err := snap.Render(ctx, k, r.cluster)
	if err != nil {
		return nil, err
	}
	inv, err := r.cluster.Inventory(ctx, owner)
	if err != nil {
		return nil, err
	}
	var old []kube.Entry
	if inv != nil {
		old = inv.Entries
	}
	if len(objs) == 0 && len(old) > 0 {
		return nil, ErrEmptyRender
	}
	changes, applyErr := r.cluster.Apply(ctx, objs, kube.ApplyOptions{Force: k.Force, Ignore: desired.IgnoreRules(k)})
	logChanges(ctx, k, changes)
	if applyErr != nil {
		// Record what a partial apply created, with what was there, so
		// nothing it made is ever orphaned from pruning.
		if err := r.save(ctx, snap, k, unionEntries(old, appliedObjects(objs, changes)), inventoryRevision(inv)); err != nil {
			return changes, errors.Join(applyErr, err)
		}
		return changes, applyErr
	}
	current := entries(objs)
	stale := kube.Stale(old, objs)
	if k.Prune && len(stale) > 0 {
		pruned, err := r.cluster.Prune(ctx, owner, stale)
		logChanges(ctx, k, pruned)
		changes = append(changes, pruned...)
		if err != nil {
			// Keep the stale entries, so the next reconcile tries again.
			return changes, errors.Join(err, r.save(ctx, snap, k, unionEntries(current, stale), snap.Revision))
		}
	}
	if err := r.save(ctx, snap, k, current, snap.Revision); err != nil {
		return changes, err
	}
	if k.Wait || len(k.HealthChecks) > 0 {
		timeout := k.Timeout
		if timeout == 0 {
			timeout = DefaultTimeout
		}
		var awaited []*unstructured.Unstructured
		if k.Wait {
			awaited = objs
		}
		if err := r.cluster.Wait(ctx, awaited, healthChecks(k), timeout); err != nil {
			return changes, err
		}
	}
	return changes, nil
}

func (r *Reconciler) save(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization, es []kube.Entry, revision string) error {
	return r.cluster.SaveInventory(ctx, kube.Inventory{
		Owner: desired.Owner(k), Source: snap.Repository.Source(), Revision: revision, Prune: k.Prune, Entries: es,
	})
}

func inventoryRevision(inv *kube.Inventory) string {
	if inv == nil {
		return ""
	}
	return inv.Revision
}

func entries(objs []*unstructured.Unstructured) []kube.Entry {
	out := make([]kube.Entry, 0, len(objs))
	for _, o := range objs {
		out = append(out, kube.EntryFor(o))
	}
	return out
}

// appliedObjects are the objects of objs that a (partial) apply created or configured.
func appliedObjects(objs []*unstructured.Unstructured, changes []kube.Change) []kube.Entry {
	done := map[string]bool{}
	for _, c := range changes {
		if c.Action == kube.Created || c.Action == kube.Configured || c.Action == kube.Unchanged {
			done[c.ID] = true
		}
	}
	var out []kube.Entry
	for _, o := range objs {
		if done[kube.ObjectID(o)] {
			out = append(out, kube.EntryFor(o))
		}
	}
	return out
}

func unionEntries(a, b []kube.Entry) []kube.Entry {
	seen := map[string]bool{}
	var out []kube.Entry
	for _, e := range append(append([]kube.Entry{}, a...), b...) {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out
}

func healthChecks(k fluxconfig.Kustomization) []kube.HealthCheck {
	var out []kube.HealthCheck
	for _, hc := range k.HealthChecks {
		group, _, _ := strings.Cut(hc.APIVersion, "/")
		if !strings.Contains(hc.APIVersion, "/") {
			group = "" // core/v1
		}
		ns := hc.Namespace
		if ns == "" {
			ns = k.TargetNamespace
		}
		out = append(out, kube.HealthCheck{Group: group, Kind: hc.Kind, Namespace: ns, Name: hc.Name})
	}
	return out
}

func logChanges(ctx context.Context, k fluxconfig.Kustomization, changes []kube.Change) {
	for _, c := range changes {
		slog.InfoContext(ctx, string(c.Action), "object", c.ID, "kustomization", k.Ref.String())
	}
}

// summary says how many objects each action touched, e.g. "2 created, 7 unchanged".
func summary(changes []kube.Change) string {
	count := map[kube.Action]int{}
	for _, c := range changes {
		count[c.Action]++
	}
	var parts []string
	for _, a := range []kube.Action{kube.Created, kube.Configured, kube.Unchanged, kube.Deleted, kube.Skipped} {
		if count[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[a], a))
		}
	}
	if len(parts) == 0 {
		return "no objects"
	}
	return strings.Join(parts, ", ")
}

// removeGone prunes the objects of Kustomizations that left the config folder
// (when they pruned) and deletes their inventories. Only inventories of this
// repository and branch are considered.
func (r *Reconciler) removeGone(ctx context.Context, snap *desired.Snapshot) []KustomizationResult {
	invs, err := r.cluster.Inventories(ctx)
	if err != nil {
		return []KustomizationResult{{Name: "(inventories)", Outcome: Failed, Reason: err.Error()}}
	}
	defined := map[string]bool{}
	for _, k := range snap.Config.Kustomizations {
		defined[k.Ref.String()] = true
	}
	var out []KustomizationResult
	for _, inv := range invs {
		name := inv.Owner.Namespace + "/" + inv.Owner.Name
		if defined[name] || inv.Source != snap.Repository.Source() {
			continue
		}
		kr := KustomizationResult{Name: name, Outcome: Applied, Revision: snap.Revision}
		if inv.Prune {
			changes, err := r.cluster.Prune(ctx, inv.Owner, inv.Entries)
			kr.Changes = changes
			if err != nil {
				kr.Outcome, kr.Reason = Failed, err.Error()
				out = append(out, kr)
				continue
			}
		}
		if err := r.cluster.DeleteInventory(ctx, inv.Owner); err != nil {
			kr.Outcome, kr.Reason = Failed, err.Error()
		} else {
			kr.Reason = "removed from Git: " + summary(kr.Changes) + " pruned, inventory deleted"
			if !inv.Prune {
				kr.Reason = "removed from Git: objects kept (prune: false), inventory deleted"
			}
		}
		slog.InfoContext(ctx, "kustomization removed", "kustomization", name, "reason", kr.Reason)
		out = append(out, kr)
	}
	return out
}
