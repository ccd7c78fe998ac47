package main

import (
	"strings"
	"testing"

	"github.com/sluice-gitops/sluice/internal/bintest"
)

// binary is the reconcile function built for the host by TestMain. Its handler
// runs end to end in the demo's test (examples/demo), against a real API
// server and Git server; here, its start-up.
var binary string

func TestMain(m *testing.M) { bintest.Main(m, "reconcile", &binary) }

// TestGitTokenForAnotherHostTurnsStatusesOff: with a GitLab remote and its
// token, the function says at start-up that it sends no commit statuses, and
// why, without showing the token.
func TestGitTokenForAnotherHostTurnsStatusesOff(t *testing.T) {
	env := map[string]string{"SLUICE_GIT_URL": "https://gitlab.com/group/app.git", "SLUICE_CONFIG_PATH": "clusters/prod",
		"SLUICE_GIT_TOKEN": "glpat-s3cret", "AWS_REGION": "us-east-1", "KUBECONFIG": "/nonexistent"}
	_, stderr := bintest.Run(t, binary, bintest.Env(t, env, nil), "/dev/null")
	if !strings.Contains(stderr, "commit statuses are off: the Git token is for gitlab.com, and the GitHub API is api.github.com") {
		t.Errorf("stderr does not say why statuses are off:\n%s", stderr)
	}
	if strings.Contains(stderr, "glpat-s3cret") {
		t.Errorf("stderr shows the token:\n%s", stderr)
	}
}

// TestConfigurationErrors: a missing or malformed setting, or an unreachable cluster, stops the function at start-up with exit
// code 2 and every problem named at once.
func TestConfigurationErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "nothing set", want: []string{"SLUICE_GIT_URL is required", "SLUICE_CONFIG_PATH is required"}},
		{name: "no cluster", env: map[string]string{"SLUICE_GIT_URL": "https://github.com/o/r", "SLUICE_CONFIG_PATH": "clusters/prod",
			"AWS_REGION": "us-east-1", "KUBECONFIG": "/nonexistent"}, want: []string{"KUBECONFIG"}},
		{name: "ssh key without known_hosts", env: map[string]string{"SLUICE_GIT_URL": "ssh://git@github.com/o/r", "SLUICE_CONFIG_PATH": "c",
			"SLUICE_GIT_SSH_KEY": "key"}, want: []string{"SLUICE_GIT_KNOWN_HOSTS is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := bintest.Run(t, binary, bintest.Env(t, tt.env, nil), "/dev/null")
			if code != 2 {
				t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr)
				}
			}
		})
	}
}
