package main

import (
	"strings"
	"testing"

	"github.com/sluice-gitops/sluice/internal/bintest"
)

// binary is the drift function built for the host by TestMain. Its handler
// runs end to end in the demo's test (examples/demo), against a real API
// server and Git server; here, its start-up.
var binary string

func TestMain(m *testing.M) { bintest.Main(m, "drift", &binary) }

// TestConfigurationErrors: a missing or malformed setting of its own stops the function at start-up with exit
// code 2 and every problem named at once.
func TestConfigurationErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		// The settings drift shares with reconcile are tested there
		// (functions/reconcile); these are its own.
		{name: "nothing set", want: []string{"SLUICE_GIT_URL is required", "SLUICE_CONFIG_PATH is required",
			"SLUICE_RECONCILE_QUEUE_URL is required when SLUICE_DRIFT_MODE is correct"}},
		{name: "unknown mode", env: map[string]string{"SLUICE_GIT_URL": "https://github.com/o/r", "SLUICE_CONFIG_PATH": "c",
			"SLUICE_DRIFT_MODE": "fix"}, want: []string{`SLUICE_DRIFT_MODE=\"fix\" is not one of correct, detect`}}, // JSON-escaped in the log line
		{name: "no cluster", env: map[string]string{"SLUICE_GIT_URL": "https://github.com/o/r", "SLUICE_CONFIG_PATH": "clusters/prod",
			"SLUICE_DRIFT_MODE": "detect", "AWS_REGION": "us-east-1", "KUBECONFIG": "/nonexistent"}, want: []string{"KUBECONFIG"}},
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
