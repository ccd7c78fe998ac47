package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
)

// captureLogs sends the default logger to a buffer for the test.
func captureLogs(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

// A message the queue delivers again notifies once; the next message, or
// the same message about another revision, notifies again.
func TestRedeliveryIsNotNotifiedTwice(t *testing.T) {
	srv := newReceiver(t)
	d := dispatcher()
	cfg := config(fluxconfig.Provider{Type: "generic", Address: srv.URL})
	msg1 := WithTrigger(context.Background(), "sqs-message-1")
	d.Emit(msg1, cfg, appliedEvent())
	later := appliedEvent()
	later.Timestamp = Time{testTime.Add(time.Minute)} // a redelivery comes later
	d.Emit(msg1, cfg, later)
	if n := len(srv.requests()); n != 1 {
		t.Fatalf("the redelivered message notified again: %d requests", n)
	}
	other := appliedEvent()
	other.Metadata = map[string]string{MetaRevision: Revision("main", strings.Repeat("f", 40))}
	d.Emit(msg1, cfg, other)
	d.Emit(WithTrigger(context.Background(), "sqs-message-2"), cfg, appliedEvent())
	if n := len(srv.requests()); n != 3 {
		t.Errorf("another revision and another message: %d requests, want 3", n)
	}
}

// A delivery that failed is not recorded: the redelivered message tries again.
func TestFailedDeliveryIsTriedAgainOnRedelivery(t *testing.T) {
	srv := newReceiver(t, 500, 500, 500)
	d := dispatcher()
	cfg := config(fluxconfig.Provider{Type: "generic", Address: srv.URL})
	ctx := WithTrigger(context.Background(), "sqs-message-1")
	d.Emit(ctx, cfg, appliedEvent())
	d.downUntil = map[string]time.Time{} // as on a later invocation
	d.Emit(ctx, cfg, appliedEvent())
	if n := len(srv.requests()); n != 4 {
		t.Errorf("%d requests, want 3 failed attempts then 1 delivery", n)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		requests int
		failed   bool
	}{
		{"down, then up", []int{503, 429}, 3, false},
		{"down for good", []int{500, 500, 500, 500}, 3, true},
		{"refused for good (4xx is not retried)", []int{400}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newReceiver(t, tt.statuses...)
			var metrics bytes.Buffer
			d := dispatcher()
			d.Metrics = &metrics
			d.Emit(context.Background(), config(fluxconfig.Provider{Type: "slack", Address: srv.URL}), appliedEvent())
			if n := len(srv.requests()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			if got := strings.Contains(metrics.String(), `"NotificationsFailed":1`); got != tt.failed {
				t.Errorf("NotificationsFailed metric written: %v, want %v: %s", got, tt.failed, metrics.String())
			}
		})
	}
}

// A retry that would run past the invocation's deadline is not made.
func TestRetriesStayWithinTheDeadline(t *testing.T) {
	srv := newReceiver(t, 500, 500, 500, 500, 500)
	d := New() // Flux's retries: 2 s, 4 s, ...
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	d.Emit(ctx, config(fluxconfig.Provider{Type: "generic", Address: srv.URL, Timeout: time.Second}), appliedEvent())
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %s: waited for a retry it had no time for", time.Since(start))
	}
}

// The address (a Slack webhook URL is a credential), the token and the
// header values never reach the logs, even in a transport error.
func TestSecretsNeverLogged(t *testing.T) {
	logs := captureLogs(t)
	closed := httptest.NewServer(nil)
	closed.Close() // connection refused: the error names the URL
	const hook = "/services/T0SECRET/B0SECRET/XXXXSECRET"
	d := dispatcher()
	d.Secrets = secretStore(t, map[string]string{"sluice/flux-system/slack": `{"address": "` + closed.URL + hook + `", "token": "xoxb-SECRET-TOKEN", "headers": {"X-Key": "HEADER-SECRET"}}`})
	d.Emit(context.Background(), config(fluxconfig.Provider{Type: "slack", SecretRef: "slack"}), appliedEvent())
	out := logs.String()
	if !strings.Contains(out, "notification not delivered") {
		t.Fatalf("the failure is not logged:\n%s", out)
	}
	for _, s := range []string{"SECRET", closed.URL} {
		if strings.Contains(out, s) {
			t.Errorf("the logs hold %q:\n%s", s, out)
		}
	}
}

// The Alert's eventMetadata and summary reach the notification; the
// event's own metadata (its revision) wins a clash.
func TestAlertMetadata(t *testing.T) {
	srv := newReceiver(t)
	cfg := config(fluxconfig.Provider{Type: "generic", Address: srv.URL}, func(a *fluxconfig.Alert) {
		a.EventMetadata = map[string]string{"cluster": "prod", "revision": "not this"}
		a.Summary = "Cluster prod"
	})
	dispatcher().Emit(context.Background(), cfg, appliedEvent())
	var ev Event
	got := srv.requests()
	if len(got) != 1 || json.Unmarshal(got[0].Body, &ev) != nil {
		t.Fatalf("requests: %+v", got)
	}
	want := map[string]string{"cluster": "prod", "summary": "Cluster prod", "revision": Revision("main", testSHA)}
	if len(ev.Metadata) != len(want) {
		t.Errorf("metadata = %v, want %v", ev.Metadata, want)
	}
	for k, v := range want {
		if ev.Metadata[k] != v {
			t.Errorf("metadata[%s] = %q, want %q", k, ev.Metadata[k], v)
		}
	}
}

// What cannot be delivered at all is counted: an Alert without its
// Provider, a type Sluice does not deliver to. A suspended Provider is not
// a failure.
func TestUndeliverable(t *testing.T) {
	tests := []struct {
		name   string
		cfg    *fluxconfig.Config
		failed bool
	}{
		{"no such provider", func() *fluxconfig.Config {
			c := config(fluxconfig.Provider{Type: "generic", Address: "http://127.0.0.1:1"})
			c.Alerts[0].ProviderRef = "gone"
			return c
		}(), true},
		{"unsupported type", config(fluxconfig.Provider{Type: "rocket", Address: "http://127.0.0.1:1"}), true},
		{"suspended provider", config(fluxconfig.Provider{Type: "generic", Address: "http://127.0.0.1:1", Suspend: true}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var metrics bytes.Buffer
			d := dispatcher()
			d.Metrics = &metrics
			d.Emit(context.Background(), tt.cfg, appliedEvent())
			if got := strings.Contains(metrics.String(), "NotificationsFailed"); got != tt.failed {
				t.Errorf("failed = %v, want %v", got, tt.failed)
			}
		})
	}
}

// sns, Sluice's own type, publishes the event as JSON to the topic the
// address names.
func TestSNSProvider(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:111122223333:sluice-events"
	srv := awstest.NewSNSServer(topic)
	defer srv.Close()
	d := dispatcher()
	d.SNS = sns.New(sns.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	d.Emit(context.Background(), config(fluxconfig.Provider{Type: "sns", Address: topic}), appliedEvent())
	got := srv.Published()
	if len(got) != 1 || got[0].Subject != "kustomization/apps.flux-system: ReconciliationSucceeded" {
		t.Fatalf("published = %+v", got)
	}
	var ev Event
	if err := json.Unmarshal([]byte(got[0].Message), &ev); err != nil || ev.InvolvedObject.Name != "apps" || ev.Metadata["env"] != "prod" {
		t.Errorf("message = %s (%v)", got[0].Message, err)
	}
}
