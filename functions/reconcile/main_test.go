package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/sluice-gitops/sluice/internal/bintest"
)

// binary is the reconcile function built for the host by TestMain. Its handler
// runs end to end in the demo's test (examples/demo), against a real API
// server and Git server; here, its start-up.
var binary string

func TestMain(m *testing.M) { bintest.Main(m, "reconcile", &binary) }

// TestConfigurationErrors: a missing or malformed setting stops the function
// at start-up with exit code 2 and every problem named at once.
func TestConfigurationErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{name: "nothing set", env: []string{"HOME=" + t.TempDir()}, want: []string{"SLUICE_GIT_URL is required", "SLUICE_CONFIG_PATH is required"}},
		{name: "no cluster", env: []string{"HOME=" + t.TempDir(), "SLUICE_GIT_URL=https://github.com/o/r", "SLUICE_CONFIG_PATH=clusters/prod",
			"SLUICE_RECONCILE_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/111122223333/r.fifo", "AWS_REGION=us-east-1", "KUBECONFIG=/nonexistent"},
			want: []string{"KUBECONFIG"}},
		{name: "ssh key without known_hosts", env: []string{"HOME=" + t.TempDir(), "SLUICE_GIT_URL=ssh://git@github.com/o/r", "SLUICE_CONFIG_PATH=c",
			"SLUICE_GIT_SSH_KEY=key"}, want: []string{"SLUICE_GIT_KNOWN_HOSTS is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, "/dev/null")
			cmd.Env = tt.env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit = %v, want code 2; stderr:\n%s", err, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}
