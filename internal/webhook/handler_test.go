package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// queued is what the stand-in holds, reduced to what the contract fixes.
type queued struct {
	Body, Group, Dedup string
}

func queuedMessages(srv *awstest.SQSServer) []queued {
	var out []queued
	for _, m := range srv.Messages(queueName) {
		out = append(out, queued{Body: m.Body, Group: m.GroupID, Dedup: m.DeduplicationID})
	}
	return out
}

func reconcileBody(repo, branch, rev string) string {
	return `{"repository":"` + repo + `","branch":"` + branch + `","revision":"` + rev + `","reason":"push","kustomizations":[]}`
}

func TestHandle(t *testing.T) {
	mainPush := pushPayload(fixtureURL, "refs/heads/main", revision, false)
	wantQueued := []queued{{
		Body:  reconcileBody(fixtureID, "main", revision),
		Group: fixtureID + "@main",
		Dedup: "push-d-1",
	}}
	queuedResp := Response{Status: StatusQueued, Reason: "push to " + fixtureID + "@main", Revision: revision}
	tests := []struct {
		name     string
		gitURL   string // fixtureURL when empty
		delivery delivery
		mutate   func(*events.LambdaFunctionURLRequest) // applied to the built request
		wantCode int
		wantResp Response
		wantMsgs []queued
	}{
		{
			name:     "signed push to main",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush},
			wantCode: http.StatusAccepted, wantResp: queuedResp, wantMsgs: wantQueued,
		},
		{
			name:     "form-encoded push",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush, form: true},
			wantCode: http.StatusAccepted, wantResp: queuedResp, wantMsgs: wantQueued,
		},
		{
			name:     "base64 body",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush, base64: true},
			wantCode: http.StatusAccepted, wantResp: queuedResp, wantMsgs: wantQueued,
		},
		{
			name:     "base64 form body",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush, form: true, base64: true},
			wantCode: http.StatusAccepted, wantResp: queuedResp, wantMsgs: wantQueued,
		},
		{
			name:   "canonical header case, charset",
			gitURL: "git@github.com:mamezou-tech/task-tool-cluster-config.git",
			delivery: delivery{payload: mainPush, unsigned: true, headers: map[string]string{
				"x-github-event": "", "x-github-delivery": "", "content-type": "",
				"Content-Type": "application/json; charset=utf-8", "X-GitHub-Event": "push",
				"X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": sign256(mainPush),
			}},
			wantCode: http.StatusAccepted, wantResp: queuedResp, wantMsgs: wantQueued,
		},
		{
			name:     "config URL in ssh form",
			gitURL:   "ssh://git@github.com/Mamezou-Tech/task-tool-cluster-config",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush},
			wantCode: http.StatusAccepted, wantResp: queuedResp, wantMsgs: wantQueued,
		},
		{
			name:     "push to another branch",
			delivery: delivery{event: "push", id: "d-1", payload: pushPayload(fixtureURL, "refs/heads/dev", revision, false)},
			wantCode: http.StatusOK,
			wantResp: Response{Status: StatusIgnored, Reason: "push to branch dev: Sluice follows branch main", Revision: revision},
		},
		{
			name:     "push to another repository",
			delivery: delivery{event: "push", id: "d-1", payload: pushPayload("https://github.com/mamezou-tech/k8s-tutorial", "refs/heads/main", revision, false)},
			wantCode: http.StatusOK,
			wantResp: Response{Status: StatusIgnored, Reason: "push to github.com/mamezou-tech/k8s-tutorial, not to the config repository " + fixtureID, Revision: revision},
		},
		{
			name:     "tag push",
			delivery: delivery{event: "push", id: "d-1", payload: pushPayload(fixtureURL, "refs/tags/v1.1.0", revision, false)},
			wantCode: http.StatusOK,
			wantResp: Response{Status: StatusIgnored, Reason: "tag push refs/tags/v1.1.0: Sluice follows branch main", Revision: revision},
		},
		{
			name:     "branch deletion",
			delivery: delivery{event: "push", id: "d-1", payload: pushPayload(fixtureURL, "refs/heads/main", zeroSHA, true)},
			wantCode: http.StatusOK,
			wantResp: Response{Status: StatusIgnored, Reason: "branch main was deleted"},
		},
		{
			name:     "other ref",
			delivery: delivery{event: "push", id: "d-1", payload: pushPayload(fixtureURL, "refs/notes/commits", revision, false)},
			wantCode: http.StatusOK,
			wantResp: Response{Status: StatusIgnored, Reason: "push to refs/notes/commits, which is not a branch", Revision: revision},
		},
		{
			name:     "unhandled event",
			delivery: delivery{event: "issues", id: "d-1", payload: `{"action":"opened"}`},
			wantCode: http.StatusOK,
			wantResp: Response{Status: StatusIgnored, Reason: `event "issues" is not handled: Sluice acts on push`},
		},
		{
			name:     "ping",
			delivery: delivery{event: "ping", id: "d-1", payload: `{"zen":"Design for failure.","hook_id":468213579}`},
			wantCode: http.StatusOK,
			wantResp: Response{Status: StatusIgnored, Reason: "ping from hook 468213579: the webhook reaches Sluice"},
		},
		{
			name:     "missing signature",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush, unsigned: true},
			wantCode: http.StatusUnauthorized,
			wantResp: Response{Status: StatusRejected, Reason: "webhook signature is not valid: X-Hub-Signature-256 header is missing"},
		},
		{
			name:     "SHA-1 signature only",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush, sha1Only: true},
			wantCode: http.StatusUnauthorized,
			wantResp: Response{Status: StatusRejected, Reason: "X-Hub-Signature-256 is missing; the SHA-1 X-Hub-Signature alone is refused"},
		},
		{
			name:     "wrong secret",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush, signature: "sha256=" + strings.Repeat("ab", 32)},
			wantCode: http.StatusUnauthorized,
			wantResp: Response{Status: StatusRejected, Reason: "webhook signature is not valid: payload signature check failed"},
		},
		{
			name:     "tampered body",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush, signature: sign256(pushPayload(fixtureURL, "refs/heads/dev", revision, false))},
			wantCode: http.StatusUnauthorized,
			wantResp: Response{Status: StatusRejected, Reason: "webhook signature is not valid: payload signature check failed"},
		},
		{
			name:     "unsupported content type",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush, contentType: "text/plain"},
			wantCode: http.StatusBadRequest,
			wantResp: Response{Status: StatusRejected, Reason: `webhook payload is malformed: webhook request has unsupported Content-Type "text/plain"`},
		},
		{
			name:     "malformed JSON",
			delivery: delivery{event: "push", id: "d-1", payload: `{"ref":`},
			wantCode: http.StatusBadRequest,
			wantResp: Response{Status: StatusRejected, Reason: "webhook payload is malformed: push event: unexpected end of JSON input"},
		},
		{
			name:     "push without commit",
			delivery: delivery{event: "push", id: "d-1", payload: pushPayload(fixtureURL, "refs/heads/main", "", false)},
			wantCode: http.StatusBadRequest,
			wantResp: Response{Status: StatusRejected, Reason: "webhook payload is malformed: push event has no valid after (a commit id)"},
		},
		{
			name:     "missing event header",
			delivery: delivery{id: "d-1", payload: mainPush},
			wantCode: http.StatusBadRequest,
			wantResp: Response{Status: StatusRejected, Reason: "X-Github-Event header is missing"},
		},
		{
			name:     "missing delivery id",
			delivery: delivery{event: "push", payload: mainPush},
			wantCode: http.StatusBadRequest,
			wantResp: Response{Status: StatusRejected, Reason: "X-Github-Delivery header is missing"},
		},
		{
			name:     "body not base64",
			delivery: delivery{event: "push", id: "d-1", payload: mainPush},
			mutate:   func(r *events.LambdaFunctionURLRequest) { r.IsBase64Encoded = true },
			wantCode: http.StatusBadRequest,
			wantResp: Response{Status: StatusRejected, Reason: "body is marked base64-encoded but is not: illegal base64 data at input byte 0"},
		},
		{
			name:     "GET",
			delivery: delivery{method: "GET", event: "push", id: "d-1", payload: mainPush},
			wantCode: http.StatusMethodNotAllowed,
			wantResp: Response{Status: StatusRejected, Reason: "method GET is not allowed: GitHub delivers webhooks with POST"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, client := startSQS(t)
			gitURL := tt.gitURL
			if gitURL == "" {
				gitURL = fixtureURL
			}
			h := newHandler(t, gitURL, "main", queue.NewSender(client, srv.QueueURL(queueName)))
			req := tt.delivery.request()
			if tt.mutate != nil {
				tt.mutate(&req)
			}
			resp, body, err := invoke(t, h, mustJSON(t, req))
			if err != nil {
				t.Fatalf("handler error: %v", err)
			}
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status code = %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if resp.Headers["Content-Type"] != "application/json" {
				t.Errorf("Content-Type = %q", resp.Headers["Content-Type"])
			}
			if diff := cmp.Diff(tt.wantResp, body); diff != "" {
				t.Errorf("response body (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMsgs, queuedMessages(srv)); diff != "" {
				t.Errorf("queued messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandleRedelivery(t *testing.T) {
	srv, client := startSQS(t)
	h := newHandler(t, fixtureURL, "main", queue.NewSender(client, srv.QueueURL(queueName)))
	event := mustJSON(t, delivery{event: "push", id: "d-7", payload: pushPayload(fixtureURL, "refs/heads/main", revision, false)}.request())
	for i := range 3 {
		resp, _, err := invoke(t, h, event)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("delivery %d: %d, %v", i+1, resp.StatusCode, err)
		}
	}
	want := []queued{{Body: reconcileBody(fixtureID, "main", revision), Group: fixtureID + "@main", Dedup: "push-d-7"}}
	if diff := cmp.Diff(want, queuedMessages(srv)); diff != "" {
		t.Errorf("a redelivered webhook queued something new (-want +got):\n%s", diff)
	}
}

// TestHandleGroups checks the contract's point: pushes to one branch wait
// for each other, pushes to different branches (here: two functions, each
// following its branch, sharing the queue) proceed in parallel.
func TestHandleGroups(t *testing.T) {
	srv, client := startSQS(t)
	sender := queue.NewSender(client, srv.QueueURL(queueName))
	handlers := map[string]*Handler{
		"main":    newHandler(t, fixtureURL, "main", sender),
		"staging": newHandler(t, fixtureURL, "staging", sender),
	}
	pushes := []struct{ branch, id, rev string }{
		{"main", "d-1", "1111111111111111111111111111111111111111"},
		{"staging", "d-2", "2222222222222222222222222222222222222222"},
		{"main", "d-3", "3333333333333333333333333333333333333333"},
	}
	for _, p := range pushes {
		ev := mustJSON(t, delivery{event: "push", id: p.id, payload: pushPayload(fixtureURL, "refs/heads/"+p.branch, p.rev, false)}.request())
		if resp, _, err := invoke(t, handlers[p.branch], ev); err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("push %s: %d, %v", p.id, resp.StatusCode, err)
		}
	}
	want := []queued{
		{Body: reconcileBody(fixtureID, "main", pushes[0].rev), Group: fixtureID + "@main", Dedup: "push-d-1"},
		{Body: reconcileBody(fixtureID, "staging", pushes[1].rev), Group: fixtureID + "@staging", Dedup: "push-d-2"},
		{Body: reconcileBody(fixtureID, "main", pushes[2].rev), Group: fixtureID + "@main", Dedup: "push-d-3"},
	}
	if diff := cmp.Diff(want, queuedMessages(srv)); diff != "" {
		t.Fatalf("queued (-want +got):\n%s", diff)
	}
	// Two consumers, one message each (FIFO batch size 1, as the reconcile
	// function is configured): both branches are worked on at once, and
	// main's second push waits for its first.
	var got []string
	for range 3 {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(srv.QueueURL(queueName)), MaxNumberOfMessages: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			msg, err := queue.DecodeReconcile([]byte(aws.ToString(m.Body)))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, msg.Branch+"@"+msg.Revision[:1])
		}
	}
	if diff := cmp.Diff([]string{"main@1", "staging@2"}, got); diff != "" {
		t.Errorf("received while in flight (-want +got):\n%s", diff)
	}
}

func TestHandleQueueFailure(t *testing.T) {
	srv, client := startSQS(t)
	h := newHandler(t, fixtureURL, "main", queue.NewSender(client, srv.QueueURL("missing.fifo")))
	ev := mustJSON(t, delivery{event: "push", id: "d-1", payload: pushPayload(fixtureURL, "refs/heads/main", revision, false)}.request())
	_, _, err := invoke(t, h, ev)
	var qerr *QueueError
	if !errors.As(err, &qerr) || qerr.Delivery != "d-1" {
		t.Fatalf("error = %v, want a *QueueError for delivery d-1", err)
	}
	// The same request with a bad signature is still a 401, not an error:
	// the queue is never reached for bad input.
	bad := delivery{event: "push", id: "d-1", payload: pushPayload(fixtureURL, "refs/heads/main", revision, false), signature: "sha256=" + strings.Repeat("0", 64)}
	if resp, _, err := invoke(t, h, mustJSON(t, bad.request())); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad signature with a broken queue: %d, %v", resp.StatusCode, err)
	}
}

func TestHandleWrongEvent(t *testing.T) {
	h := newHandler(t, fixtureURL, "main", &recordingQueue{})
	sqsEvent, err := os.ReadFile(filepath.Join("..", "..", "events", "sqs-reconcile.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		event string
	}{
		{name: "SQS event", event: string(sqsEvent)},
		{name: "empty object", event: `{}`},
		{name: "v1 payload", event: `{"version":"1.0","httpMethod":"POST","body":"{}"}`},
		{name: "no method", event: `{"version":"2.0","headers":{},"requestContext":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := invoke(t, h, []byte(tt.event))
			var ierr *InvalidEventError
			if !errors.As(err, &ierr) {
				t.Fatalf("error = %v, want an *InvalidEventError", err)
			}
		})
	}
	if _, _, err := invoke(t, h, []byte(`{"version":`)); err == nil {
		t.Error("truncated JSON event accepted")
	}
}

// TestHandleEventFiles runs the sample events: the push queues exactly the
// message that events/sqs-reconcile.json carries to the reconcile function.
func TestHandleEventFiles(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	srv, client := startSQS(t)
	h := newHandler(t, fixtureURL, "main", queue.NewSender(client, srv.QueueURL(queueName)))

	resp, body, err := invoke(t, h, read("github-push.json"))
	if err != nil || resp.StatusCode != http.StatusAccepted || body.Status != StatusQueued || body.Revision != revision {
		t.Fatalf("github-push.json: %d %+v %v", resp.StatusCode, body, err)
	}
	resp, body, err = invoke(t, h, read("github-ping.json"))
	if err != nil || resp.StatusCode != http.StatusOK || body.Status != StatusIgnored {
		t.Fatalf("github-ping.json: %d %+v %v", resp.StatusCode, body, err)
	}

	var sample events.SQSEvent
	if err := json.Unmarshal(read("sqs-reconcile.json"), &sample); err != nil {
		t.Fatal(err)
	}
	got := awstest.SQSEvent(srv.Messages(queueName)...)
	if len(got.Records) != 1 || len(sample.Records) != 1 {
		t.Fatalf("records: queued %d, sample %d", len(got.Records), len(sample.Records))
	}
	g, s := got.Records[0], sample.Records[0]
	type contract struct{ Body, MD5, Group, Dedup, Source string }
	pick := func(m events.SQSMessage) contract {
		return contract{m.Body, m.Md5OfBody, m.Attributes["MessageGroupId"], m.Attributes["MessageDeduplicationId"], m.EventSource}
	}
	if diff := cmp.Diff(pick(s), pick(g)); diff != "" {
		t.Errorf("events/sqs-reconcile.json differs from what the webhook queues for events/github-push.json (-sample +queued):\n%s", diff)
	}
}

func TestNew(t *testing.T) {
	_, err := New(Config{Secret: " "}, nil)
	if err == nil {
		t.Fatal("New accepted an empty configuration")
	}
	for _, want := range []string{"webhook secret is empty", "repository URL is empty", "config branch is empty", "no reconcile queue"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := New(Config{Repo: configrepo.Repository{URL: fixtureURL, Branch: "main"}, Secret: testSecret}, &recordingQueue{}); err != nil {
		t.Errorf("valid configuration: %v", err)
	}
}
