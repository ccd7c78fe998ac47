package imageupdate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/setters"
)

// Events receives what an image update did, in Flux's event shape, for the
// config's Alerts. Delivery is its business: it never fails the update.
type Events interface {
	Emit(ctx context.Context, cfg *fluxconfig.Config, ev alerting.Event)
}

var _ Events = (*alerting.Dispatcher)(nil)

// pushError is a push that failed, which notifies as Flux's GitOperationFailed.
type pushError struct{ error }

func (e *pushError) Unwrap() error { return e.error }

// emit reports automation a's outcome: the commit it pushed, with the tags
// it selected, or why it failed. No commit and no error is not an event.
func (u *Updater) emit(ctx context.Context, cfg *fluxconfig.Config, a images.Automation, imgs map[string]setters.Image, sha string, err error) {
	if u.Events == nil || (sha == "" && err == nil) {
		return
	}
	var ev alerting.Event
	now := u.nowFunc()
	if err != nil {
		reason := alerting.ReasonFailed
		if errors.As(err, new(*pushError)) {
			reason = alerting.ReasonPushFailed
		}
		ev = newEvent(a, alerting.SeverityError, reason, err.Error(), "", now)
	} else {
		msg := fmt.Sprintf("Committed and pushed change %s to branch %s", sha, a.PushBranch)
		tags := images.Tags(imgs)
		names := make([]string, 0, len(tags))
		for n := range tags {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			msg += fmt.Sprintf("\nImagePolicy %s: %s", n, tags[n])
		}
		ev = newEvent(a, alerting.SeverityInfo, alerting.ReasonCommitted, msg, alerting.Revision(a.PushBranch, sha), now)
	}
	u.Events.Emit(ctx, cfg, ev)
}

func newEvent(a images.Automation, severity, reason, msg, revision string, now time.Time) alerting.Event {
	return alerting.NewEvent("ImageUpdateAutomation", a.Namespace, a.Name, severity, reason, msg, revision, "sluice-image-update", now)
}
