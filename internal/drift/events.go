package drift

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kube"
)

// Events receives what a drift run found, in Flux's event shape, for the
// config's Alerts. Delivery is its business: it never fails the run.
type Events interface {
	Emit(ctx context.Context, cfg *fluxconfig.Config, ev alerting.Event)
}

var _ Events = (*alerting.Dispatcher)(nil)

// alertEvents are what rep says about each Kustomization: drift found (an error
// when it is only detected, information when a reconcile was queued to
// correct it), and Git ahead of what was applied.
func alertEvents(rep *Report, branch string, now time.Time) []alerting.Event {
	var out []alerting.Event
	for _, k := range rep.Kustomizations {
		ns, name, _ := strings.Cut(k.Name, "/")
		rev := alerting.Revision(branch, k.Head)
		if d, m, e := k.Counts(); d+m+e > 0 {
			severity, then := alerting.SeverityError, "not corrected (drift mode detect)"
			if k.Mode == Correct && rep.Queued {
				severity, then = alerting.SeverityInfo, "a reconcile was queued to correct it"
			}
			msg := fmt.Sprintf("Drift detected: %d drifted, %d missing, %d extra; %s", d, m, e, then)
			for _, o := range k.Objects {
				if o.Status != kube.InSync {
					msg += fmt.Sprintf("\n%s %s", o.ID, strings.ToLower(string(o.Status)))
				}
			}
			out = append(out, alerting.NewEvent("Kustomization", ns, name, severity, alerting.ReasonDriftDetected, msg, rev, "sluice-drift", now))
		}
		if k.Behind {
			msg := fmt.Sprintf("Git is ahead of the cluster: applied %s, branch head %s", short(k.Revision), short(k.Head))
			if rep.Queued {
				msg += "; a reconcile was queued"
			}
			out = append(out, alerting.NewEvent("Kustomization", ns, name, alerting.SeverityInfo, alerting.ReasonBehind, msg, rev, "sluice-drift", now))
		}
	}
	return out
}
