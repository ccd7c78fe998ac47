package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// ErrEmptyConfig is returned when the config folder defines no
// Kustomization while the installation has inventories: most likely a wrong
// path or a bad merge, and removing them all would delete everything.
var ErrEmptyConfig = errors.New("the config folder defines no Kustomization while this installation has inventories; refusing to delete all their objects (set SLUICE_ALLOW_EMPTY_CONFIG=true to remove everything on purpose)")

// one reconciles a single Kustomization, unless it is suspended (in Git or
// in the cluster, st being its status) or dep, a dependency, failed; it never
// panics on bad input. Applies stop when work ends; records are written
// under ctx, which outlives it.
func (r *Reconciler) one(ctx, work context.Context, watch *headWatch, snap *desired.Snapshot, k fluxconfig.Kustomization, dep string, st *kube.KustomizationStatus) KustomizationResult {
	kr := KustomizationResult{Name: k.Ref.String(), Revision: snap.Revision}
	r.recordSuspendedInGit(ctx, snap, k, st, k.Suspend)
	if k.Suspend {
		kr.Outcome, kr.Reason = Skipped, "suspended (spec.suspend: true)"
		if err := r.markSuspended(ctx, snap, k); err != nil {
			kr.Outcome, kr.Reason = Failed, err.Error()
		}
		return kr
	}
	if st != nil && st.Suspended {
		kr.Outcome, kr.Reason = Skipped, suspendedInCluster(k, st)
		return kr
	}
	if snap.SourceSuspended(k) {
		kr.Outcome, kr.Reason = Skipped, "its source GitRepository "+k.SourceRef.Ref.String()+" is suspended (spec.suspend: true)"
		return kr
	}
	if dep != "" {
		kr.Outcome, kr.Reason, kr.failure = Failed, "not applied: its dependency "+dep+" failed", kube.ReasonDependencyFailed
		r.recordNotApplied(ctx, snap, k, kr.Reason)
		return kr
	}
	started := time.Now()
	r.recordStart(ctx, snap, k, started)
	changes, err := r.apply(ctx, work, watch, snap, k)
	kr.Changes = changes
	if err != nil {
		kr.Outcome, kr.Reason, kr.failure = Failed, err.Error(), readyReason(err)
		if errors.Is(context.Cause(work), ErrDeadline) {
			kr.Reason = fmt.Sprintf("%v: %v", ErrDeadline, err)
		}
	} else {
		kr.Outcome, kr.Reason = Applied, summary(changes)
	}
	r.recordEnd(ctx, work, snap, k, started, err, kr.Reason)
	return kr
}

// inventory reads k's inventory, taking over the one it had before
// installations had ids.
func (r *Reconciler) inventory(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization) (*kube.Inventory, error) {
	owner := desired.Owner(snap.Repository, k.Ref)
	inv, err := r.cluster.Inventory(ctx, owner)
	if err != nil || inv != nil {
		return inv, err
	}
	legacy, err := r.cluster.LegacyInventory(ctx, owner, snap.Repository.Source())
	if err != nil || legacy == nil {
		return nil, err
	}
	slog.InfoContext(ctx, "taking over the inventory written before installations had ids", "kustomization", k.Ref.String(), "entries", len(legacy.Entries))
	return r.cluster.Adopt(ctx, *legacy, owner)
}

func (r *Reconciler) apply(ctx, work context.Context, watch *headWatch, snap *desired.Snapshot, k fluxconfig.Kustomization) ([]kube.Change, error) {
	objs, err := snap.Render(work, k, r.cluster)
	if err != nil {
		return nil, &failure{kube.ReasonBuildFailed, err}
	}
	inv, err := r.inventory(work, snap, k)
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
	changes, applyErr := r.cluster.Apply(work, objs, kube.ApplyOptions{Force: k.Force, Ignore: desired.IgnoreRules(k)})
	logChanges(ctx, k, changes)
	if applyErr != nil {
		// Any object of the render may exist now (a failing stage may have
		// created some before it stopped, and its change set omits them):
		// record them all with what was there, so nothing is orphaned. The
		// prune only deletes what carries this installation's label, so
		// recording too much deletes nothing that is not Sluice's.
		if err := r.save(ctx, snap, k, unionEntries(old, entries(objs)), inventoryRevision(inv)); err != nil {
			return changes, errors.Join(applyErr, err)
		}
		return changes, applyErr
	}
	current := entries(objs)
	stale := kube.Stale(old, objs)
	if k.Prune && len(stale) > 0 {
		pruned, err := r.cluster.Prune(work, desired.Owner(snap.Repository, k.Ref), stale)
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
		// As Flux: wait: true waits for every object the apply did not skip
		// and ignores healthChecks.
		awaited, checks := []*unstructured.Unstructured(nil), healthChecks(k)
		if k.Wait {
			awaited, checks = notSkipped(objs, changes), nil
		}
		wctx := watch.waitContext()
		if err := r.cluster.Wait(wctx, awaited, checks, k.WaitTimeout()); err != nil {
			var moved *NewRevisionError
			if errors.As(context.Cause(wctx), &moved) {
				return changes, moved
			}
			return changes, &failure{kube.ReasonHealthCheckFailed, err}
		}
	}
	return changes, nil
}

func (r *Reconciler) save(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization, es []kube.Entry, revision string) error {
	return r.cluster.SaveInventory(ctx, kube.Inventory{
		Owner: desired.Owner(snap.Repository, k.Ref), Source: snap.Repository.Source(), Path: snap.Repository.Path(),
		Revision: revision, Prune: k.Prune, DeletionPolicy: k.DeletionPolicy, Timeout: k.WaitTimeout(), Entries: es,
	})
}

// markSuspended records on k's inventory that it is suspended: a suspended
// Kustomization that then leaves Git keeps its objects, as in Flux.
func (r *Reconciler) markSuspended(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization) error {
	inv, err := r.inventory(ctx, snap, k)
	if err != nil || inv == nil || inv.Suspended {
		return err
	}
	inv.Suspended = true
	return r.cluster.SaveInventory(ctx, *inv)
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

// notSkipped are the objects of objs an apply did not skip (marked
// reconcile: disabled, ssa: Ignore, or ssa: IfNotPresent and present): the
// user chose to leave them as they are, healthy or not.
func notSkipped(objs []*unstructured.Unstructured, changes []kube.Change) []*unstructured.Unstructured {
	skipped := map[string]bool{}
	for _, c := range changes {
		if c.Action == kube.Skipped {
			skipped[c.ID] = true
		}
	}
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if !skipped[kube.ObjectID(o)] {
			out = append(out, o)
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

// removeGone handles the inventories of this installation whose
// Kustomization left the config folder as its deletionPolicy says (Flux's
// semantics: MirrorPrune deletes the objects when it pruned, Delete always,
// WaitForTermination deletes and waits until they are gone, Orphan never; a
// Kustomization suspended in Git or in the cluster keeps them), then deletes
// the inventories and statuses. Other installations' inventories and
// statuses are never read.
func (r *Reconciler) removeGone(ctx, work context.Context, snap *desired.Snapshot, sts statuses) []KustomizationResult {
	invs, err := r.cluster.Inventories(work, snap.Repository.Installation())
	if err != nil {
		return []KustomizationResult{{Name: "(inventories)", Outcome: Failed, Reason: err.Error()}}
	}
	if len(snap.Config.Kustomizations) == 0 && len(invs) > 0 && !r.AllowEmpty {
		for _, st := range sts {
			if !st.IsSuspended() {
				r.record(ctx, st.Owner, kube.Attempt{Revision: revisionOf(snap), Ready: metav1.ConditionFalse, Reason: kube.ReasonFailed, Message: ErrEmptyConfig.Error()})
			}
		}
		return []KustomizationResult{{Name: "(config folder " + snap.Repository.Path() + ")", Outcome: Failed, Revision: snap.Revision, Reason: ErrEmptyConfig.Error()}}
	}
	defined := map[string]bool{}
	for _, k := range snap.Config.Kustomizations {
		defined[k.Ref.String()] = true
	}
	var out []KustomizationResult
	kept := map[string]bool{}
	for _, inv := range invs {
		name := inv.Owner.String()
		if defined[name] {
			continue
		}
		st := sts[name]
		kr := r.remove(ctx, work, snap, inv, st != nil && st.Suspended)
		slog.InfoContext(ctx, "kustomization removed", "kustomization", kr.Name, "outcome", kr.Outcome, "reason", kr.Reason)
		if kr.Outcome == Failed {
			kept[name] = true
			r.record(ctx, inv.Owner, kube.Attempt{Revision: revisionOf(snap), Ready: metav1.ConditionFalse, Reason: kube.ReasonFailed, Message: kr.Reason})
		}
		out = append(out, kr)
	}
	r.removeStatuses(ctx, snap, sts, kept)
	return out
}

// remove handles the objects and inventory of a Kustomization that left
// Git; suspended says `sluice suspend` marked it in the cluster.
func (r *Reconciler) remove(ctx, work context.Context, snap *desired.Snapshot, inv kube.Inventory, suspended bool) KustomizationResult {
	kr := KustomizationResult{Name: inv.Owner.String(), Outcome: Applied, Revision: snap.Revision}
	rm, err := inv.Removal()
	if err != nil {
		kr.Outcome, kr.Reason = Failed, "removed from Git, but "+err.Error()+"; nothing deleted, inventory kept"
		return kr
	}
	if inv.Suspended || suspended {
		rm.Delete = false
	}
	var waitErr error
	if rm.Delete {
		changes, err := r.cluster.Prune(work, inv.Owner, inv.Entries)
		kr.Changes = changes
		if err != nil {
			kr.Outcome, kr.Reason = Failed, err.Error()
			return kr
		}
		if rm.Wait {
			waitErr = r.cluster.WaitForTermination(work, kube.DeletedEntries(inv.Entries, changes), rm.Timeout)
		}
	}
	// As in Flux, a termination that times out is reported, and the
	// inventory goes: the objects are already being deleted.
	if err := r.cluster.DeleteInventory(ctx, inv.Owner); err != nil {
		kr.Outcome, kr.Reason = Failed, err.Error()
		return kr
	}
	switch {
	case waitErr != nil:
		kr.Outcome, kr.Reason = Failed, "removed from Git: "+summary(kr.Changes)+", inventory deleted; waiting for termination: "+waitErr.Error()
	case rm.Delete:
		kr.Reason = "removed from Git: " + summary(kr.Changes) + " (deletionPolicy " + rm.Policy + "), inventory deleted"
	case inv.Suspended:
		kr.Reason = "removed from Git while suspended: objects kept, inventory deleted"
	case suspended:
		kr.Reason = "removed from Git while suspended in the cluster: objects kept, inventory deleted"
	default:
		kr.Reason = "removed from Git: objects kept (deletionPolicy " + rm.Policy + ", prune: " + fmt.Sprint(inv.Prune) + "), inventory deleted"
	}
	return kr
}
