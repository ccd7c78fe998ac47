package drift

import (
	"testing"
	"time"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/kube"
)

// Drift found notifies (information when a reconcile was queued to correct
// it, an error when it is only detected), and so does Git ahead of the
// cluster; a Kustomization in sync does not.
func TestAlertEvents(t *testing.T) {
	drifted := []kube.ObjectDiff{{ID: "Deployment/prod/web", Status: kube.Drifted}, {ID: "Service/prod/web", Status: kube.InSync}}
	tests := []struct {
		name string
		rep  Report
		want []string // severity reason message
	}{
		{"corrected", Report{Queued: true, Kustomizations: []KustomizationReport{{Name: "flux-system/apps", Head: "abc", Mode: Correct, Objects: drifted}}},
			[]string{"info DriftDetected Drift detected: 1 drifted, 0 missing, 0 extra; a reconcile was queued to correct it\nDeployment/prod/web drifted"}},
		{"detected only", Report{Kustomizations: []KustomizationReport{{Name: "flux-system/apps", Head: "abc", Mode: Detect, Objects: drifted}}},
			[]string{"error DriftDetected Drift detected: 1 drifted, 0 missing, 0 extra; not corrected (drift mode detect)\nDeployment/prod/web drifted"}},
		{"behind", Report{Queued: true, Kustomizations: []KustomizationReport{{Name: "flux-system/apps", Revision: "0123456789abcdef", Head: "fedcba9876543210", Behind: true, Mode: Correct}}},
			[]string{"info GitBehind Git is ahead of the cluster: applied 0123456789ab, branch head fedcba987654; a reconcile was queued"}},
		{"in sync", Report{Kustomizations: []KustomizationReport{{Name: "flux-system/apps", Head: "abc", Mode: Correct, Objects: drifted[1:]}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := alertEvents(&tt.rep, "main", time.Now())
			if len(evs) != len(tt.want) {
				t.Fatalf("%d events, want %d: %+v", len(evs), len(tt.want), evs)
			}
			for i, ev := range evs {
				if got := ev.Severity + " " + ev.Reason + " " + ev.Message; got != tt.want[i] {
					t.Errorf("event %d = %q, want %q", i, got, tt.want[i])
				}
				if ev.InvolvedObject.Kind != "Kustomization" || ev.InvolvedObject.Name != "apps" || ev.Metadata[alerting.MetaRevision] == "" {
					t.Errorf("event %d = %+v", i, ev)
				}
			}
		})
	}
}
