package imageupdate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/lambdarun"
)

// Handler is the image-update function's Lambda handler.
type Handler struct {
	updater *Updater
}

// NewHandler returns the handler that runs u.
func NewHandler(u *Updater) *Handler { return &Handler{updater: u} }

// Handle handles one invocation. An SQS event from the image queue answers
// the partial batch response, {"batchItemFailures": [...]}: a message that
// fails, malformed ones included, is reported so that SQS delivers it again
// and, in the end, to the dead-letter queue; it is never dropped. An ECR
// Image Action event from EventBridge, or a re-evaluate request invoked
// directly, answers a *Result, or an error (EventBridge retries the
// invocation). An event of no known shape is an *InvalidEventError.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	keys, err := objectKeys(raw)
	if err != nil {
		return nil, &InvalidEventError{err}
	}
	if keys["Records"] {
		var ev events.SQSEvent
		if err := lambdarun.DecodeEvent(raw, &ev); err != nil {
			return nil, &InvalidEventError{fmt.Errorf("decoding SQS event: %w", err)}
		}
		resp, err := h.batch(ctx, ev)
		if err != nil {
			return nil, err
		}
		return resp, nil
	}
	if !keys["source"] && !keys["detail-type"] && !keys["reason"] {
		return nil, &InvalidEventError{errors.New("neither an SQS event (Records), an EventBridge ECR Image Action event (source, detail-type) nor a re-evaluate request (reason)")}
	}
	req, err := DecodeMessage(raw)
	if err != nil {
		return nil, &InvalidEventError{err}
	}
	if req.Image != nil {
		// EventBridge retries an invocation with the same event id: its
		// events notify once.
		ctx = alerting.WithTrigger(ctx, req.Image.ID)
	}
	res, err := h.updater.Update(ctx, req)
	if err != nil {
		slog.ErrorContext(ctx, "image update failed", "request", req.String(), "error", err)
		return nil, err
	}
	return res, nil
}

// batch handles the records of an SQS event in order. On a FIFO queue the
// records after a failed one are reported unprocessed, as Lambda requires:
// handling them would reorder the group's messages.
func (h *Handler) batch(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	for i, rec := range ev.Records {
		if rec.EventSource != "aws:sqs" || rec.MessageId == "" {
			return events.SQSEventResponse{}, &InvalidEventError{fmt.Errorf("record %d: eventSource %q, messageId %q: not an SQS message", i, rec.EventSource, rec.MessageId)}
		}
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	failed := false
	for _, rec := range ev.Records {
		log := slog.With("messageId", rec.MessageId, "queue", rec.EventSourceARN)
		if failed && strings.HasSuffix(rec.EventSourceARN, ".fifo") {
			log.WarnContext(ctx, "image queue message left for retry: an earlier message of the batch failed")
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		if err := h.record(ctx, rec); err != nil {
			log.ErrorContext(ctx, "image queue message failed; reported for retry", "receiveCount", rec.Attributes["ApproximateReceiveCount"], "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			failed = true
		}
	}
	return resp, nil
}

func (h *Handler) record(ctx context.Context, rec events.SQSMessage) error {
	req, err := DecodeMessage([]byte(rec.Body))
	if err != nil {
		return &InvalidEventError{fmt.Errorf("message body: %w", err)}
	}
	// A redelivered message notifies the same events once.
	res, err := h.updater.Update(alerting.WithTrigger(ctx, rec.MessageId), req)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "image queue message handled", "request", req.String(), "policies", res.Policies, "files", res.Files, "commit", res.Commit != nil)
	return nil
}
