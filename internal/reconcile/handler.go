package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/lambdarun"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// InvalidEventError is returned for an event that is not an SQS event.
type InvalidEventError struct{ Err error }

func (e *InvalidEventError) Error() string { return "not an SQS event: " + e.Err.Error() }
func (e *InvalidEventError) Unwrap() error { return e.Err }

// Retryer makes a failed message visible again sooner than the queue's
// visibility timeout, which is sized for the longest reconcile.
type Retryer interface {
	RetryIn(ctx context.Context, receiptHandle string, d time.Duration) error
}

var _ Retryer = (*queue.Sender)(nil)

// Handler is the reconcile function's Lambda handler.
type Handler struct {
	r *Reconciler
	// Retry, when set, brings a failed message back after RetryDelay instead
	// of the visibility timeout: a fix pushed meanwhile is applied in seconds,
	// not half an hour later, and the dead-letter queue still takes a message
	// that keeps failing.
	Retry Retryer
}

// RetryDelay is how long a message that failed its n-th receive stays
// hidden: 10 s, doubling, at most 5 minutes.
func RetryDelay(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// NewHandler returns the handler of r.
func NewHandler(r *Reconciler) *Handler { return &Handler{r: r} }

// Handle reconciles for each SQS record (the queue delivers one at a time)
// and reports the records that failed, so the queue retries them and then
// moves them to the dead-letter queue.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (events.SQSEventResponse, error) {
	var ev events.SQSEvent
	if err := lambdarun.DecodeEvent(raw, &ev); err != nil {
		return events.SQSEventResponse{}, &InvalidEventError{err}
	}
	if len(ev.Records) == 0 {
		return events.SQSEventResponse{}, &InvalidEventError{fmt.Errorf("no Records")}
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, rec := range ev.Records {
		if rec.EventSource != "aws:sqs" || rec.MessageId == "" {
			return events.SQSEventResponse{}, &InvalidEventError{fmt.Errorf("record %q has eventSource %q", rec.MessageId, rec.EventSource)}
		}
		log := slog.With("messageId", rec.MessageId)
		msg, err := queue.DecodeReconcile([]byte(rec.Body))
		if err == nil {
			var res *Result
			// A redelivered message notifies the same events once.
			res, err = h.r.Reconcile(alerting.WithTrigger(ctx, rec.MessageId), msg)
			if res != nil {
				log.InfoContext(ctx, "reconcile done", "revision", res.Revision, "kustomizations", len(res.Kustomizations), "failed", len(res.Failed()))
			}
		}
		if err != nil {
			log.ErrorContext(ctx, "reconcile failed; the queue will retry the message", "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			h.retrySoon(ctx, rec, err)
		}
	}
	return resp, nil
}

func (h *Handler) retrySoon(ctx context.Context, rec events.SQSMessage, cause error) {
	if h.Retry == nil || rec.ReceiptHandle == "" {
		return
	}
	n, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	d := RetryDelay(n)
	if rerr := (*Error)(nil); errors.As(cause, &rerr) && rerr.Interrupted {
		// Nothing failed: the work outgrew one invocation. Go on at once.
		d = 0
	}
	if err := h.Retry.RetryIn(ctx, rec.ReceiptHandle, d); err != nil {
		// The visibility timeout still brings the message back.
		slog.WarnContext(ctx, "asking for an early retry", "messageId", rec.MessageId, "error", err)
		return
	}
	slog.InfoContext(ctx, "retry scheduled", "messageId", rec.MessageId, "in", d.String(), "receiveCount", n)
}
