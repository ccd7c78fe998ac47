package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/bintest"
	"github.com/sluice-gitops/sluice/internal/webhook"
)

// binary is the webhook function built for the host by TestMain.
var binary string

func TestMain(m *testing.M) { bintest.Main(m, "webhook", &binary) }

const queueName = "sluice-reconcile.fifo"

// env is a clean environment for the binary: nothing inherited from the
// machine's AWS setup, static credentials, SQS at the stand-in. The queue
// URL has the real SQS form, as in Lambda; AWS_ENDPOINT_URL_SQS sends the
// calls to the stand-in.
func env(t *testing.T, srv *awstest.SQSServer, overrides map[string]string) []string {
	return bintest.Env(t, map[string]string{
		"AWS_REGION":                 awstest.SQSRegion,
		"AWS_ACCESS_KEY_ID":          "AKIDWEBHOOKBINARY",
		"AWS_ENDPOINT_URL_SQS":       srv.URL(),
		"SLUICE_GIT_URL":             "git@github.com:mamezou-tech/task-tool-cluster-config.git",
		"SLUICE_WEBHOOK_SECRET":      testSecret,
		"SLUICE_RECONCILE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/" + awstest.SQSAccountID + "/" + queueName,
	}, overrides)
}

func TestBinary(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed.json")
	if err := os.WriteFile(malformed, []byte(`{"version":"2.0","headers":`), 0o600); err != nil {
		t.Fatal(err)
	}
	event := func(name string) string { return filepath.Join(eventsDir, name) }
	tests := []struct {
		name       string
		args       []string
		stdin      string
		env        map[string]string
		queue      bool // whether the queue exists
		wantCode   int
		wantStatus int      // Function URL status code in stdout, when exit 0
		wantBody   string   // Response.Status, when exit 0
		wantQueued int      // messages on the queue afterwards
		wantStderr []string // substrings of the logs
	}{
		{name: "push", args: []string{event("github-push.json")}, queue: true, wantCode: 0, wantStatus: http.StatusAccepted, wantBody: webhook.StatusQueued, wantQueued: 1},
		{name: "push on stdin", stdin: "github-push.json", queue: true, wantCode: 0, wantStatus: http.StatusAccepted, wantBody: webhook.StatusQueued, wantQueued: 1},
		{name: "ping", args: []string{event("github-ping.json")}, queue: true, wantCode: 0, wantStatus: http.StatusOK, wantBody: webhook.StatusIgnored},
		{name: "wrong secret", args: []string{event("github-push.json")}, env: map[string]string{"SLUICE_WEBHOOK_SECRET": "other"}, queue: true, wantCode: 0, wantStatus: http.StatusUnauthorized, wantBody: webhook.StatusRejected},
		{name: "other branch configured", args: []string{event("github-push.json")}, env: map[string]string{"SLUICE_GIT_BRANCH": "staging"}, queue: true, wantCode: 0, wantStatus: http.StatusOK, wantBody: webhook.StatusIgnored},
		{name: "malformed event file", args: []string{malformed}, queue: true, wantCode: 1, wantStderr: []string{"handler failed"}},
		{name: "event of another function", args: []string{event("sqs-reconcile.json")}, queue: true, wantCode: 1, wantStderr: []string{"not a Lambda Function URL request", "version is"}},
		{name: "missing event file", args: []string{filepath.Join(dir, "nope.json")}, queue: true, wantCode: 2},
		{name: "queue missing", args: []string{event("github-push.json")}, queue: false, wantCode: 1, wantStderr: []string{"queueing reconcile for delivery 5e0c6a4e-1e2b-11f1-9a7c-3f4b8d2e6a10", "NonExistentQueue"}},
		{
			name: "no configuration", args: []string{event("github-push.json")}, queue: true, wantCode: 2,
			env:        map[string]string{"SLUICE_GIT_URL": "", "SLUICE_WEBHOOK_SECRET": "", "SLUICE_RECONCILE_QUEUE_URL": ""},
			wantStderr: []string{"SLUICE_GIT_URL is required", "SLUICE_WEBHOOK_SECRET or SLUICE_WEBHOOK_SECRET_ID is required", "SLUICE_RECONCILE_QUEUE_URL is required"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := awstest.NewSQSServer()
			defer srv.Close()
			if tt.queue {
				srv.AddQueue(awstest.SQSQueue{Name: queueName})
			}
			cmd := exec.Command(binary, tt.args...)
			cmd.Env = env(t, srv, tt.env)
			if tt.stdin != "" {
				f, err := os.Open(event(tt.stdin))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cmd.Stdin = f
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr does not say %q:\n%s", s, stderr.String())
				}
			}
			if strings.Contains(stderr.String(), testSecret) {
				t.Errorf("the webhook secret is in the logs:\n%s", stderr.String())
			}
			if got := len(srv.Messages(queueName)); got != tt.wantQueued {
				t.Errorf("%d messages queued, want %d", got, tt.wantQueued)
			}
			if tt.wantCode != 0 {
				if stdout.Len() != 0 {
					t.Errorf("stdout on failure: %q", stdout.String())
				}
				return
			}
			var resp events.LambdaFunctionURLResponse
			if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
				t.Fatalf("stdout %q is not a Function URL response: %v", stdout.String(), err)
			}
			var body webhook.Response
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("response body %q: %v", resp.Body, err)
			}
			if resp.StatusCode != tt.wantStatus || body.Status != tt.wantBody {
				t.Errorf("response %d %+v, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantQueued == 1 {
				m := srv.Messages(queueName)[0]
				want := awstest.SQSMessage{GroupID: "github.com/mamezou-tech/task-tool-cluster-config@main", DeduplicationID: "push-5e0c6a4e-1e2b-11f1-9a7c-3f4b8d2e6a10", SenderID: "AKIDWEBHOOKBINARY"}
				got := awstest.SQSMessage{GroupID: m.GroupID, DeduplicationID: m.DeduplicationID, SenderID: m.SenderID}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("queued message (-want +got):\n%s", diff)
				}
				if body.Revision == "" || !strings.Contains(m.Body, body.Revision) {
					t.Errorf("message %s does not carry the revision %q", m.Body, body.Revision)
				}
			}
		})
	}
}
