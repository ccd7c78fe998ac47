package reconcile

import (
	"context"
	"strings"
	"time"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// Events receives what a reconcile did, in Flux's event shape, for the
// config's Alerts. Delivery is its business: it never fails the reconcile.
type Events interface {
	Emit(ctx context.Context, cfg *fluxconfig.Config, ev alerting.Event)
}

var _ Events = (*alerting.Dispatcher)(nil)

// instance is the reportingInstance of the reconcile function's events.
const instance = "sluice-reconcile"

// event is kr as Flux's kustomize-controller would report it; ok is false
// for what is not an event: an apply that changed nothing, a skip.
func (r *Reconciler) event(snap *desired.Snapshot, msg queue.Reconcile, kr KustomizationResult, removed bool) (alerting.Event, bool) {
	ns, name, _ := strings.Cut(kr.Name, "/")
	severity, reason, message := alerting.SeverityInfo, alerting.ReasonSucceeded, changeSet(kr.Changes)
	switch {
	case kr.Outcome == Skipped:
		return alerting.Event{}, false
	case removed && kr.Outcome == Failed:
		severity, reason, message = alerting.SeverityError, alerting.ReasonPruneFailed, kr.Reason
	case removed:
		reason, message = alerting.ReasonPruned, kr.Reason
	case kr.Outcome == Failed:
		severity, reason, message = alerting.SeverityError, alerting.ReasonFailed, kr.Reason
		switch kr.failure {
		case kube.ReasonHealthCheckFailed:
			reason = alerting.ReasonHealthCheckFailed
		case kube.ReasonDependencyFailed:
			reason = alerting.ReasonDependencyNotReady
		}
	case message == "":
		return alerting.Event{}, false // unchanged is not an event, as in Flux
	case msg.Reason == queue.ReasonDrift:
		message = "Drift corrected:\n" + message
	}
	rev := alerting.Revision(r.repo.Branch, snap.Revision)
	return alerting.NewEvent("Kustomization", ns, name, severity, reason, message, rev, instance, time.Now()), true
}

// changeSet is Flux's change set: one "<Kind>/<ns>/<name> <action>" line
// per object created, configured or deleted.
func changeSet(changes []kube.Change) string {
	var lines []string
	for _, c := range changes {
		if c.Action == kube.Created || c.Action == kube.Configured || c.Action == kube.Deleted {
			lines = append(lines, c.ID+" "+string(c.Action))
		}
	}
	return strings.Join(lines, "\n")
}

func (r *Reconciler) emit(ctx context.Context, snap *desired.Snapshot, msg queue.Reconcile, kr KustomizationResult, removed bool) {
	if r.Events == nil {
		return
	}
	ev, ok := r.event(snap, msg, kr, removed)
	if !ok {
		return
	}
	// Retries of a provider that is down stop where the reconcile's own
	// work does, leaving its margin to record what was done.
	if dl, has := ctx.Deadline(); has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin(time.Until(dl))))
		defer cancel()
	}
	r.Events.Emit(ctx, snap.Config, ev)
}
