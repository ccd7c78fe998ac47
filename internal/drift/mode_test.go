package drift

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gittest"
)

// TestModeOf: the annotation overrides the function's mode; a value that is
// neither mode is a warning naming it, and the safe mode.
func TestModeOf(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		fnMode      Mode
		want        Mode
		warn        bool
	}{
		{name: "no annotation: the function's correct", fnMode: Correct, want: Correct},
		{name: "no annotation: the function's detect", fnMode: Detect, want: Detect},
		{name: "detect", annotations: map[string]string{ModeAnnotation: "detect"}, fnMode: Correct, want: Detect},
		{name: "correct", annotations: map[string]string{ModeAnnotation: "correct"}, fnMode: Detect, want: Correct},
		{name: "Detect is not a mode", annotations: map[string]string{ModeAnnotation: "Detect"}, fnMode: Correct, want: Detect, warn: true},
		{name: "Correct is not a mode either", annotations: map[string]string{ModeAnnotation: "Correct"}, fnMode: Correct, want: Detect, warn: true},
		{name: "empty", annotations: map[string]string{ModeAnnotation: ""}, fnMode: Correct, want: Detect, warn: true},
		{name: "off", annotations: map[string]string{ModeAnnotation: "off"}, fnMode: Correct, want: Detect, warn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			old := slog.Default()
			slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
			t.Cleanup(func() { slog.SetDefault(old) })
			k := fluxconfig.Kustomization{Ref: fluxconfig.Ref{Namespace: "flux-system", Name: "apps"}, Annotations: tt.annotations,
				Source: fluxconfig.Source{File: "apps.yaml", Doc: 1}}
			got := (&Checker{mode: tt.fnMode}).modeOf(context.Background(), k)
			if got != tt.want {
				t.Errorf("mode = %s, want %s", got, tt.want)
			}
			warned := strings.Contains(logs.String(), "level=WARN")
			if warned != tt.warn {
				t.Errorf("warned = %v, want %v; logs:\n%s", warned, tt.warn, logs.String())
			}
			if tt.warn {
				for _, w := range []string{ModeAnnotation, tt.annotations[ModeAnnotation] + `\"`, "flux-system/apps", "apps.yaml"} {
					if !strings.Contains(logs.String(), w) {
						t.Errorf("warning does not name %q:\n%s", w, logs.String())
					}
				}
			}
		})
	}
}

// TestMistypedModeAnnotationQueuesNothing: on the real API server, a
// Kustomization annotated "Detect" (meant to stop corrections) has its drift
// reported and nothing queued, though the function's mode is correct.
func TestMistypedModeAnnotationQueuesNothing(t *testing.T) {
	f := newFixture(t, "drift-mistyped-mode")
	f.commit("Report drift only (capitalised)", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "spec:\n",
			"  annotations: {\"sluice.dev/drift-mode\": Detect}\nspec:\n")
	})
	f.reconcile(nil)
	f.tamper()
	rep, _ := f.drift(Correct)
	if len(notInSync(rep)) == 0 {
		t.Fatalf("no drift found: the check cannot tell: %+v", rep)
	}
	if rep.Queued || rep.Kustomizations[0].Mode != Detect {
		t.Errorf("queued %v, mode %s; want nothing queued in detect mode", rep.Queued, rep.Kustomizations[0].Mode)
	}
	if msgs := f.sqs.Messages("reconcile.fifo"); len(msgs) != 0 {
		t.Errorf("%d reconcile messages queued", len(msgs))
	}
}
