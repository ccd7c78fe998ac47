package imageupdate

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/setters"
)

// recorder keeps the events it is given.
type recorder struct {
	mu     sync.Mutex
	events []alerting.Event
}

func (r *recorder) Emit(_ context.Context, _ *fluxconfig.Config, ev alerting.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// A pushed commit is an event of its ImageUpdateAutomation, with the tag
// selected and the commit as its revision; the same ECR event again
// commits nothing and notifies nothing.
func TestCommitIsAnEvent(t *testing.T) {
	w := newWorld(t, nil)
	h := w.handler(token)
	rec := &recorder{}
	h.updater.Events = rec
	w.push(taskService, "1.0.0", "1.1.0")
	ev := ecrEvent(t, ActionPush, taskService, "1.1.0", nil)
	invoke(t, h, ev)
	invoke(t, h, ev)
	if len(rec.events) != 1 {
		t.Fatalf("%d events, want 1: %+v", len(rec.events), rec.events)
	}
	e, head := rec.events[0], w.head()
	if e.InvolvedObject.Kind != "ImageUpdateAutomation" || e.InvolvedObject.Name != "task-tool" || e.Severity != alerting.SeverityInfo ||
		e.Reason != alerting.ReasonCommitted || e.Metadata[alerting.MetaRevision] != "main@sha1:"+head || e.ReportingController != "image-automation-controller" ||
		!strings.HasPrefix(e.Message, "Committed and pushed change "+head+" to branch main\nImagePolicy flux-system/task-service: ") {
		t.Errorf("event = %+v", e)
	}
}

// A failed push notifies as Flux's GitOperationFailed; other failures as
// ReconciliationFailed.
func TestFailureEvents(t *testing.T) {
	a := images.Automation{ImageUpdateAutomation: fluxconfig.ImageUpdateAutomation{Ref: fluxconfig.Ref{Namespace: "flux-system", Name: "auto"}, PushBranch: "main"}}
	for _, tt := range []struct {
		err    error
		reason string
	}{
		{&pushError{gitrepo.ErrRejected}, alerting.ReasonPushFailed},
		{errors.New("rendering the commit message: bad template"), alerting.ReasonFailed},
	} {
		rec := &recorder{}
		u := &Updater{Events: rec, nowFunc: time.Now}
		u.emit(context.Background(), nil, a, map[string]setters.Image{}, "", tt.err)
		if len(rec.events) != 1 || rec.events[0].Reason != tt.reason || rec.events[0].Severity != alerting.SeverityError || rec.events[0].Message != tt.err.Error() {
			t.Errorf("%v: events = %+v", tt.err, rec.events)
		}
	}
}
