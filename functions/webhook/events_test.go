package main

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/github"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// update rewrites the derived values in events/ (signatures, MD5, group and
// deduplication ids) after their bodies were edited by hand:
//
//	go test ./functions/webhook -run TestEventFiles -update
var update = flag.Bool("update", false, "rewrite signatures and derived ids in events/")

// testSecret is the webhook secret the sample events are signed with, as
// events/README.md documents.
const testSecret = "sluice-test-secret"

var eventsDir = filepath.Join("..", "..", "events")

// derived is one value in an event file computed from another part of it.
type derived struct {
	what      string
	got, want string
}

// checkDerived compares each value with what it must be; with -update it
// replaces the wrong ones in the file text, keeping its layout.
func checkDerived(t *testing.T, file string, raw []byte, values []derived) {
	t.Helper()
	text := string(raw)
	for _, v := range values {
		if v.got == v.want {
			continue
		}
		if !*update {
			t.Errorf("%s: %s is %q, want %q (run with -update to rewrite)", file, v.what, v.got, v.want)
			continue
		}
		if v.got == "" || !strings.Contains(text, `"`+v.got+`"`) {
			t.Fatalf("%s: %s is missing; add it before -update", file, v.what)
		}
		text = strings.Replace(text, `"`+v.got+`"`, `"`+v.want+`"`, 1)
	}
	if *update && text != string(raw) {
		if err := os.WriteFile(filepath.Join(eventsDir, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mac(newHash func() hash.Hash, prefix, body string) string {
	m := hmac.New(newHash, []byte(testSecret))
	m.Write([]byte(body))
	return prefix + hex.EncodeToString(m.Sum(nil))
}

func readEvent(t *testing.T, name string, v any) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return raw
}

// TestEventFiles keeps the sample events true: the GitHub events carry valid
// signatures of their bodies for the documented secret, and the SQS event
// carries the message the webhook queues for the push sample.
func TestEventFiles(t *testing.T) {
	var push events.LambdaFunctionURLRequest
	for _, name := range []string{"github-push.json", "github-ping.json"} {
		var ev events.LambdaFunctionURLRequest
		raw := readEvent(t, name, &ev)
		if ev.Version != "2.0" || ev.IsBase64Encoded || ev.Headers["content-type"] != "application/json" {
			t.Errorf("%s is not a JSON delivery in a Function URL 2.0 event", name)
		}
		checkDerived(t, name, raw, []derived{
			{"x-hub-signature-256", ev.Headers["x-hub-signature-256"], mac(sha256.New, "sha256=", ev.Body)},
			{"x-hub-signature", ev.Headers["x-hub-signature"], mac(sha1.New, "sha1=", ev.Body)},
		})
		if name == "github-push.json" {
			push = ev
		}
	}

	p, err := github.ParsePush([]byte(push.Body))
	if err != nil {
		t.Fatalf("github-push.json body: %v", err)
	}
	repo, err := repoid.Parse(p.Repository.HTMLURL)
	if err != nil {
		t.Fatal(err)
	}
	var sqsEvent events.SQSEvent
	raw := readEvent(t, "sqs-reconcile.json", &sqsEvent)
	if len(sqsEvent.Records) != 1 {
		t.Fatalf("sqs-reconcile.json has %d records, want 1", len(sqsEvent.Records))
	}
	rec := sqsEvent.Records[0]
	msg, err := queue.DecodeReconcile([]byte(rec.Body))
	if err != nil {
		t.Fatalf("sqs-reconcile.json body: %v", err)
	}
	want := queue.Reconcile{Repository: repo, Branch: p.Branch, Revision: p.After, Reason: queue.ReasonPush, Kustomizations: []string{}}
	wantBody, _ := json.Marshal(want)
	if rec.Body != string(wantBody) {
		// The body is JSON inside a JSON string: fix it by hand.
		t.Errorf("sqs-reconcile.json body is\n%s\nwant the message the webhook queues for github-push.json:\n%s", rec.Body, wantBody)
	}
	sum := md5.Sum(wantBody)
	checkDerived(t, "sqs-reconcile.json", raw, []derived{
		{"md5OfBody", rec.Md5OfBody, hex.EncodeToString(sum[:])},
		{"MessageGroupId", rec.Attributes["MessageGroupId"], queue.GroupID(repo, p.Branch)},
		{"MessageDeduplicationId", rec.Attributes["MessageDeduplicationId"], queue.PushDedupID(push.Headers["x-github-delivery"])},
	})
	if msg.Revision != p.After {
		t.Errorf("sqs-reconcile.json revision %s, push after %s", msg.Revision, p.After)
	}
	for _, a := range []string{"SequenceNumber", "SentTimestamp", "ApproximateReceiveCount", "SenderId", "ApproximateFirstReceiveTimestamp"} {
		if rec.Attributes[a] == "" {
			t.Errorf("sqs-reconcile.json lacks attribute %s, which SQS sets on FIFO messages", a)
		}
	}
	if rec.EventSource != "aws:sqs" || !strings.HasSuffix(rec.EventSourceARN, ".fifo") {
		t.Errorf("sqs-reconcile.json is not from a FIFO queue: %s %s", rec.EventSource, rec.EventSourceARN)
	}
}
