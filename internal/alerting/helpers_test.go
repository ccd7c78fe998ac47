package alerting

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

// received is a request a receiver got.
type received struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// receiver is a local HTTP endpoint that records what it is sent and
// answers the status codes it is told to, in turn (then 200).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	statuses []int
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Method, req.URL.Path, req.Header.Clone(), b})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// secretStore is the real Secrets Manager client against the protocol
// stand-in, holding values.
func secretStore(t *testing.T, values map[string]string) *secrets.Manager {
	srv := awstest.NewSecretsManagerServer(values)
	t.Cleanup(srv.Close)
	return secrets.New(secretsmanager.New(secretsmanager.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}))
}

var testTime = time.Date(2026, 12, 1, 2, 3, 4, 0, time.UTC)

const testSHA = "0123456789abcdef0123456789abcdef01234567"

func appliedEvent() Event {
	return NewEvent("Kustomization", "flux-system", "apps", SeverityInfo, ReasonSucceeded,
		"Deployment/prod/web configured\nService/prod/web created", Revision("main", testSHA), "sluice-reconcile", testTime)
}

// config holds one Alert, "alert", on every Kustomization of flux-system,
// sending to p.
func config(p fluxconfig.Provider, edit ...func(*fluxconfig.Alert)) *fluxconfig.Config {
	p.Ref = fluxconfig.Ref{Namespace: "flux-system", Name: "receiver"}
	a := fluxconfig.Alert{
		Ref: fluxconfig.Ref{Namespace: "flux-system", Name: "alert"}, ProviderRef: "receiver", EventSeverity: SeverityInfo,
		EventSources:  []fluxconfig.EventSource{{Kind: "Kustomization", Ref: fluxconfig.Ref{Namespace: "flux-system", Name: "*"}}},
		EventMetadata: map[string]string{"env": "prod"},
	}
	for _, e := range edit {
		e(&a)
	}
	return &fluxconfig.Config{Providers: []fluxconfig.Provider{p}, Alerts: []fluxconfig.Alert{a}}
}

// quick retries, so that tests of a provider that is down take no time.
func dispatcher() *Dispatcher {
	d := New()
	d.Retry = Retry{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	return d
}
