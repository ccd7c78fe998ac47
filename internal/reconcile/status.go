package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// Records keeps, beside each inventory, what `sluice get kustomizations`
// shows of the installation's Kustomizations, and the in-cluster suspensions
// that `sluice suspend` sets.
type Records interface {
	RecordAttempt(ctx context.Context, owner kube.Owner, a kube.Attempt) error
	RecordApplied(ctx context.Context, owner kube.Owner, revision string, at time.Time) error
	ListStatuses(ctx context.Context, installation string) ([]kube.KustomizationStatus, error)
	DeleteStatus(ctx context.Context, owner kube.Owner) error
}

// statuses are the installation's recorded statuses by Kustomization
// ("<ns>/<name>"), read once per pass.
type statuses map[string]*kube.KustomizationStatus

func (r *Reconciler) readStatuses(ctx context.Context) (statuses, error) {
	list, err := r.cluster.ListStatuses(ctx, r.repo.Installation())
	if err != nil {
		// Without them a Kustomization suspended in the cluster could be
		// applied: an emergency brake must not fail open.
		return nil, fmt.Errorf("reading the suspensions of installation %s: %w", r.repo.Installation(), err)
	}
	out := make(statuses, len(list))
	for i := range list {
		out[list[i].Owner.String()] = &list[i]
	}
	return out, nil
}

// failure names the stage of a Kustomization's reconcile that failed, as the
// reason of the Ready its status records; its text is its cause's.
type failure struct {
	reason string
	err    error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// readyReason is the Ready reason of a failed reconcile.
func readyReason(err error) string {
	var f *failure
	var moved *NewRevisionError
	switch {
	case errors.As(err, &moved):
		return kube.ReasonHealthCheckCanceled
	case errors.As(err, &f):
		return f.reason
	}
	return kube.ReasonFailed
}

// record writes an attempt of owner's Kustomization. A status is a report,
// not the work: a write that fails is logged and the reconcile goes on.
// Records are written under the invocation's ctx, which outlives the work.
func (r *Reconciler) record(ctx context.Context, owner kube.Owner, a kube.Attempt) {
	if err := r.cluster.RecordAttempt(ctx, owner, a); err != nil {
		slog.WarnContext(ctx, "recording the kustomization's status", "kustomization", owner.String(), "error", err)
	}
}

// recordStart marks k's attempt at the snapshot's revision as in progress.
func (r *Reconciler) recordStart(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization, started time.Time) {
	r.record(ctx, desired.Owner(snap.Repository, k.Ref), kube.Attempt{
		Revision: revisionOf(snap), At: started,
		Ready: metav1.ConditionUnknown, Reason: kube.ReasonProgressing, Message: "Reconciliation in progress",
	})
}

// recordEnd records how k's attempt ended: err is the apply's, message the
// result's reason, recorded when it did not succeed, and work the pass's
// work context (a stop before the deadline is no failure: the retry comes
// at once).
func (r *Reconciler) recordEnd(ctx, work context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization, started time.Time, err error, message string) {
	owner, rev := desired.Owner(snap.Repository, k.Ref), revisionOf(snap)
	a := kube.Attempt{Revision: rev, At: started, Duration: time.Since(started)}
	switch {
	case err == nil:
		a.Ready, a.Reason, a.Message = metav1.ConditionTrue, kube.ReasonSucceeded, "Applied revision: "+rev
		if err := r.cluster.RecordApplied(ctx, owner, rev, time.Now()); err != nil {
			slog.WarnContext(ctx, "recording the kustomization's applied revision", "kustomization", owner.String(), "error", err)
		}
	case errors.Is(context.Cause(work), ErrDeadline):
		a.Ready, a.Reason, a.Message = metav1.ConditionUnknown, kube.ReasonProgressing, message
	default:
		a.Ready, a.Reason, a.Message = metav1.ConditionFalse, readyReason(err), message
	}
	r.record(ctx, owner, a)
}

// recordNotApplied records that k was not attempted because of a dependency.
func (r *Reconciler) recordNotApplied(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization, why string) {
	r.record(ctx, desired.Owner(snap.Repository, k.Ref), kube.Attempt{
		Revision: revisionOf(snap), Ready: metav1.ConditionFalse, Reason: kube.ReasonDependencyFailed, Message: why,
	})
}

// recordSuspendedInGit keeps the status's mark of a suspension in Git in
// step with spec.suspend, writing only when it changes. The last attempt's
// Ready stays as it was, as Flux leaves a suspended Kustomization's.
func (r *Reconciler) recordSuspendedInGit(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization, st *kube.KustomizationStatus, suspended bool) {
	var last kube.Attempt
	switch {
	case st != nil && st.LastAttempt != nil:
		if st.LastAttempt.SuspendedInGit == suspended {
			return
		}
		last = *st.LastAttempt
	case !suspended:
		return
	default:
		last = kube.Attempt{Revision: revisionOf(snap), Ready: metav1.ConditionUnknown, Reason: kube.ReasonSuspended,
			Message: "suspended in Git (spec.suspend: true) before its first reconcile"}
	}
	last.SuspendedInGit = suspended
	r.record(ctx, desired.Owner(snap.Repository, k.Ref), last)
}

// suspendedInCluster is why a Kustomization that `sluice suspend` marked is
// skipped, and how to lift the mark.
func suspendedInCluster(k fluxconfig.Kustomization, st *kube.KustomizationStatus) string {
	return st.InClusterSuspension() + "; `sluice resume kustomization " + k.Ref.Name + " -n " + k.Ref.Namespace + "` lifts it"
}

// recordPassFailed records Ready False on the Kustomizations that msg asked
// for and that already have a status, when the pass failed before they could
// be told apart (the clone or the config folder could not be read). The
// revision is the one that woke the reconcile: the head was not read.
func (r *Reconciler) recordPassFailed(ctx context.Context, msg queue.Reconcile, cause error) {
	list, err := r.cluster.ListStatuses(ctx, r.repo.Installation())
	if err != nil {
		slog.WarnContext(ctx, "recording the failed reconcile on each kustomization's status", "error", err)
		return
	}
	named := map[string]bool{}
	for _, n := range msg.Kustomizations {
		named[n] = true
	}
	var rev string
	if msg.Revision != "" {
		rev = kube.StatusRevision(r.repo.Branch, msg.Revision)
	}
	for _, st := range list {
		if st.IsSuspended() || len(named) > 0 && !named[st.Owner.String()] {
			continue
		}
		r.record(ctx, st.Owner, kube.Attempt{Revision: rev, Ready: metav1.ConditionFalse, Reason: kube.ReasonFailed, Message: cause.Error()})
	}
}

// removeStatuses deletes the statuses whose Kustomization neither Git nor an
// inventory knows any more; kept names the Kustomizations whose inventory
// stays. Only this installation's statuses were listed, so no other's can go.
func (r *Reconciler) removeStatuses(ctx context.Context, snap *desired.Snapshot, sts statuses, kept map[string]bool) {
	defined := map[string]bool{}
	for _, k := range snap.Config.Kustomizations {
		defined[k.Ref.String()] = true
	}
	for name, st := range sts {
		if defined[name] || kept[name] {
			continue
		}
		if err := r.cluster.DeleteStatus(ctx, st.Owner); err != nil {
			slog.WarnContext(ctx, "deleting the status of a removed kustomization", "kustomization", name, "error", err)
			continue
		}
		slog.InfoContext(ctx, "status deleted: the kustomization left Git", "kustomization", name)
	}
}

func revisionOf(snap *desired.Snapshot) string {
	return kube.StatusRevision(snap.Repository.Branch, snap.Revision)
}
