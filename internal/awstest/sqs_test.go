package awstest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const sqsTestKey = "AKIDSQSTEST"

// sqsTestClient is the real SDK client pointed at the stand-in, with retries
// off so an error answer is seen once.
func sqsTestClient(t *testing.T, srv *SQSServer) *sqs.Client {
	t.Helper()
	return sqs.New(sqs.Options{
		Region:           SQSRegion,
		BaseEndpoint:     aws.String(srv.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(sqsTestKey, "secret", ""),
		RetryMaxAttempts: 1,
	})
}

// sqsClock is a settable clock for the stand-in.
type sqsClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *sqsClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *sqsClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSQSTest(t *testing.T, queues ...SQSQueue) (*SQSServer, *sqs.Client, *sqsClock) {
	t.Helper()
	srv := NewSQSServer(queues...)
	t.Cleanup(srv.Close)
	clock := &sqsClock{t: time.Date(2026, 3, 12, 10, 15, 30, 0, time.UTC)}
	srv.SetClock(clock.now)
	return srv, sqsTestClient(t, srv), clock
}

func send(t *testing.T, c *sqs.Client, queueURL, body, group, dedup string) *sqs.SendMessageOutput {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)}
	if group != "" {
		in.MessageGroupId = aws.String(group)
	}
	if dedup != "" {
		in.MessageDeduplicationId = aws.String(dedup)
	}
	out, err := c.SendMessage(context.Background(), in)
	if err != nil {
		t.Fatalf("SendMessage(%q): %v", body, err)
	}
	return out
}

func bodies(msgs []SQSMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Body)
	}
	return out
}

func TestSQSSendFIFO(t *testing.T) {
	srv, c, clock := newSQSTest(t, SQSQueue{Name: "reconcile.fifo"})
	url := srv.QueueURL("reconcile.fifo")

	first := send(t, c, url, `{"n":1}`, "github.com/o/r@main", "push-1")
	// The SDK itself checks MD5OfMessageBody against the body it sent.
	if sum := md5.Sum([]byte(`{"n":1}`)); aws.ToString(first.MD5OfMessageBody) != hex.EncodeToString(sum[:]) || first.SequenceNumber == nil {
		t.Fatalf("SendMessage output = %+v", first)
	}
	dup := send(t, c, url, `{"n":1, "again":true}`, "github.com/o/r@main", "push-1")
	if aws.ToString(dup.MessageId) != aws.ToString(first.MessageId) || aws.ToString(dup.SequenceNumber) != aws.ToString(first.SequenceNumber) {
		t.Errorf("duplicate answered %s/%s, want the first message's %s/%s", aws.ToString(dup.MessageId), aws.ToString(dup.SequenceNumber), aws.ToString(first.MessageId), aws.ToString(first.SequenceNumber))
	}
	send(t, c, url, `{"n":2}`, "github.com/o/r@dev", "push-2")
	clock.add(sqsDedupWindow)
	send(t, c, url, `{"n":3}`, "github.com/o/r@main", "push-1") // window over: a new message

	want := []SQSMessage{
		{Queue: "reconcile.fifo", Body: `{"n":1}`, GroupID: "github.com/o/r@main", DeduplicationID: "push-1", SequenceNumber: "10000000000000000001", SenderID: sqsTestKey},
		{Queue: "reconcile.fifo", Body: `{"n":2}`, GroupID: "github.com/o/r@dev", DeduplicationID: "push-2", SequenceNumber: "10000000000000000002", SenderID: sqsTestKey},
		{Queue: "reconcile.fifo", Body: `{"n":3}`, GroupID: "github.com/o/r@main", DeduplicationID: "push-1", SequenceNumber: "10000000000000000003", SenderID: sqsTestKey},
	}
	got := srv.Messages("reconcile.fifo")
	ignore := cmpopts.IgnoreFields(SQSMessage{}, "MessageID", "MD5OfBody", "SentAt", "ReceiptHandle")
	if diff := cmp.Diff(want, got, ignore); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if got[0].MessageID != aws.ToString(first.MessageId) || got[0].MD5OfBody != aws.ToString(first.MD5OfMessageBody) {
		t.Errorf("stored %+v, SendMessage said %+v", got[0], first)
	}
}

func TestSQSContentBasedDeduplication(t *testing.T) {
	srv, c, _ := newSQSTest(t, SQSQueue{Name: "image.fifo", ContentBasedDeduplication: true})
	url := srv.QueueURL("image.fifo")
	send(t, c, url, `{"detail":{"image-tag":"1.1.1"}}`, "g", "")
	send(t, c, url, `{"detail":{"image-tag":"1.1.1"}}`, "g", "")
	send(t, c, url, `{"detail":{"image-tag":"1.1.2"}}`, "g", "")
	send(t, c, url, `{"detail":{"image-tag":"1.1.2"}}`, "g", "explicit") // an explicit id wins
	want := []string{`{"detail":{"image-tag":"1.1.1"}}`, `{"detail":{"image-tag":"1.1.2"}}`, `{"detail":{"image-tag":"1.1.2"}}`}
	if diff := cmp.Diff(want, bodies(srv.Messages("image.fifo"))); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
}

func TestSQSSendErrors(t *testing.T) {
	srv, c, _ := newSQSTest(t, SQSQueue{Name: "reconcile.fifo"}, SQSQueue{Name: "standard"})
	fifo, standard := srv.QueueURL("reconcile.fifo"), srv.QueueURL("standard")
	tests := []struct {
		name     string
		in       sqs.SendMessageInput
		wantCode string
	}{
		{name: "no group on FIFO", in: sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")}, wantCode: "MissingParameter"},
		{name: "no dedup on FIFO without content-based", in: sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("x"), MessageGroupId: aws.String("g")}, wantCode: "InvalidParameterValue"},
		{name: "group id with a space", in: sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("x"), MessageGroupId: aws.String("a b"), MessageDeduplicationId: aws.String("d")}, wantCode: "InvalidParameterValue"},
		{name: "dedup id too long", in: sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String(strings.Repeat("d", 129))}, wantCode: "InvalidParameterValue"},
		{name: "delay on FIFO", in: sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d"), DelaySeconds: 5}, wantCode: "InvalidParameterValue"},
		{name: "empty body", in: sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String(""), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d")}, wantCode: "MissingParameter"},
		{name: "body too large", in: sqs.SendMessageInput{QueueUrl: &standard, MessageBody: aws.String(strings.Repeat("x", sqsMaxBody+1))}, wantCode: "InvalidParameterValue"},
		{name: "dedup id on standard queue", in: sqs.SendMessageInput{QueueUrl: &standard, MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")}, wantCode: "InvalidParameterValue"},
		{name: "attributes unsupported", in: sqs.SendMessageInput{QueueUrl: &standard, MessageBody: aws.String("x"), MessageAttributes: map[string]sqstypes.MessageAttributeValue{"a": {DataType: aws.String("String"), StringValue: aws.String("v")}}}, wantCode: "AWS.SimpleQueueService.UnsupportedOperation"},
		{name: "no such queue", in: sqs.SendMessageInput{QueueUrl: aws.String(srv.QueueURL("nope.fifo")), MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d")}, wantCode: "AWS.SimpleQueueService.NonExistentQueue"},
		{name: "other account", in: sqs.SendMessageInput{QueueUrl: aws.String(srv.URL() + "/123456789012/reconcile.fifo"), MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d")}, wantCode: "AWS.SimpleQueueService.NonExistentQueue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SendMessage(context.Background(), &tt.in)
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
				t.Fatalf("SendMessage error = %v, want code %s", err, tt.wantCode)
			}
		})
	}
	if n := len(srv.Messages("reconcile.fifo")) + len(srv.Messages("standard")); n != 0 {
		t.Errorf("%d messages stored by failed sends", n)
	}
	// The modelled error type comes through for callers that use errors.As.
	_, err := c.SendMessage(context.Background(), &tests[len(tests)-2].in)
	var notExist *sqstypes.QueueDoesNotExist
	if !errors.As(err, &notExist) {
		t.Errorf("error %T is not *types.QueueDoesNotExist", err)
	}
}

func TestSQSReceiveFIFOOrder(t *testing.T) {
	srv, c, clock := newSQSTest(t, SQSQueue{Name: "q.fifo", VisibilityTimeout: 10 * time.Second})
	url := srv.QueueURL("q.fifo")
	send(t, c, url, "a1", "a", "1")
	send(t, c, url, "a2", "a", "2")
	send(t, c, url, "b1", "b", "3")

	receive := func(max int32) []sqstypes.Message {
		t.Helper()
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: max,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		return out.Messages
	}
	names := func(ms []sqstypes.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, aws.ToString(m.Body))
		}
		return out
	}
	steps := []struct {
		name   string
		before func()
		max    int32
		want   []string
	}{
		{name: "head of group a", max: 1, want: []string{"a1"}},
		{name: "group a waits for a1, b goes on", max: 10, want: []string{"b1"}},
		{name: "everything in flight", max: 10, want: nil},
		{name: "a1 visible again after its timeout", before: func() { clock.add(11 * time.Second) }, max: 10, want: []string{"a1", "a2", "b1"}},
	}
	var last []sqstypes.Message
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		last = receive(st.max)
		if diff := cmp.Diff(st.want, names(last)); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", st.name, diff)
		}
	}
	if got := last[0].Attributes["ApproximateReceiveCount"]; got != "2" {
		t.Errorf("a1 ApproximateReceiveCount = %q, want 2", got)
	}
	if got := last[0].Attributes["MessageGroupId"]; got != "a" {
		t.Errorf("a1 MessageGroupId = %q", got)
	}
	// Deleting a1 with its latest receipt handle removes it for good.
	if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: last[0].ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if diff := cmp.Diff([]string{"a2", "b1"}, bodies(srv.Messages("q.fifo"))); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	_, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("bogus")})
	var invalid *sqstypes.ReceiptHandleIsInvalid
	if !errors.As(err, &invalid) {
		t.Errorf("DeleteMessage with a bogus handle: %v", err)
	}
}

func TestSQSLongPoll(t *testing.T) {
	srv, c, _ := newSQSTest(t, SQSQueue{Name: "q.fifo"})
	srv.SetClock(time.Now) // long polling waits in real time
	url := srv.QueueURL("q.fifo")
	// The message is sent once the receive waits on an empty queue, so only
	// a long poll that wakes for it can return it.
	waiting, done := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv.mu.Lock()
	srv.polling = func() { once.Do(func() { close(waiting) }) }
	srv.mu.Unlock()
	sent := make(chan error, 1)
	go func() {
		select {
		case <-waiting:
		case <-done:
			sent <- errors.New("the receive returned without waiting")
			return
		}
		_, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(url), MessageBody: aws.String("late"),
			MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d"),
		})
		sent <- err
	}()
	const wait = 20 // seconds, SQS's longest
	start := time.Now()
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: wait})
	close(done)
	if sendErr := <-sent; sendErr != nil {
		t.Fatalf("SendMessage during the long poll: %v", sendErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "late" {
		t.Fatalf("long poll got %d messages, want the one sent while it waited", len(out.Messages))
	}
	// Woken by the message, not by the end of the wait.
	if took := time.Since(start); took >= wait*time.Second {
		t.Errorf("long poll returned after %v, its whole wait", took)
	}
}

func TestSQSGetQueueURL(t *testing.T) {
	srv, c, _ := newSQSTest(t, SQSQueue{Name: "q.fifo"})
	out, err := c.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("q.fifo")})
	if err != nil || aws.ToString(out.QueueUrl) != srv.QueueURL("q.fifo") {
		t.Fatalf("GetQueueUrl = %v, %v", out, err)
	}
	if _, err := c.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("nope")}); !errors.As(err, new(*sqstypes.QueueDoesNotExist)) {
		t.Errorf("GetQueueUrl of a missing queue: %v", err)
	}
}

func TestSQSRefusesUnsigned(t *testing.T) {
	srv, _, _ := newSQSTest(t, SQSQueue{Name: "q.fifo"})
	req, _ := http.NewRequest(http.MethodPost, srv.URL(), strings.NewReader(`{"QueueName":"q.fifo"}`))
	req.Header.Set("X-Amz-Target", "AmazonSQS.GetQueueUrl")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned request: status %d, want 403", resp.StatusCode)
	}
}

func TestSQSEventAndTake(t *testing.T) {
	srv, c, _ := newSQSTest(t, SQSQueue{Name: "reconcile.fifo"})
	out := send(t, c, srv.QueueURL("reconcile.fifo"), `{"reason":"push"}`, "github.com/o/r@main", "push-d1")

	ev := SQSEvent(srv.Take("reconcile.fifo")...)
	if n := len(srv.Messages("reconcile.fifo")); n != 0 {
		t.Errorf("Take left %d messages", n)
	}
	want := events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: aws.ToString(out.MessageId),
		Body:      `{"reason":"push"}`,
		Md5OfBody: aws.ToString(out.MD5OfMessageBody),
		Attributes: map[string]string{
			"ApproximateReceiveCount":          "1",
			"SentTimestamp":                    "1773310530000",
			"ApproximateFirstReceiveTimestamp": "1773310530000",
			"SenderId":                         sqsTestKey,
			"MessageGroupId":                   "github.com/o/r@main",
			"MessageDeduplicationId":           "push-d1",
			"SequenceNumber":                   aws.ToString(out.SequenceNumber),
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSourceARN:    "arn:aws:sqs:us-east-1:111122223333:reconcile.fifo",
		EventSource:       "aws:sqs",
		AWSRegion:         "us-east-1",
	}}}
	if diff := cmp.Diff(want, ev, cmpopts.IgnoreFields(events.SQSMessage{}, "ReceiptHandle")); diff != "" {
		t.Errorf("SQSEvent (-want +got):\n%s", diff)
	}
	if ev.Records[0].ReceiptHandle == "" {
		t.Error("record has no receipt handle")
	}
	// The event is what Lambda hands a function: it round-trips through JSON.
	b, _ := json.Marshal(ev)
	var back events.SQSEvent
	if err := json.Unmarshal(b, &back); err != nil || !cmp.Equal(ev, back) {
		t.Errorf("SQSEvent does not round-trip through JSON: %v", err)
	}
}
