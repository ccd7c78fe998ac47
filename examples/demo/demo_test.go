package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestDemo runs the demo's whole story, so it can never silently break: each
// step fails the run when the state it expects is not reached.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four binaries and starts an API server")
	}
	var out bytes.Buffer
	if err := Run(context.Background(), &out, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"├── ConfigMap/prod/prod-task-reporter-config-fgmgm275tm",
		"├── Service/prod/prod-task-web",
		"└── Ingress/prod/prod-app-ingress",
		"prod-task-service runs 111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service:1.1.1",
		"Author: fluxcdbot <fluxcdbot@users.noreply.github.com>",
		"drift: all 9 objects in sync",
		"$ sluice get kustomizations",
		"alert received: info ReconciliationSucceeded Kustomization/task-tool",
		"$ sluice uninstall --silent",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out.String())
		}
	}
}
