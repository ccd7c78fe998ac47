package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/queue"
)

func TestRetryDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 10 * time.Second, 1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 6: 5 * time.Minute, 40: 5 * time.Minute} {
		if got := RetryDelay(n); got != want {
			t.Errorf("RetryDelay(%d) = %s, want %s", n, got, want)
		}
	}
}

// TestFailedMessageComesBackEarly: a failed reconcile is reported as a batch
// item failure and its message made visible again after RetryDelay, not the
// queue's long visibility timeout, through the real SQS client.
func TestFailedMessageComesBackEarly(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	srv := awstest.NewSQSServer(awstest.SQSQueue{Name: "reconcile.fifo", VisibilityTimeout: 30 * time.Minute})
	defer srv.Close()
	srv.SetClock(func() time.Time { return now })
	client := sqs.New(sqs.Options{Region: awstest.SQSRegion, BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	sender := queue.NewSender(client, srv.QueueURL("reconcile.fifo"))

	// A message for a repository this function does not serve fails at once.
	msg := queue.Reconcile{Repository: "github.com/someone/else", Branch: "main", Reason: queue.ReasonManual}
	if _, err := sender.Send(ctx, msg, queue.GroupID(msg.Repository, "main"), "m1"); err != nil {
		t.Fatal(err)
	}
	receive := func() []awstest.SQSMessage { return receiveStored(t, client, srv, "reconcile.fifo") }
	received := receive()
	if len(received) != 1 {
		t.Fatalf("received %d messages", len(received))
	}

	h := NewHandler(New(desired.Repository{URL: "https://github.com/o/r", Branch: "main", ConfigPath: "c"}, nil, nil, nil))
	h.Retry = sender
	ev, _ := json.Marshal(awstest.SQSEvent(received...))
	resp, err := h.Handle(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != received[0].MessageID {
		t.Fatalf("response = %+v, %v", resp, err)
	}
	now = now.Add(9 * time.Second)
	if got := receive(); len(got) != 0 {
		t.Fatalf("the message came back after 9 s: %+v", got)
	}
	now = now.Add(2 * time.Second)
	if got := receive(); len(got) != 1 {
		t.Fatal("the failed message did not come back after the retry delay")
	}
}

func TestHandleRejectsOtherEvents(t *testing.T) {
	h := NewHandler(New(desired.Repository{}, nil, nil, nil))
	for name, ev := range map[string]string{
		"schedule":     `{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events"}`,
		"no records":   `{"Records":[]}`,
		"other source": `{"Records":[{"messageId":"1","eventSource":"aws:sns"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			var inv *InvalidEventError
			if _, err := h.Handle(context.Background(), json.RawMessage(ev)); !errors.As(err, &inv) {
				t.Errorf("error = %v, want *InvalidEventError", err)
			}
		})
	}
}

// receiveStored receives from queue through the real client and returns the
// stand-in's copies of the messages received, with their receipt handles.
func receiveStored(t *testing.T, client *sqs.Client, srv *awstest.SQSServer, queue string) []awstest.SQSMessage {
	t.Helper()
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(srv.QueueURL(queue))})
	if err != nil {
		t.Fatal(err)
	}
	var got []awstest.SQSMessage
	for _, m := range out.Messages {
		for _, stored := range srv.Messages(queue) {
			if stored.MessageID == aws.ToString(m.MessageId) {
				got = append(got, stored)
			}
		}
	}
	return got
}
