package alerting

import (
	"testing"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
)

func TestMatches(t *testing.T) {
	src := func(kind, ns, name string, labels map[string]string) fluxconfig.EventSource {
		return fluxconfig.EventSource{Kind: kind, Ref: fluxconfig.Ref{Namespace: ns, Name: name}, MatchLabels: labels}
	}
	base := fluxconfig.Alert{EventSeverity: SeverityInfo, EventSources: []fluxconfig.EventSource{src("Kustomization", "flux-system", "apps", nil)}}
	with := func(edit func(*fluxconfig.Alert)) fluxconfig.Alert {
		a := base
		a.EventSources = append([]fluxconfig.EventSource(nil), base.EventSources...)
		edit(&a)
		return a
	}
	info := appliedEvent() // Kustomization flux-system/apps, info
	failed := info
	failed.Severity, failed.Reason, failed.Message = SeverityError, ReasonFailed, "kustomize build failed: no such file"
	web := map[string]string{"team": "web", "tier": "front"}
	tests := []struct {
		name   string
		alert  fluxconfig.Alert
		ev     Event
		labels map[string]string
		want   bool
	}{
		{"named source", base, info, nil, true},
		{"other name", with(func(a *fluxconfig.Alert) { a.EventSources[0].Name = "infra" }), info, nil, false},
		{"other namespace", with(func(a *fluxconfig.Alert) { a.EventSources[0].Namespace = "apps" }), info, nil, false},
		{"other kind", with(func(a *fluxconfig.Alert) { a.EventSources[0].Kind = "GitRepository" }), info, nil, false},
		{"any name", with(func(a *fluxconfig.Alert) { a.EventSources[0].Name = "*" }), info, nil, true},
		{"second source", with(func(a *fluxconfig.Alert) {
			a.EventSources = []fluxconfig.EventSource{src("ImagePolicy", "flux-system", "*", nil), src("Kustomization", "flux-system", "*", nil)}
		}), info, nil, true},
		{"matchLabels match", with(func(a *fluxconfig.Alert) {
			a.EventSources[0] = src("Kustomization", "flux-system", "*", map[string]string{"team": "web"})
		}), info, web, true},
		{"matchLabels differ", with(func(a *fluxconfig.Alert) {
			a.EventSources[0] = src("Kustomization", "flux-system", "*", map[string]string{"team": "data"})
		}), info, web, false},
		{"matchLabels, object has none", with(func(a *fluxconfig.Alert) {
			a.EventSources[0] = src("Kustomization", "flux-system", "*", map[string]string{"team": "web"})
		}), info, nil, false},
		{"info alert takes errors", base, failed, nil, true},
		{"error alert drops info", with(func(a *fluxconfig.Alert) { a.EventSeverity = SeverityError }), info, nil, false},
		{"error alert takes errors", with(func(a *fluxconfig.Alert) { a.EventSeverity = SeverityError }), failed, nil, true},
		{"suspended", with(func(a *fluxconfig.Alert) { a.Suspend = true }), info, nil, false},
		{"inclusion matches", with(func(a *fluxconfig.Alert) { a.InclusionList = []string{"^nothing", "Deployment/.*configured"} }), info, nil, true},
		{"inclusion does not match", with(func(a *fluxconfig.Alert) { a.InclusionList = []string{"created$"} }), failed, nil, false},
		{"exclusion matches", with(func(a *fluxconfig.Alert) { a.ExclusionList = []string{"no such file"} }), failed, nil, false},
		{"exclusion does not match", with(func(a *fluxconfig.Alert) { a.ExclusionList = []string{"^Dependency"} }), failed, nil, true},
		{"exclusion wins over inclusion", with(func(a *fluxconfig.Alert) {
			a.InclusionList, a.ExclusionList = []string{"configured"}, []string{"Service/"}
		}), info, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Matches(tt.alert, tt.ev, tt.labels); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}
