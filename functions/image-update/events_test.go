package main

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/imageupdate"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/registry"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// update rewrites the derived values in events/ (digests, MD5, group and
// deduplication ids) after their bodies were edited by hand:
//
//	go test ./functions/image-update -run TestEventFiles -update
var update = flag.Bool("update", false, "rewrite derived values in events/")

// derived is one value in an event file computed from another part of it.
type derived struct {
	what      string
	got, want string
}

// checkDerived compares each value with what it must be; with -update it
// replaces the wrong ones in the file text, keeping its layout.
func checkDerived(t *testing.T, file string, values []derived) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(eventsDir, file))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, v := range values {
		if v.got == v.want {
			continue
		}
		if !*update {
			t.Errorf("%s: %s is %q, want %q (run with -update to rewrite)", file, v.what, v.got, v.want)
			continue
		}
		if v.got == "" || !strings.Contains(text, v.got) {
			t.Fatalf("%s: %s is missing; add it before -update", file, v.what)
		}
		text = strings.ReplaceAll(text, v.got, v.want)
	}
	if *update && text != string(raw) {
		if err := os.WriteFile(filepath.Join(eventsDir, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readJSON(t *testing.T, name string, v any) []byte {
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

// TestEventFiles keeps the sample events true to the fixture and to what
// AWS delivers: the ECR events name the fixture's ImageRepository and the
// digest the ECR stand-in gives the tag; the SQS events carry exactly the
// body EventBridge (or the drift function) sends, with the MD5, content-based
// deduplication id and message group that SQS and the contracts give it.
func TestEventFiles(t *testing.T) {
	cfg, err := fluxconfig.Read(os.DirFS(filepath.Join("..", "..", "examples", "task-tool-cluster-config")), "clusters/prod")
	if err != nil {
		t.Fatal(err)
	}
	img, err := registry.ParseECRRepository(cfg.ImageRepositories[0].Image)
	if err != nil {
		t.Fatal(err)
	}
	id, err := repoid.Parse(cfg.GitRepositories[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	group := queue.GroupID(id, "main")

	ecr := awstest.NewECRServer()
	defer ecr.Close()
	for _, name := range []string{"ecr-push.json", "ecr-delete.json"} {
		var ev map[string]any
		raw := readJSON(t, name, &ev)
		req, err := imageupdate.DecodeMessage(raw)
		if err != nil || req.Image == nil {
			t.Fatalf("%s: %v", name, err)
		}
		a := req.Image
		if a.Account != img.AccountID || a.Region != img.Region || a.Repository != img.Name || a.Tag != "1.1.1" || a.Result != imageupdate.ResultSuccess {
			t.Errorf("%s is %s (%s), not the 1.1.1 of the fixture's %s", name, a, a.Result, img)
		}
		checkDerived(t, name, []derived{{"detail.image-digest", a.Digest, ecr.PushTag(img.AccountID, img.Name, a.Tag)}})
	}

	var push bytes.Buffer
	if err := json.Compact(&push, readJSON(t, "ecr-push.json", new(any))); err != nil {
		t.Fatal(err)
	}
	wantReevaluate, _ := json.Marshal(queue.Reevaluate{Reason: queue.ReasonDrift, Policies: []string{cfg.ImagePolicies[0].Ref.String()}})
	for name, body := range map[string]string{"sqs-ecr-push.json": push.String(), "sqs-image-reevaluate.json": string(wantReevaluate)} {
		var ev events.SQSEvent
		readJSON(t, name, &ev)
		if len(ev.Records) != 1 {
			t.Fatalf("%s has %d records, want 1", name, len(ev.Records))
		}
		rec := ev.Records[0]
		if rec.Body != body {
			// The body is JSON inside a JSON string: fix it by hand.
			t.Errorf("%s body is\n%s\nwant\n%s", name, rec.Body, body)
		}
		if _, err := imageupdate.DecodeMessage([]byte(rec.Body)); err != nil {
			t.Errorf("%s body: %v", name, err)
		}
		sum, dedup := md5.Sum([]byte(body)), sha256.Sum256([]byte(body))
		checkDerived(t, name, []derived{
			{"md5OfBody", rec.Md5OfBody, hex.EncodeToString(sum[:])},
			{"MessageDeduplicationId (content-based)", rec.Attributes["MessageDeduplicationId"], hex.EncodeToString(dedup[:])},
			{"MessageGroupId", rec.Attributes["MessageGroupId"], group},
		})
		for _, a := range []string{"SequenceNumber", "SentTimestamp", "ApproximateReceiveCount", "SenderId", "ApproximateFirstReceiveTimestamp"} {
			if rec.Attributes[a] == "" {
				t.Errorf("%s lacks attribute %s, which SQS sets on FIFO messages", name, a)
			}
		}
		if rec.EventSource != "aws:sqs" || !strings.HasSuffix(rec.EventSourceARN, ".fifo") || rec.MessageId == "" {
			t.Errorf("%s is not from a FIFO queue: %s %s", name, rec.EventSource, rec.EventSourceARN)
		}
	}
}
