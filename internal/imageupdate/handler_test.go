package imageupdate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// TestIgnoredEvents checks that events about nothing Sluice manages are
// acknowledged, commit nothing and say why in the logs.
func TestIgnoredEvents(t *testing.T) {
	w := newWorld(t, nil)
	h := w.handler(token)
	w.push(taskService, "1.0.0", "1.1.0")
	w.ecr.PushTag("444455556666", taskService, "1.1.9")
	w.push("mamezou-tech/unknown", "1.1.0")
	tests := []struct {
		name    string
		event   []byte
		wantLog string
	}{
		{name: "repository no ImageRepository names", event: ecrEvent(t, ActionPush, "mamezou-tech/unknown", "1.1.0", nil),
			wantLog: "no ImageRepository names this repository"},
		{name: "another account", event: ecrEvent(t, ActionPush, taskService, "1.1.9", func(ev, _ map[string]any) { ev["account"] = "444455556666" }),
			wantLog: "in another registry: flux-system/task-service (account 111122223333, region ap-northeast-1)"},
		{name: "another region", event: ecrEvent(t, ActionPush, taskService, "1.1.0", func(ev, _ map[string]any) { ev["region"] = "us-east-1" }),
			wantLog: "in another registry"},
		{name: "a failed push", event: ecrEvent(t, ActionPush, taskService, "1.1.0", func(_, d map[string]any) { d["result"] = ResultFailure }),
			wantLog: "the action did not succeed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := captureLogs(t)
			before := w.head()
			res := invoke(t, h, tt.event)
			if diff := cmp.Diff(&Result{Policies: map[string]string{}, Files: []string{}}, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if w.head() != before {
				t.Error("an ignored event made a commit")
			}
			if !logs.contains(tt.wantLog) || !logs.contains("ECR event ignored") {
				t.Errorf("logs do not say %q:\n%s", tt.wantLog, logs.String())
			}
		})
	}
	if b, _ := json.Marshal(&Result{Policies: map[string]string{}, Files: []string{}}); string(b) != `{"policies":{},"files":[],"commit":null}` {
		t.Errorf("an empty result marshals as %s", b)
	}
}

func TestInvalidEvents(t *testing.T) {
	w := newWorld(t, nil)
	h := w.handler(token)
	tests := []struct {
		name    string
		event   string
		wantErr string
	}{
		{name: "not JSON", event: `{"source":`, wantErr: "not a JSON object"},
		{name: "an array", event: `[]`, wantErr: "not a JSON object"},
		{name: "null", event: `null`, wantErr: "not a JSON object: null"},
		{name: "unknown shape", event: `{"hello":"world"}`, wantErr: "neither an SQS event (Records), an EventBridge ECR Image Action event (source, detail-type) nor a re-evaluate request (reason)"},
		{name: "another function's event", event: string(readEvent(t, "github-ping.json")), wantErr: "neither an SQS event"},
		{name: "scheduled event", event: `{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"111122223333","time":"2026-03-12T10:00:00Z","region":"ap-northeast-1","resources":[],"detail":{}}`,
			wantErr: `source "aws.events" and detail-type "Scheduled Event": want "aws.ecr" and "ECR Image Action"`},
		{name: "SQS envelope with an unknown field", event: `{"Records":[],"extra":1}`, wantErr: `decoding SQS event: json: unknown field "extra"`},
		{name: "SQS record of another source", event: `{"Records":[{"messageId":"m","eventSource":"aws:kinesis","body":"{}"}]}`, wantErr: `record 0: eventSource "aws:kinesis"`},
		{name: "re-evaluate with a bad reason", event: `{"reason":"push","policies":[]}`, wantErr: `reason "push" is not drift or manual`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.head()
			_, err := h.Handle(context.Background(), json.RawMessage(tt.event))
			var inv *InvalidEventError
			if !errors.As(err, &inv) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v; want an *InvalidEventError saying %q", err, tt.wantErr)
			}
			if w.head() != before {
				t.Error("an invalid event made a commit")
			}
		})
	}
}

// sqsRecord is the record of events/sqs-ecr-push.json with body and id
// replaced; fifo false puts it on a standard queue.
func sqsRecord(t *testing.T, id, body string, fifo bool) events.SQSMessage {
	t.Helper()
	var ev events.SQSEvent
	if err := json.Unmarshal(readEvent(t, "sqs-ecr-push.json"), &ev); err != nil {
		t.Fatal(err)
	}
	r := ev.Records[0]
	r.MessageId, r.Body = id, body
	if !fifo {
		r.EventSourceARN = strings.TrimSuffix(r.EventSourceARN, ".fifo")
	}
	return r
}

func TestSQSBatch(t *testing.T) {
	push := string(readEvent(t, "ecr-push.json"))
	reevaluate := `{"reason":"drift","policies":["flux-system/task-service"]}`
	tests := []struct {
		name        string
		token       string
		records     func(t *testing.T) []events.SQSMessage
		wantFailed  []string
		wantCommits int
	}{
		{name: "events/sqs-ecr-push.json", token: token, wantCommits: 1,
			records: func(t *testing.T) []events.SQSMessage {
				var ev events.SQSEvent
				json.Unmarshal(readEvent(t, "sqs-ecr-push.json"), &ev)
				return ev.Records
			}},
		{name: "events/sqs-image-reevaluate.json", token: token, wantCommits: 1,
			records: func(t *testing.T) []events.SQSMessage {
				var ev events.SQSEvent
				json.Unmarshal(readEvent(t, "sqs-image-reevaluate.json"), &ev)
				return ev.Records
			}},
		{name: "the Git server refuses the token", token: "wrong", wantFailed: []string{"a"},
			records: func(t *testing.T) []events.SQSMessage { return []events.SQSMessage{sqsRecord(t, "a", push, true)} }},
		{name: "FIFO: after a failure the rest is left for retry, in order", token: token, wantFailed: []string{"b", "c"}, wantCommits: 1,
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{sqsRecord(t, "a", push, true), sqsRecord(t, "b", `{"reason":`, true), sqsRecord(t, "c", reevaluate, true)}
			}},
		{name: "standard queue: each record on its own", token: token, wantFailed: []string{"a"}, wantCommits: 1,
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{sqsRecord(t, "a", `{"source":"aws.ecr"}`, false), sqsRecord(t, "b", push, false)}
			}},
		{name: "the same event twice commits once", token: token, wantCommits: 1,
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{sqsRecord(t, "a", push, true), sqsRecord(t, "b", push, true)}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			w.push(taskService, "1.0.0", "1.1.0", "1.1.1")
			h := w.handler(tt.token)
			out, err := h.Handle(context.Background(), mustJSON(t, events.SQSEvent{Records: tt.records(t)}))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			resp, ok := out.(events.SQSEventResponse)
			if !ok {
				t.Fatalf("answer %T, want events.SQSEventResponse", out)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if diff := cmp.Diff(tt.wantFailed, failed); diff != "" {
				t.Errorf("batchItemFailures (-want +got):\n%s", diff)
			}
			if got := len(w.history()) - 1; got != tt.wantCommits {
				t.Errorf("%d commits, want %d", got, tt.wantCommits)
			}
			if tt.wantCommits > 0 && !strings.Contains(w.file(overlay), "newTag: 1.1.1 "+tagMarker) {
				t.Errorf("%s does not hold 1.1.1", overlay)
			}
		})
	}
}

// TestThroughTheImageQueue sends the EventBridge event to the FIFO image
// queue as EventBridge does (content-based deduplication, the group of the
// config branch) and hands what Lambda would receive to the handler: an
// event delivered twice is one message.
func TestThroughTheImageQueue(t *testing.T) {
	const queueName = "sluice-image.fifo"
	srv := awstest.NewSQSServer(awstest.SQSQueue{Name: queueName, ContentBasedDeduplication: true})
	defer srv.Close()
	client := sqs.New(sqs.Options{Region: awstest.SQSRegion, BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEVENTBRIDGE", "secret", ""), RetryMaxAttempts: 1})
	body := mustJSON(t, json.RawMessage(readEvent(t, "ecr-push.json")))
	for range 2 {
		if _, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(srv.QueueURL(queueName)),
			MessageBody: aws.String(string(body)), MessageGroupId: aws.String(queue.GroupID("github.com/mamezou-tech/task-tool-cluster-config", "main"))}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := srv.Take(queueName)
	if len(msgs) != 1 {
		t.Fatalf("%d messages on the queue, want 1 (content-based deduplication)", len(msgs))
	}
	w := newWorld(t, nil)
	w.push(taskService, "1.0.0", "1.1.0", "1.1.1")
	out, err := w.handler(token).Handle(context.Background(), mustJSON(t, awstest.SQSEvent(msgs...)))
	if err != nil {
		t.Fatal(err)
	}
	if resp := out.(events.SQSEventResponse); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	if !strings.Contains(w.file(overlay), "newTag: 1.1.1 "+tagMarker) {
		t.Errorf("%s does not hold 1.1.1", overlay)
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
