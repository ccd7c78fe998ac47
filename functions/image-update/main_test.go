package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/bintest"
	"github.com/sluice-gitops/sluice/internal/gittest"
)

// binary is the image-update function built for the host by TestMain.
var binary string

func TestMain(m *testing.M) { bintest.Main(m, "image-update", &binary) }

const (
	repoName = "task-tool-cluster-config.git"
	token    = "t0ken"
	overlay  = "app/overlays/prod/kustomization.yaml"
)

var eventsDir = filepath.Join("..", "..", "events")

// serve starts the Git server with the fixture (its GitRepository pointing
// there) and the ECR stand-in holding the tutorial's tags up to 1.1.1.
func serve(t *testing.T) (*gittest.Server, *awstest.ECRServer, string) {
	t.Helper()
	srv, err := gittest.Start("x-access-token", token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	url := srv.URL(repoName)
	if _, err := srv.Seed(repoName, "main", filepath.Join("..", "..", "examples", "task-tool-cluster-config"), func(dir string) error {
		return gittest.SetGitRepositoryURL(dir, "clusters/prod", url)
	}); err != nil {
		t.Fatal(err)
	}
	ecr := awstest.NewECRServer()
	t.Cleanup(ecr.Close)
	for _, tag := range []string{"1.0.0", "1.1.0", "1.1.1"} {
		ecr.PushTag(awstest.ECRAccountID, "mamezou-tech/task-service", tag)
	}
	return srv, ecr, url
}

// env is a clean environment for the binary: nothing inherited from the
// machine's AWS setup, static credentials, ECR at the stand-in.
func env(t *testing.T, gitURL, ecrURL string, overrides map[string]string) []string {
	return bintest.Env(t, map[string]string{
		"TMPDIR":               t.TempDir(),
		"AWS_REGION":           "ap-northeast-1",
		"AWS_ACCESS_KEY_ID":    "AKIDIMAGEUPDATEBINARY",
		"AWS_ENDPOINT_URL_ECR": ecrURL,
		"SLUICE_GIT_URL":       gitURL,
		"SLUICE_GIT_TOKEN":     token,
		"SLUICE_CONFIG_PATH":   "clusters/prod",
	}, overrides)
}

func TestBinary(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed.json")
	if err := os.WriteFile(malformed, []byte(`{"source":"aws.ecr","detail-type":`), 0o600); err != nil {
		t.Fatal(err)
	}
	event := func(name string) string { return filepath.Join(eventsDir, name) }
	tests := []struct {
		name       string
		args       []string
		stdin      string
		env        map[string]string
		wantCode   int
		wantOut    string   // stdout, with COMMIT standing for the new head
		wantCommit bool     // whether main moved
		wantStderr []string // substrings of the logs
	}{
		{name: "events/ecr-push.json", args: []string{event("ecr-push.json")}, wantCode: 0, wantCommit: true,
			wantOut: `{"policies":{"flux-system/task-service":"1.1.1"},"files":["app/overlays/prod/kustomization.yaml"],"commit":"COMMIT"}`},
		{name: "on stdin", stdin: "ecr-push.json", wantCode: 0, wantCommit: true,
			wantOut: `{"policies":{"flux-system/task-service":"1.1.1"},"files":["app/overlays/prod/kustomization.yaml"],"commit":"COMMIT"}`},
		{name: "events/ecr-delete.json while 1.1.1 is still there", args: []string{event("ecr-delete.json")}, wantCode: 0, wantCommit: true,
			wantOut: `{"policies":{"flux-system/task-service":"1.1.1"},"files":["app/overlays/prod/kustomization.yaml"],"commit":"COMMIT"}`},
		{name: "events/sqs-ecr-push.json", args: []string{event("sqs-ecr-push.json")}, wantCode: 0, wantCommit: true,
			wantOut: `{"batchItemFailures":[]}`},
		{name: "events/sqs-image-reevaluate.json", args: []string{event("sqs-image-reevaluate.json")}, wantCode: 0, wantCommit: true,
			wantOut: `{"batchItemFailures":[]}`},
		{name: "SQS message the Git server refuses is reported", args: []string{event("sqs-ecr-push.json")}, env: map[string]string{"SLUICE_GIT_TOKEN": "wrong"},
			wantCode: 0, wantOut: `{"batchItemFailures":[{"itemIdentifier":"7c1e9f3a-52b8-4d0e-a6c4-3f9d8b2e1a75"}]}`, wantStderr: []string{"image queue message failed; reported for retry"}},
		{name: "direct event the Git server refuses fails", args: []string{event("ecr-push.json")}, env: map[string]string{"SLUICE_GIT_TOKEN": "wrong"},
			wantCode: 1, wantStderr: []string{"handler failed", "cloning branch main"}},
		{name: "other config branch", args: []string{event("ecr-push.json")}, env: map[string]string{"SLUICE_GIT_BRANCH": "staging"},
			wantCode: 1, wantStderr: []string{"branch staging"}},
		{name: "malformed event file", args: []string{malformed}, wantCode: 1, wantStderr: []string{"handler failed", "unexpected EOF"}},
		{name: "event of another function", args: []string{event("github-push.json")}, wantCode: 1, wantStderr: []string{"invalid image-update event", "neither an SQS event"}},
		{name: "missing event file", args: []string{filepath.Join(dir, "nope.json")}, wantCode: 2},
		{name: "no configuration", args: []string{event("ecr-push.json")}, env: map[string]string{"SLUICE_GIT_URL": "", "SLUICE_CONFIG_PATH": "", "SLUICE_GIT_TOKEN": ""},
			wantCode: 2, wantStderr: []string{"SLUICE_GIT_URL is required", "SLUICE_CONFIG_PATH is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			git, ecr, url := serve(t)
			before, _ := git.Head(repoName, "main")
			cmd := exec.Command(binary, tt.args...)
			cmd.Env = env(t, url, ecr.URL(), tt.env)
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
			if strings.Contains(stderr.String(), token) {
				t.Errorf("the Git token is in the logs:\n%s", stderr.String())
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if line != "" && !json.Valid([]byte(line)) {
					t.Errorf("log line is not JSON (AWS_LAMBDA_LOG_FORMAT=JSON): %s", line)
				}
			}
			after, _ := git.Head(repoName, "main")
			if moved := after != before; moved != tt.wantCommit {
				t.Errorf("main moved: %v, want %v", moved, tt.wantCommit)
			}
			if tt.wantCode != 0 {
				if stdout.Len() != 0 {
					t.Errorf("stdout on failure: %q", stdout.String())
				}
				return
			}
			want := strings.ReplaceAll(tt.wantOut, "COMMIT", after) + "\n"
			if diff := cmp.Diff(want, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
}
