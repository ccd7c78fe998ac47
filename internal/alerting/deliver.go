package alerting

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
)

// Secrets reads a Secrets Manager secret's value by id.
type Secrets interface {
	GetSecret(ctx context.Context, id string) (string, error)
}

// SNSAPI is the part of the SNS client that sns Providers use.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Ledger remembers which notifications were delivered, so that a message
// the queue delivers again does not notify again.
type Ledger interface {
	Delivered(ctx context.Context, key string) (bool, error)
	Record(ctx context.Context, key string) error
}

// Retry bounds how a delivery that failed for a reason that may pass (no
// connection, 429, 5xx) is tried again.
type Retry struct {
	// Attempts is how many times a request is sent, the first included.
	Attempts int
	// BaseDelay is the wait before the first retry; it doubles up to MaxDelay.
	BaseDelay, MaxDelay time.Duration
}

// DefaultRetry is Flux's: five attempts, waits from 2 s doubling to 30 s.
func DefaultRetry() Retry {
	return Retry{Attempts: 5, BaseDelay: 2 * time.Second, MaxDelay: 30 * time.Second}
}

// downFor is how long a Provider that failed every attempt gets a single
// attempt per notification: one that is down costs an invocation its
// retries once, not once per event.
const downFor = time.Minute

// Dispatcher sends events to the Providers of the Alerts that select them.
// Delivery never fails the caller's work: a notification that cannot be
// delivered is logged (without its address or credentials) and counted (the
// EMF metric NotificationsFailed). It is safe for concurrent use.
type Dispatcher struct {
	// Secrets reads Providers' secretRef, proxySecretRef and certSecretRef
	// (sluice/<ns>/<name>); nil fails the Providers that name one.
	Secrets Secrets
	// SNS publishes for sns Providers; nil fails them.
	SNS SNSAPI
	// Ledger remembers deliveries across invocations; nil remembers them
	// in this process only.
	Ledger Ledger
	// Metrics receives an EMF line per notification that failed (os.Stderr
	// in main); nil writes none.
	Metrics io.Writer
	Retry   Retry
	nowFunc func() time.Time

	mu        sync.Mutex
	downUntil map[string]time.Time
	warned    *fluxconfig.Config
}

// New returns a Dispatcher with Flux's retries and an in-process ledger.
func New() *Dispatcher {
	return &Dispatcher{Retry: DefaultRetry(), Ledger: NewMemoryLedger(), nowFunc: time.Now, downUntil: map[string]time.Time{}}
}

type triggerKey struct{}

// WithTrigger returns ctx carrying the id of what woke the function (an SQS
// message id, an EventBridge event id). Deduplication keys on it: the same
// event from the same message, delivered again, notifies once, while the
// next message may notify the same words again.
func WithTrigger(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, triggerKey{}, id)
}

// Emit sends ev to every Provider of cfg's Alerts that select it. It
// returns when each is delivered or given up, within ctx.
func (d *Dispatcher) Emit(ctx context.Context, cfg *fluxconfig.Config, ev Event) {
	if cfg == nil {
		return
	}
	d.warnUnreadable(ctx, cfg)
	o := ev.InvolvedObject
	objLabels := cfg.Labels[o.Kind+"/"+o.Namespace+"/"+o.Name]
	for _, a := range cfg.Alerts {
		if Matches(a, ev, objLabels) {
			d.send(ctx, cfg, a, ev)
		}
	}
}

// warnUnreadable logs, once per config read, the Alerts and Providers that
// could not be read: their events go nowhere.
func (d *Dispatcher) warnUnreadable(ctx context.Context, cfg *fluxconfig.Config) {
	d.mu.Lock()
	seen := d.warned == cfg
	d.warned = cfg
	d.mu.Unlock()
	for _, err := range cfg.NotificationErrors {
		if !seen {
			slog.WarnContext(ctx, "an Alert or Provider could not be read; its notifications are not sent", "error", err)
		}
	}
}

func (d *Dispatcher) send(ctx context.Context, cfg *fluxconfig.Config, a fluxconfig.Alert, ev Event) {
	log := slog.With("alert", a.Ref.String(), "provider", a.Namespace+"/"+a.ProviderRef, "object", ev.InvolvedObject.Kind+"/"+ev.InvolvedObject.Namespace+"/"+ev.InvolvedObject.Name, "reason", ev.Reason)
	p, ok := findProvider(cfg, a)
	if !ok {
		d.failed(ctx, log, "", fmt.Errorf("the Alert's Provider %s/%s is not defined in the config folder", a.Namespace, a.ProviderRef))
		return
	}
	if p.Suspend {
		return
	}
	log = log.With("type", p.Type)
	n := withAlertMetadata(a, ev)
	trigger, _ := ctx.Value(triggerKey{}).(string)
	key := dedupKey(trigger, a, p, n)
	if done, err := d.Ledger.Delivered(ctx, key); err != nil {
		// Better twice than never: go on and deliver.
		log.WarnContext(ctx, "reading the notification ledger", "error", err)
	} else if done {
		log.InfoContext(ctx, "notification already delivered for this message; not sent again")
		return
	}
	if err := d.deliver(ctx, p, n); err != nil {
		d.failed(ctx, log, p.Type, err)
		return
	}
	if err := d.Ledger.Record(ctx, key); err != nil {
		log.WarnContext(ctx, "recording the notification in the ledger; a redelivered message may send it again", "error", err)
	}
	log.InfoContext(ctx, "notification sent")
}

func (d *Dispatcher) failed(ctx context.Context, log *slog.Logger, kind string, err error) {
	log.ErrorContext(ctx, "notification not delivered", "error", err)
	if d.Metrics != nil {
		if werr := writeFailedMetric(d.Metrics, d.nowFunc(), kind); werr != nil {
			log.WarnContext(ctx, "writing the NotificationsFailed metric", "error", werr)
		}
	}
}

func findProvider(cfg *fluxconfig.Config, a fluxconfig.Alert) (fluxconfig.Provider, bool) {
	for _, p := range cfg.Providers {
		if p.Namespace == a.Namespace && p.Name == a.ProviderRef {
			return p, true
		}
	}
	return fluxconfig.Provider{}, false
}

// withAlertMetadata is ev as the Alert sends it: the Alert's eventMetadata
// and summary, then the event's own metadata, which wins, as Flux merges them.
func withAlertMetadata(a fluxconfig.Alert, ev Event) Event {
	md := map[string]string{}
	for k, v := range a.EventMetadata {
		md[k] = v
	}
	if a.Summary != "" {
		md["summary"] = a.Summary
	}
	for k, v := range ev.Metadata {
		md[k] = v
	}
	if len(md) > 0 {
		ev.Metadata = md
	}
	return ev
}

// dedupKey identifies a notification: the message that woke the function,
// the Alert and Provider, and the event but for its time.
func dedupKey(trigger string, a fluxconfig.Alert, p fluxconfig.Provider, ev Event) string {
	o := ev.InvolvedObject
	parts := []string{trigger, a.Ref.String(), p.Ref.String(), o.Kind, o.Namespace, o.Name, ev.Severity, ev.Reason, ev.Message}
	for _, k := range sortedKeys(ev.Metadata) {
		parts = append(parts, k+"="+ev.Metadata[k])
	}
	h := sha256.New()
	for _, s := range parts {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// deliver sends ev to p, retrying each request as Retry says.
func (d *Dispatcher) deliver(ctx context.Context, p fluxconfig.Provider, ev Event) error {
	t, err := d.target(ctx, p)
	if err != nil {
		return err
	}
	if p.Type == TypeSNS {
		return t.redact(d.publish(ctx, t, p, ev))
	}
	reqs, err := requests(t, ev)
	if err != nil {
		return t.redact(err)
	}
	client, err := d.httpClient(ctx, p, t)
	if err != nil {
		return t.redact(err)
	}
	for _, r := range reqs {
		if err := d.post(ctx, client, p, r); err != nil {
			return t.redact(err)
		}
	}
	return nil
}

func (d *Dispatcher) publish(ctx context.Context, t target, p fluxconfig.Provider, ev Event) error {
	if d.SNS == nil {
		return errors.New("sns Provider, but this function has no SNS client")
	}
	if !strings.HasPrefix(t.address, "arn:") {
		return errors.New("an sns Provider's address is the topic ARN")
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encoding the event: %w", err)
	}
	subject := fmt.Sprintf("%s: %s", objectName(ev.InvolvedObject), ev.Reason)
	if len(subject) > 100 { // SNS's limit
		subject = subject[:100]
	}
	pctx, cancel := context.WithTimeout(ctx, p.TimeoutOrDefault())
	defer cancel()
	_, err = d.SNS.Publish(pctx, &sns.PublishInput{TopicArn: aws.String(t.address), Subject: aws.String(subject), Message: aws.String(string(body))})
	if err != nil {
		return fmt.Errorf("publishing to SNS: %w", err)
	}
	return nil
}

// StatusError is a provider's answer other than 2xx.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("the provider answered %d: %s", e.Code, e.Body)
}

func (e *StatusError) retryable() bool {
	return e.Code == http.StatusTooManyRequests || e.Code >= 500
}

func (d *Dispatcher) post(ctx context.Context, client *http.Client, p fluxconfig.Provider, r request) error {
	id := p.Ref.String()
	attempts := max(d.Retry.Attempts, 1)
	d.mu.Lock()
	if d.nowFunc().Before(d.downUntil[id]) {
		attempts = 1
	}
	d.mu.Unlock()
	for attempt := 1; ; attempt++ {
		err := d.once(ctx, client, p, r)
		if err == nil {
			return nil
		}
		var se *StatusError
		if errors.As(err, &se) && !se.retryable() {
			return err
		}
		wait := min(d.Retry.BaseDelay<<min(attempt-1, 20), d.Retry.MaxDelay)
		if attempt >= attempts || !timeLeft(ctx, wait+p.TimeoutOrDefault()) {
			d.mu.Lock()
			d.downUntil[id] = d.nowFunc().Add(downFor)
			d.mu.Unlock()
			return fmt.Errorf("gave up after %d attempt(s): %w", attempt, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("gave up after %d attempt(s): %w", attempt, err)
		case <-t.C:
		}
	}
}

// timeLeft says whether ctx leaves d and a margin for the caller to record
// its work before the function's deadline.
func timeLeft(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d+2*time.Second
}

func (d *Dispatcher) once(ctx context.Context, client *http.Client, p fluxconfig.Provider, r request) error {
	rctx, cancel := context.WithTimeout(ctx, p.TimeoutOrDefault())
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, r.url, bytes.NewReader(r.body))
	if err != nil {
		return errors.New("the provider's address is not a URL")
	}
	req.Header = r.header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(body))}
	}
	if r.url == slackAPI {
		return slackOK(body)
	}
	return nil
}

// slackAPI is Slack's chat.postMessage, which answers 200 with ok: false.
const slackAPI = "https://slack.com/api/chat.postMessage"

func slackOK(body []byte) error {
	var r struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("reading Slack's answer: %w", err)
	}
	if !r.OK {
		return fmt.Errorf("slack answered: %s", r.Error)
	}
	return nil
}

// redact replaces t's secrets (the address, which holds the webhook's
// credential for Slack, Teams, Discord and Google Chat, the token,
// password and header values) in err's text: errors reach the logs.
func (t target) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	secrets := []string{t.address, t.token, t.password, t.proxy}
	for _, v := range t.headers {
		secrets = append(secrets, v)
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return errors.New(msg)
}
