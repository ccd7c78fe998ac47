package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/github"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// Queue sends one message to the reconcile FIFO queue and returns its id.
type Queue interface {
	Send(ctx context.Context, body any, groupID, dedupID string) (string, error)
}

var _ Queue = (*queue.Sender)(nil)

// Statuses of a Response.
const (
	StatusQueued  = "queued"
	StatusIgnored = "ignored"
	// StatusRejected answers a request that is not a valid, signed delivery
	// (4xx); DESIGN.md's queued/ignored are the answers to valid ones.
	StatusRejected = "rejected"
)

// Response is the JSON body of every answer the Function URL gives.
type Response struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	// Revision is the pushed commit, when the delivery is a push.
	Revision string `json:"revision,omitempty"`
}

// QueueError means an accepted push could not be queued. It is returned as a
// handler error rather than a 5xx response on purpose: Lambda counts it in
// the function's Errors metric, which alarms watch; the Function URL answers
// 502, so GitHub records a failed delivery that someone can redeliver, which
// is safe because the delivery id is the deduplication id. Bad input never
// produces it.
type QueueError struct {
	Delivery string
	Err      error
}

func (e *QueueError) Error() string {
	return fmt.Sprintf("queueing reconcile for delivery %s: %v", e.Delivery, e.Err)
}

func (e *QueueError) Unwrap() error { return e.Err }

// InvalidEventError means the function was invoked with something that is
// not a Lambda Function URL request (payload format 2.0), such as an event
// file meant for another function. A Function URL never sends one.
type InvalidEventError struct {
	Problem string
}

func (e *InvalidEventError) Error() string {
	return "event is not a Lambda Function URL request (payload format 2.0): " + e.Problem
}

// Handler answers GitHub webhook deliveries for one repository and branch.
type Handler struct {
	verifier *github.Verifier
	repo     string // repoid identity of the config repository
	branch   string
	queue    Queue
}

// New returns a Handler for cfg that sends to q. An empty secret is an
// error: a webhook that accepts every caller is never configured by accident.
func New(cfg Config, q Queue) (*Handler, error) {
	var errs []error
	v, err := github.NewVerifier(cfg.Secret)
	if err != nil {
		errs = append(errs, err)
	}
	repo, err := repoid.Parse(cfg.Repo.URL)
	if err != nil {
		errs = append(errs, fmt.Errorf("config repository: %w", err))
	}
	if cfg.Repo.Branch == "" {
		errs = append(errs, errors.New("config branch is empty"))
	}
	if q == nil {
		errs = append(errs, errors.New("no reconcile queue"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("webhook handler: %w", err)
	}
	return &Handler{verifier: v, repo: repo, branch: cfg.Repo.Branch, queue: q}, nil
}

// Handle answers one delivery: 202 when a push was queued, 200 when the
// delivery was valid but needs nothing, 4xx for a request that is not a
// valid signed delivery. Its error is a *QueueError or *InvalidEventError.
func (h *Handler) Handle(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	if req.Version != "2.0" {
		return events.LambdaFunctionURLResponse{}, &InvalidEventError{Problem: fmt.Sprintf("version is %q", req.Version)}
	}
	if req.RequestContext.HTTP.Method == "" {
		return events.LambdaFunctionURLResponse{}, &InvalidEventError{Problem: "requestContext.http.method is empty"}
	}
	d := h.decide(req)
	log := slog.With("delivery", d.delivery, "event", d.event, "reason", d.resp.Reason)
	switch {
	case d.send != nil:
		id, err := h.queue.Send(ctx, d.send.message, d.send.group, d.send.dedup)
		if err != nil {
			log.ErrorContext(ctx, "webhook could not queue the push", "error", err)
			return events.LambdaFunctionURLResponse{}, &QueueError{Delivery: d.delivery, Err: err}
		}
		log.InfoContext(ctx, "webhook queued reconcile", "code", d.code, "revision", d.resp.Revision, "group", d.send.group, "messageId", id)
	case d.code >= http.StatusBadRequest:
		log.WarnContext(ctx, "webhook rejected request", "code", d.code)
	default:
		log.InfoContext(ctx, "webhook ignored delivery", "code", d.code, "revision", d.resp.Revision)
	}
	return respond(d.code, d.resp), nil
}

func respond(code int, r Response) events.LambdaFunctionURLResponse {
	body, _ := json.Marshal(r) // three strings cannot fail to marshal
	return events.LambdaFunctionURLResponse{
		StatusCode: code,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}
}
