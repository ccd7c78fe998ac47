package alerting

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
)

const msg = `Deployment/prod/web configured\nService/prod/web created`

// want is one request a provider must make: its path, the headers that
// must be set, and its JSON body (compared as JSON).
type want struct {
	path   string
	header map[string]string
	body   string
}

// Each provider type sends what Flux's notifier of that type sends, to a
// local receiver that checks the body and headers.
func TestProviderPayloads(t *testing.T) {
	ev := appliedEvent()
	objUID := ev.InvolvedObject.UID
	providerUID := uid("Provider/flux-system/receiver")
	md := `{"env":"prod","revision":"main@sha1:` + testSHA + `"}`
	eventJSON := `{"involvedObject":{"kind":"Kustomization","namespace":"flux-system","name":"apps","uid":"` + objUID + `","apiVersion":"kustomize.toolkit.fluxcd.io/v1"},` +
		`"severity":"info","timestamp":"2026-12-01T02:03:04Z","message":"` + msg + `","reason":"ReconciliationSucceeded","metadata":` + md +
		`,"reportingController":"kustomize-controller","reportingInstance":"sluice-reconcile"}`
	fields := `[{"title":"env","value":"prod","short":false},{"title":"revision","value":"main@sha1:` + testSHA + `","short":false}]`
	alias := sha256.Sum256([]byte(providerUID + "/Kustomization/flux-system/apps/ReconciliationSucceeded"))
	errEv := ev
	errEv.Severity, errEv.Reason, errEv.Message = SeverityError, ReasonHealthCheckFailed, "timeout waiting for Deployment/prod/web"
	errMd := `{"env":"prod","revision":"main@sha1:` + testSHA + `"}`

	tests := []struct {
		name     string
		provider fluxconfig.Provider // Address "URL" becomes the receiver's URL
		path     string              // appended to the receiver's URL as the address
		secret   string              // sluice/flux-system/receiver-secret, when set
		event    Event
		want     []want
	}{
		{name: "slack", provider: fluxconfig.Provider{Type: "slack", Channel: "general"}, secret: `{"address": "URL/services/T0/B0/x", "token": "xoxb-1"}`,
			want: []want{{path: "/services/T0/B0/x", header: map[string]string{"Authorization": "Bearer xoxb-1", "Content-Type": "application/json"},
				body: `{"channel":"general","username":"kustomize-controller","icon_url":"","icon_emoji":"","attachments":[{"fallback":"kustomization/apps.flux-system: Deployment/prod/web configured",` +
					`"color":"good","author_name":"kustomization/apps.flux-system","text":"` + msg + `","mrkdwn_in":["text"],"fields":` + fields + `}]}`}}},
		{name: "slack error", provider: fluxconfig.Provider{Type: "slack", Username: "sluice"}, path: "/hook", event: errEv,
			want: []want{{path: "/hook", body: `{"channel":"","username":"sluice","icon_url":"","icon_emoji":"","attachments":[{"fallback":"kustomization/apps.flux-system: timeout waiting for Deployment/prod/web",` +
				`"color":"danger","author_name":"kustomization/apps.flux-system","text":"timeout waiting for Deployment/prod/web","mrkdwn_in":["text"],"fields":` + fields + `}]}`}}},
		{name: "discord", provider: fluxconfig.Provider{Type: "discord", Username: "flux"}, path: "/api/webhooks/1/x",
			want: []want{{path: "/api/webhooks/1/x/slack", body: `{"channel":"","username":"flux","icon_url":"","icon_emoji":"","attachments":[{"fallback":"","color":"good",` +
				`"author_name":"kustomization/apps.flux-system","text":"` + msg + `","mrkdwn_in":["text"],"fields":` + fields + `}]}`}}},
		{name: "msteams adaptive card", provider: fluxconfig.Provider{Type: "msteams"}, path: "/workflows/x",
			want: []want{{path: "/workflows/x", body: `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{` +
				`"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.4","body":[{"type":"Container","items":[` +
				`{"type":"TextBlock","text":"kustomization/apps.flux-system","size":"large","weight":"bolder","wrap":true},` +
				`{"type":"TextBlock","text":"` + msg + `","wrap":true},` +
				`{"type":"FactSet","facts":[{"title":"env","value":"prod"},{"title":"revision","value":"main@sha1:` + testSHA + `"}]}]}],"msteams":{"width":"Full"}}}]}`}}},
		// An Office 365 connector host, reached through the Provider's proxy.
		{name: "msteams connector through a proxy", provider: fluxconfig.Provider{Type: "msteams", Address: "http://acme.webhook.office.com/webhookb2/x", Proxy: "URL"}, event: errEv,
			want: []want{{path: "/webhookb2/x", body: `{"@type":"MessageCard","@context":"http://schema.org/extensions","themeColor":"FF0000","summary":"kustomization/apps.flux-system",` +
				`"sections":[{"activityTitle":"timeout waiting for Deployment/prod/web","activitySubtitle":"kustomization/apps.flux-system","facts":[{"name":"env","value":"prod"},{"name":"revision","value":"main@sha1:` + testSHA + `"}]}]}`}}},
		{name: "googlechat", provider: fluxconfig.Provider{Type: "googlechat"}, path: "/v1/spaces/x/messages", event: errEv,
			want: []want{{path: "/v1/spaces/x/messages", body: `{"cards":[{"header":{"title":"kustomization/apps.flux-system","subtitle":"kustomize-controller","imageUrl":null,"imageStyle":null},` +
				`"sections":[{"header":"","widgets":[{"textParagraph":{"text":"<font color=\"#ff0000\">timeout waiting for Deployment/prod/web</font>"},"keyValue":null}]},` +
				`{"header":"","widgets":[{"textParagraph":null,"keyValue":{"topLabel":"env","content":"prod","contentMultiline":false,"bottomLabel":null,"icon":null}},` +
				`{"textParagraph":null,"keyValue":{"topLabel":"revision","content":"main@sha1:` + testSHA + `","contentMultiline":false,"bottomLabel":null,"icon":null}}]}]}]}`}}},
		{name: "generic", provider: fluxconfig.Provider{Type: "generic"}, path: "/events", secret: `{"headers": "X-Team: web\nAuthorization: Token t0k3n"}`,
			want: []want{{path: "/events", header: map[string]string{"gotk-component": "kustomize-controller", "X-Team": "web", "Authorization": "Token t0k3n"}, body: eventJSON}}},
		{name: "githubdispatch", provider: fluxconfig.Provider{Type: "githubdispatch"}, path: "/acme/config", secret: `{"token": "ghp_1"}`,
			want: []want{{path: "/api/v3/repos/acme/config/dispatches", header: map[string]string{"Authorization": "Bearer ghp_1"},
				body: `{"event_type":"Kustomization/apps.flux-system","client_payload":` + eventJSON + `}`}}},
		{name: "github commit status", provider: fluxconfig.Provider{Type: "github"}, path: "/acme/config.git", secret: `{"token": "ghp_1"}`, event: errEv,
			want: []want{{path: "/api/v3/repos/acme/config/statuses/" + testSHA, header: map[string]string{"Authorization": "Bearer ghp_1"},
				body: `{"state":"failure","context":"kustomization/apps/` + providerUID[:8] + `","description":"health check failed"}`}}},
		{name: "pagerduty info resolves and records a change", provider: fluxconfig.Provider{Type: "pagerduty", Channel: "routing-key"}, path: "/",
			want: []want{
				{path: "/v2/enqueue", body: `{"routing_key":"routing-key","event_action":"resolve","dedup_key":"` + objUID + `"}`},
				{path: "/v2/change/enqueue", body: `{"routing_key":"routing-key","payload":{"summary":"reconciliation succeeded: kustomization/apps",` +
					`"source":"Flux kustomize-controller","timestamp":"2026-12-01T02:03:04Z","custom_details":{"message":"` + msg + `","metadata":` + md + `}}}`},
			}},
		{name: "pagerduty error triggers", provider: fluxconfig.Provider{Type: "pagerduty", Channel: "routing-key"}, path: "/", event: errEv,
			want: []want{{path: "/v2/enqueue", body: `{"routing_key":"routing-key","event_action":"trigger","dedup_key":"` + objUID + `","payload":{` +
				`"summary":"health check failed: kustomization/apps","source":"Flux kustomize-controller","severity":"error","timestamp":"2026-12-01T02:03:04Z",` +
				`"component":"apps","group":"Kustomization","custom_details":{"message":"timeout waiting for Deployment/prod/web","metadata":` + errMd + `}}}`}}},
		{name: "opsgenie", provider: fluxconfig.Provider{Type: "opsgenie"}, path: "/v2/alerts", secret: `{"token": "genie"}`,
			want: []want{{path: "/v2/alerts", header: map[string]string{"Authorization": "GenieKey genie"},
				body: `{"message":"Kustomization/apps","alias":"` + hex.EncodeToString(alias[:]) + `","description":"` + msg + `",` +
					`"details":{"env":"prod","revision":"main@sha1:` + testSHA + `","severity":"info"}}`}}},
		{name: "alertmanager", provider: fluxconfig.Provider{Type: "alertmanager"}, path: "/api/v2/alerts", secret: `{"username": "am", "password": "pw"}`,
			want: []want{{path: "/api/v2/alerts", header: map[string]string{"Authorization": "Basic YW06cHc="},
				body: `[{"status":"firing","labels":{"env":"prod","revision":"main@sha1:` + testSHA + `","alertname":"FluxKustomizationReconciliationsucceeded",` +
					`"severity":"info","reason":"ReconciliationSucceeded","kind":"Kustomization","name":"apps","namespace":"flux-system","reportingcontroller":"kustomize-controller"},` +
					`"annotations":{"message":"` + msg + `"},"startsAt":"2026-12-01T02:03:04Z","endsAt":"0001-01-01T00:00:00Z"}]`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newReceiver(t)
			p := tt.provider
			p.Address = strings.ReplaceAll(p.Address, "URL", srv.URL)
			p.Proxy = strings.ReplaceAll(p.Proxy, "URL", srv.URL)
			if tt.path != "" {
				p.Address = srv.URL + tt.path
			}
			d := dispatcher()
			if tt.secret != "" {
				p.SecretRef = "receiver-secret"
				d.Secrets = secretStore(t, map[string]string{"sluice/flux-system/receiver-secret": strings.ReplaceAll(tt.secret, "URL", srv.URL)})
			}
			ev := tt.event
			if ev.Reason == "" {
				ev = appliedEvent()
			}
			d.Emit(context.Background(), config(p), ev)
			got := srv.requests()
			if len(got) != len(tt.want) {
				t.Fatalf("%d requests, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				r := got[i]
				if r.Method != "POST" || r.Path != w.path {
					t.Errorf("request %d: %s %s, want POST %s", i, r.Method, r.Path, w.path)
				}
				for k, v := range w.header {
					if r.Header.Get(k) != v {
						t.Errorf("request %d: header %s = %q, want %q", i, k, r.Header.Get(k), v)
					}
				}
				var gotBody, wantBody any
				if err := json.Unmarshal(r.Body, &gotBody); err != nil {
					t.Fatalf("request %d: body is not JSON: %s", i, r.Body)
				}
				if err := json.Unmarshal([]byte(w.body), &wantBody); err != nil {
					t.Fatalf("the test's body is not JSON: %v", err)
				}
				if diff := cmp.Diff(wantBody, gotBody); diff != "" {
					t.Errorf("request %d body (-want +got):\n%s", i, diff)
				}
			}
		})
	}
	// The generic body is the event as Flux marshals it, byte for byte: the
	// order of fields included.
	t.Run("generic body bytes", func(t *testing.T) {
		srv := newReceiver(t)
		dispatcher().Emit(context.Background(), config(fluxconfig.Provider{Type: "generic", Address: srv.URL}), appliedEvent())
		if got := srv.requests(); len(got) != 1 || string(got[0].Body) != eventJSON {
			t.Errorf("body:\n%s\nwant:\n%s", got[0].Body, eventJSON)
		}
	})
}

// generic-hmac signs the exact body with the secret's token, as Flux's
// receivers verify: X-Signature: sha256=<hex HMAC-SHA256>.
func TestGenericHMACSignature(t *testing.T) {
	srv := newReceiver(t)
	d := dispatcher()
	d.Secrets = secretStore(t, map[string]string{"sluice/flux-system/hmac": `{"token": "s3cr3t-key"}`})
	d.Emit(context.Background(), config(fluxconfig.Provider{Type: "generic-hmac", Address: srv.URL + "/hook", SecretRef: "hmac"}), appliedEvent())
	got := srv.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests", len(got))
	}
	m := hmac.New(sha256.New, []byte("s3cr3t-key"))
	m.Write(got[0].Body)
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); got[0].Header.Get("X-Signature") != want {
		t.Errorf("X-Signature = %q, want %q", got[0].Header.Get("X-Signature"), want)
	}
	var ev Event
	if err := json.Unmarshal(got[0].Body, &ev); err != nil || ev.Reason != ReasonSucceeded || ev.Metadata["revision"] != Revision("main", testSHA) {
		t.Errorf("body = %s (%v)", got[0].Body, err)
	}
}
