package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/lambdarun"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// Notifier sends the summary of a run that found something.
type Notifier interface {
	Publish(ctx context.Context, subject, message string) error
}

// Images finds the ImagePolicies whose newest allowed tag is not in Git yet.
type Images interface {
	Behind(ctx context.Context, snap *desired.Snapshot) ([]string, error)
}

// Handler is the drift function's Lambda handler.
type Handler struct {
	checker *Checker
	// Optional parts: nil disables each.
	Images     Images
	ImageQueue Queue
	Notifier   Notifier
	// Events sends what the run found to the config's Alerts.
	Events Events
	// Metrics receives EMF lines (os.Stderr in main).
	Metrics io.Writer
	nowFunc func() time.Time
}

// NewHandler returns the handler of c; metrics receives EMF lines.
func NewHandler(c *Checker, metrics io.Writer) *Handler {
	return &Handler{checker: c, Metrics: metrics, nowFunc: time.Now}
}

// InvalidEventError is returned for an event that is not a scheduled event.
type InvalidEventError struct{ Err error }

func (e *InvalidEventError) Error() string {
	return "not an EventBridge scheduled event: " + e.Err.Error()
}
func (e *InvalidEventError) Unwrap() error { return e.Err }

// Handle runs one drift check for an EventBridge schedule event.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (*Report, error) {
	var ev events.CloudWatchEvent
	if err := lambdarun.DecodeEvent(raw, &ev); err != nil {
		return nil, &InvalidEventError{err}
	}
	if ev.Source != "aws.events" || ev.DetailType != "Scheduled Event" || ev.ID == "" {
		return nil, &InvalidEventError{fmt.Errorf("source %q, detail-type %q, id %q", ev.Source, ev.DetailType, ev.ID)}
	}
	repo := h.checker.repo.Source()
	rep, snap, err := h.checker.Check(ctx, ev.ID)
	if snap != nil {
		defer snap.Close()
	}
	if err != nil && rep == nil {
		if h.Metrics != nil {
			err = errors.Join(err, WriteRunMetrics(h.Metrics, repo, 1, h.nowFunc()))
		}
		return nil, err
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if h.Images != nil && snap != nil {
		errs = append(errs, h.images(ctx, snap, rep))
	}
	if h.Metrics != nil {
		errs = append(errs, WriteMetrics(h.Metrics, repo, rep, h.nowFunc()))
	}
	if h.Events != nil && snap != nil {
		// A retried invocation of the same scheduled event notifies once.
		ectx := alerting.WithTrigger(ctx, ev.ID)
		for _, e := range alertEvents(rep, h.checker.repo.Branch, h.nowFunc()) {
			h.Events.Emit(ectx, snap.Config, e)
		}
	}
	failed := checkFailed(rep)
	if h.Notifier != nil && (rep.Drifted+rep.Missing+rep.Extra > 0 || anyBehind(rep) || failed != nil) {
		subject := fmt.Sprintf("Sluice: drift in %s", repo)
		if failed != nil {
			subject = fmt.Sprintf("Sluice: drift check failed in %s", repo)
		}
		if err := h.Notifier.Publish(ctx, subject, Summary(rep, repo)); err != nil {
			// A notification is a report; the check itself stands.
			slog.WarnContext(ctx, "sending the drift notification", "error", err)
		}
	}
	slog.InfoContext(ctx, "drift check done", "drifted", rep.Drifted, "missing", rep.Missing, "extra", rep.Extra, "queued", rep.Queued)
	if failed != nil {
		// Drift that could not be checked is not "no drift": the invocation
		// fails, so the function's Errors alarm fires.
		errs = append(errs, failed)
	}
	return rep, errors.Join(errs...)
}

// CheckFailedError is the drift function's error when some Kustomizations
// could not be checked (cluster unreachable, access denied, render error).
// The rest were checked, reported and, in correct mode, queued.
type CheckFailedError struct {
	// Failures maps each Kustomization that could not be checked to why.
	Failures map[string]string
}

func (e *CheckFailedError) Error() string {
	names := make([]string, 0, len(e.Failures))
	for n := range e.Failures {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+": "+e.Failures[n])
	}
	return fmt.Sprintf("drift check failed for %d Kustomization(s): %s", len(names), strings.Join(parts, "; "))
}

func checkFailed(rep *Report) *CheckFailedError {
	var e *CheckFailedError
	for _, k := range rep.Kustomizations {
		if k.Error != "" {
			if e == nil {
				e = &CheckFailedError{Failures: map[string]string{}}
			}
			e.Failures[k.Name] = k.Error
		}
	}
	return e
}

func (h *Handler) images(ctx context.Context, snap *desired.Snapshot, rep *Report) error {
	behind, err := h.Images.Behind(ctx, snap)
	if err != nil {
		return fmt.Errorf("re-evaluating image policies: %w", err)
	}
	rep.Images = behind
	if len(behind) == 0 || h.ImageQueue == nil {
		return nil
	}
	repo := h.checker.repo
	// The image queue deduplicates by content: the same request within five
	// minutes is one request.
	if _, err := h.ImageQueue.Send(ctx, queue.Reevaluate{Reason: queue.ReasonDrift, Policies: behind}, queue.GroupID(repo.ID(), repo.Branch), ""); err != nil {
		return fmt.Errorf("queueing the re-evaluation of %v: %w", behind, err)
	}
	rep.ImagesQueued = true
	slog.InfoContext(ctx, "image policies behind Git: re-evaluation queued", "policies", behind)
	return nil
}

func anyBehind(rep *Report) bool {
	for _, k := range rep.Kustomizations {
		if k.Behind {
			return true
		}
	}
	return false
}
