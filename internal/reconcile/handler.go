package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/lambdarun"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// InvalidEventError is returned for an event that is not an SQS event.
type InvalidEventError struct{ Err error }

func (e *InvalidEventError) Error() string { return "not an SQS event: " + e.Err.Error() }
func (e *InvalidEventError) Unwrap() error { return e.Err }

// Handler is the reconcile function's Lambda handler.
type Handler struct {
	r *Reconciler
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
			res, err = h.r.Reconcile(ctx, msg)
			if res != nil {
				log.InfoContext(ctx, "reconcile done", "revision", res.Revision, "kustomizations", len(res.Kustomizations), "failed", len(res.Failed()))
			}
		}
		if err != nil {
			log.ErrorContext(ctx, "reconcile failed; the queue will retry the message", "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}
