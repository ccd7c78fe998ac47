package fluxconfig

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Every version Flux served of Alert and Provider reads into one model.
func TestReadAlertsAndProviders(t *testing.T) {
	for _, v := range []string{"v1beta1", "v1beta2", "v1beta3"} {
		t.Run(v, func(t *testing.T) {
			api := "apiVersion: notification.toolkit.fluxcd.io/" + v + "\n"
			fsys := fstest.MapFS{
				"c/alert.yaml": {Data: []byte(api + `kind: Alert
metadata: {name: on-call, namespace: flux-system}
spec:
  providerRef: {name: slack}
  eventSeverity: error
  eventSources:
    - {kind: Kustomization, name: "*", matchLabels: {team: web}}
    - {kind: ImageUpdateAutomation, name: task-tool, namespace: apps}
  inclusionList: [".*applied.*"]
  exclusionList: ["^Dependency"]
  eventMetadata: {env: prod}
  summary: Cluster prod
`)},
				"c/provider.yaml": {Data: []byte(api + `kind: Provider
metadata: {name: slack, namespace: flux-system, labels: {team: web}}
spec:
  type: slack
  channel: general
  username: flux
  address: https://slack.example/api
  timeout: 30s
  proxy: http://proxy.example:3128
  secretRef: {name: slack-url}
  certSecretRef: {name: slack-ca}
  interval: 5m
`)},
			}
			cfg, err := Read(fsys, "c")
			if err != nil {
				t.Fatal(err)
			}
			wantAlert := Alert{
				Ref: Ref{Namespace: "flux-system", Name: "on-call"}, Source: Source{File: "c/alert.yaml", Doc: 1},
				ProviderRef: "slack", EventSeverity: SeverityError,
				EventSources: []EventSource{
					{Kind: "Kustomization", Ref: Ref{Namespace: "flux-system", Name: "*"}, MatchLabels: map[string]string{"team": "web"}},
					{Kind: "ImageUpdateAutomation", Ref: Ref{Namespace: "apps", Name: "task-tool"}},
				},
				InclusionList: []string{".*applied.*"}, ExclusionList: []string{"^Dependency"},
				EventMetadata: map[string]string{"env": "prod"}, Summary: "Cluster prod",
			}
			wantProvider := Provider{
				Ref: Ref{Namespace: "flux-system", Name: "slack"}, Source: Source{File: "c/provider.yaml", Doc: 1},
				Type: "slack", Channel: "general", Username: "flux", Address: "https://slack.example/api", Timeout: 30 * time.Second,
				Proxy: "http://proxy.example:3128", SecretRef: "slack-url", CertSecretRef: "slack-ca",
			}
			if diff := cmp.Diff([]Alert{wantAlert}, cfg.Alerts); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]Provider{wantProvider}, cfg.Providers); diff != "" {
				t.Errorf("providers (-want +got):\n%s", diff)
			}
			if got := cfg.Labels["Provider/flux-system/slack"]; got["team"] != "web" {
				t.Errorf("labels = %v", cfg.Labels)
			}
			wantNotes := []Note{{Severity: Info, Object: "Provider/flux-system/slack", Field: "spec.interval", Source: wantProvider.Source}}
			if diff := cmp.Diff(wantNotes, cfg.Notes, cmpopts.IgnoreFields(Note{}, "Message")); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

// An Alert or Provider that cannot be read is kept aside with a clear
// error; nothing else stops for it.
func TestReadNotificationErrors(t *testing.T) {
	const alert = "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Alert\nmetadata: {name: a}\n"
	const provider = "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Provider\nmetadata: {name: p}\n"
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"no provider or sources", alert + "spec: {eventSeverity: info}\n", []string{"Alert/default/a", "spec.providerRef.name is required", "spec.eventSources is required"}},
		{"severity", alert + "spec: {providerRef: {name: p}, eventSeverity: warning, eventSources: [{kind: Kustomization, name: x}]}\n", []string{`spec.eventSeverity "warning" is not info or error`}},
		{"source without a name", alert + "spec: {providerRef: {name: p}, eventSources: [{kind: Kustomization}]}\n", []string{"spec.eventSources[0]: kind and name are required"}},
		{"bad exclusion", alert + "spec: {providerRef: {name: p}, eventSources: [{kind: Kustomization, name: x}], exclusionList: ['(']}\n", []string{"spec.exclusionList[0]", "not a regular expression"}},
		{"no type", provider + "spec: {address: https://x}\n", []string{"Provider/default/p", "spec.type is required"}},
		{"timeout", provider + "spec: {type: generic, timeout: soon}\n", []string{`spec.timeout "soon"`}},
		{"unserved version", "apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Alert\nmetadata: {name: a}\nspec: {}\n", []string{`apiVersion "notification.toolkit.fluxcd.io/v1" is not one Flux served`}},
	}
	const ks = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\nspec: {prune: true, sourceRef: {kind: GitRepository, name: r}}\n"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Read(fstest.MapFS{"c/n.yaml": {Data: []byte(tt.doc)}, "c/ks.yaml": {Data: []byte(ks)}}, "c")
			if err != nil {
				t.Fatalf("the whole config failed: %v", err)
			}
			if len(cfg.Kustomizations) != 1 || len(cfg.Kustomizations[0].Refusals) != 0 {
				t.Errorf("the Kustomization was touched: %+v", cfg.Kustomizations)
			}
			got := errors.Join(cfg.NotificationErrors...)
			if got == nil || len(cfg.Alerts)+len(cfg.Providers) != 0 {
				t.Fatalf("errors %v, alerts %v, providers %v", got, cfg.Alerts, cfg.Providers)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.Error(), w) {
					t.Errorf("error %q does not contain %q", got, w)
				}
			}
		})
	}
}
