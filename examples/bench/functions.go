package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/drift"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/webhook"
)

// The sample events' values (events/README.md): the push in
// events/github-push.json is to this repository, signed with this secret.
const (
	eventsRepo    = "https://github.com/mamezou-tech/task-tool-cluster-config"
	webhookSecret = "sluice-test-secret"
	reconcileFIFO = "sluice-reconcile.fifo"
)

// coldStart is the small event each function's cold start is timed on: one
// the handler answers at once, so exec → exit is start-up plus a handler call.
type coldStart struct {
	what  string
	event string // file under events/
	env   map[string]string
	codes []int // exit codes that mean the handler ran (2 is a start-up failure)
}

func (b *bench) coldStarts() map[string]coldStart {
	return map[string]coldStart{
		"webhook": {what: "GitHub ping → ignored", event: "github-ping.json", codes: []int{0}},
		// The message names another repository than the one configured: the
		// handler reports the record failed without cloning anything.
		"reconcile": {what: "SQS message for another repository → record failed", event: "sqs-reconcile.json",
			env: map[string]string{"SLUICE_GIT_URL": b.git.URL("bench/elsewhere.git")}, codes: []int{0}},
		"drift":        {what: "event of another shape → rejected", event: "sqs-reconcile.json", codes: []int{1}},
		"image-update": {what: "event of another shape → rejected", event: "github-ping.json", codes: []int{1}},
	}
}

// functionRows times each function binary's cold start, the webhook's push →
// queued and the image-update's ECR event → commit pushed (in process and as
// a binary).
func (b *bench) functionRows(ctx context.Context) ([]row, error) {
	var rows []row
	set := map[string]bool{}
	for n := range b.bins {
		set[n] = true
	}
	for n := range b.buildErrs {
		set[n] = true
	}
	names := slices.Sorted(maps.Keys(set))
	starts := b.coldStarts()
	for _, name := range names {
		cs, ok := starts[name]
		if _, built := b.bins[name]; !built || !ok {
			rows = append(rows, row{work: fmt.Sprintf("cold start: %s function", name), missing: "not measured: " + b.whyNot(name)})
			continue
		}
		b.logf("  cold start of %s (%d runs)", name, b.opts.runs)
		var r result
		for range b.opts.runs {
			p, err := b.runFunction(ctx, name, filepath.Join(b.root, "events", cs.event), cs.env)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(cs.codes, p.code) {
				return nil, fmt.Errorf("%s on %s exited %d, want %v: %s", name, cs.event, p.code, cs.codes, p.tail())
			}
			r.addProc(p)
		}
		rows = append(rows, row{work: fmt.Sprintf("cold start: %s function (exec → exit; %s)", name, cs.what), sluice: &r})
	}
	webhookRows, err := b.webhookRows(ctx)
	if err != nil {
		return nil, err
	}
	rows = append(rows, webhookRows...)
	imageRows, err := b.imageRows(ctx)
	if err != nil {
		return nil, err
	}
	return append(rows, imageRows...), nil
}

func (b *bench) whyNot(name string) string {
	if err, ok := b.buildErrs[name]; ok {
		return fmt.Sprintf("functions/%s does not build (%.80s…)", name, err.Error())
	}
	if _, ok := b.bins[name]; !ok {
		return fmt.Sprintf("there is no functions/%s yet", name)
	}
	return fmt.Sprintf("the bench has no event for functions/%s yet", name)
}

// webhookRows times events/github-push.json → one message on the reconcile
// FIFO queue of the SQS stand-in: through the handler in this process (warm,
// as a Lambda container after its first call) and through the binary (cold).
// Each run carries a new delivery id (the signature covers the body only),
// so each is a new message, not a deduplicated one.
func (b *bench) webhookRows(ctx context.Context) ([]row, error) {
	raw, err := os.ReadFile(filepath.Join(b.root, "events", "github-push.json"))
	if err != nil {
		return nil, err
	}
	b.sqs.AddQueue(awstest.SQSQueue{Name: reconcileFIFO})
	client := sqs.New(sqs.Options{Region: awstest.SQSRegion, BaseEndpoint: aws.String(b.sqs.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSLUICEBENCH", "bench", "")})
	h, err := webhook.New(webhook.Config{Repo: configrepo.Repository{URL: eventsRepo, Branch: branch}, Secret: webhookSecret, QueueURL: realQueueURL(reconcileFIFO)},
		queue.NewSender(client, realQueueURL(reconcileFIFO)))
	if err != nil {
		return nil, err
	}
	b.logf("  webhook → queued (%d runs each way)", b.opts.runs)
	var inProcess, binary result
	for i := 0; i <= b.opts.runs; i++ { // run 0 warms the handler up
		req, err := delivery(raw, fmt.Sprintf("bench-in-process-%d-%d", time.Now().UnixNano(), i))
		if err != nil {
			return nil, err
		}
		var resp events.LambdaFunctionURLResponse
		d, err := timed(func() (err error) {
			resp, err = h.Handle(ctx, req)
			return err
		})
		if err := b.expectQueued(resp, err); err != nil {
			return nil, err
		}
		if i > 0 {
			inProcess.add(d)
		}
	}
	for i := range b.opts.runs {
		req, err := delivery(raw, fmt.Sprintf("bench-binary-%d-%d", time.Now().UnixNano(), i))
		if err != nil {
			return nil, err
		}
		file := filepath.Join(b.work, "events", fmt.Sprintf("push-%d.json", i))
		if err := writeJSON(file, req); err != nil {
			return nil, err
		}
		p, err := b.runFunction(ctx, "webhook", file, nil)
		if err != nil {
			return nil, err
		}
		var resp events.LambdaFunctionURLResponse
		if p.code != 0 || json.Unmarshal(p.stdout, &resp) != nil {
			return nil, fmt.Errorf("webhook binary on a push exited %d: %s %s", p.code, p.stdout, p.tail())
		}
		if err := b.expectQueued(resp, nil); err != nil {
			return nil, err
		}
		binary.addProc(p)
	}
	return []row{
		{work: "webhook → queued: handler in process (warm), SQS stand-in", sluice: &inProcess},
		{work: "webhook → queued: webhook function binary, cold (exec → exit)", sluice: &binary},
	}, nil
}

// expectQueued checks a push was answered 202 and its message is on the
// queue; it takes the message off, so the next run finds only its own.
func (b *bench) expectQueued(resp events.LambdaFunctionURLResponse, err error) error {
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("webhook answered %d %s, want 202 queued", resp.StatusCode, resp.Body)
	}
	if msgs := b.sqs.Take(reconcileFIFO); len(msgs) != 1 {
		return fmt.Errorf("%d messages queued, want 1", len(msgs))
	}
	return nil
}

// delivery is the push of raw (a Function URL request) with delivery id id.
func delivery(raw []byte, id string) (events.LambdaFunctionURLRequest, error) {
	var req events.LambdaFunctionURLRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return req, fmt.Errorf("events/github-push.json: %w", err)
	}
	req.Headers["x-github-delivery"] = id
	return req, nil
}

// realQueueURL is a queue URL in SQS's own form, as Lambda's configuration
// holds it; AWS_ENDPOINT_URL_SQS (or the client's BaseEndpoint) sends the
// calls to the stand-in.
func realQueueURL(name string) string {
	return "https://sqs." + awstest.SQSRegion + ".amazonaws.com/" + awstest.SQSAccountID + "/" + name
}

// runFunction runs the binary of function name on the event file, with the
// environment every function gets plus overrides: configuration as in
// Lambda, AWS pointed at the stand-ins with static credentials, the cluster
// through the bench's kubeconfig. Exit code 2 (start-up failed) is an error.
func (b *bench) runFunction(ctx context.Context, name, event string, overrides map[string]string) (proc, error) {
	home := filepath.Join(b.work, "home-functions")
	vars := map[string]string{
		"PATH":                        os.Getenv("PATH"),
		"HOME":                        home,
		"AWS_REGION":                  awstest.SQSRegion,
		"AWS_ACCESS_KEY_ID":           "AKIDSLUICEBENCH",
		"AWS_SECRET_ACCESS_KEY":       "bench",
		"AWS_CONFIG_FILE":             filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL_SQS":        b.sqs.URL(),
		"AWS_LAMBDA_LOG_FORMAT":       "JSON",
		"KUBECONFIG":                  b.kubeconfig,
		"SLUICE_GIT_URL":              eventsRepo,
		"SLUICE_GIT_BRANCH":           branch,
		"SLUICE_GIT_TOKEN":            gitToken,
		"SLUICE_CONFIG_PATH":          "clusters/prod",
		"SLUICE_WEBHOOK_SECRET":       webhookSecret,
		"SLUICE_RECONCILE_QUEUE_URL":  realQueueURL(reconcileFIFO),
		"SLUICE_GITHUB_API_URL":       b.github.URL,
		// The stand-in is not the Git remote's host: only a token given for
		// GitHub itself goes to it (the Git token never leaves its host).
		"SLUICE_GITHUB_TOKEN": gitToken,
		"SLUICE_DRIFT_MODE":   string(drift.Detect),
	}
	for k, v := range overrides {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	p, err := runProc(ctx, env, nil, b.bins[name], event)
	if err != nil {
		return p, err
	}
	// The binaries' logs (JSON, as in Lambda) go to the bench log.
	fmt.Fprintf(b.log, "--- %s %s (exit %d, %s)\n%s", name, filepath.Base(event), p.code, p.elapsed, p.stderr)
	if p.code == 2 {
		return p, fmt.Errorf("%s did not start: %s", name, p.tail())
	}
	return p, nil
}

// reconcileBinary runs the reconcile function on an SQS event carrying the
// push message for cr, as Lambda's SQS poller delivers it, and checks that
// it reported all n objects with action want (in its log's summary) and
// recorded them in the inventory.
func (b *bench) reconcileBinary(ctx context.Context, cr *configRepo, n int, want kube.Action) (proc, error) {
	body, err := json.Marshal(queue.Reconcile{Repository: cr.repo.ID(), Branch: branch, Reason: queue.ReasonPush, Kustomizations: []string{}})
	if err != nil {
		return proc{}, err
	}
	sum := md5.Sum(body)
	ev := awstest.SQSEvent(awstest.SQSMessage{
		Queue: reconcileFIFO, MessageID: "bench-" + cr.ns, Body: string(body), MD5OfBody: hex.EncodeToString(sum[:]),
		GroupID: queue.GroupID(cr.repo.ID(), branch), DeduplicationID: "push-bench-" + cr.ns, SequenceNumber: "1",
		SenderID: "AKIDSLUICEBENCH", SentAt: time.Now(), ReceiptHandle: "bench-" + cr.ns,
	})
	file := filepath.Join(b.work, "events", "reconcile-"+cr.ns+".json")
	if err := writeJSON(file, ev); err != nil {
		return proc{}, err
	}
	p, err := b.runFunction(ctx, "reconcile", file, map[string]string{"SLUICE_GIT_URL": cr.url, "SLUICE_CONFIG_PATH": cr.repo.ConfigPath})
	if err != nil {
		return p, err
	}
	var resp events.SQSEventResponse
	if p.code != 0 || json.Unmarshal(p.stdout, &resp) != nil || len(resp.BatchItemFailures) != 0 {
		return p, fmt.Errorf("reconcile binary for %s exited %d with %s: %s", cr.ns, p.code, p.stdout, p.tail())
	}
	if summary := fmt.Sprintf("%d %s", n, want); !strings.Contains(string(p.stderr), summary) {
		return p, fmt.Errorf("reconcile binary for %s did not log %q: %s", cr.ns, summary, p.tail())
	}
	inv, err := b.cluster.Inventory(ctx, cr.owner)
	if err != nil {
		return p, err
	}
	if inv == nil || len(inv.Entries) != n {
		return p, fmt.Errorf("reconcile binary for %s: the inventory does not hold the %d objects: %+v", cr.ns, n, inv)
	}
	return p, nil
}

// driftBinary runs the drift function (detect mode) on a scheduled event for
// cr's repository and checks that it found all n objects in sync.
func (b *bench) driftBinary(ctx context.Context, cr *configRepo, n int) (proc, error) {
	ev := events.CloudWatchEvent{
		Version: "0", ID: "bench-" + cr.ns, DetailType: "Scheduled Event", Source: "aws.events",
		AccountID: awstest.SQSAccountID, Time: time.Now().UTC().Truncate(time.Second), Region: awstest.SQSRegion,
		Resources: []string{"arn:aws:events:" + awstest.SQSRegion + ":" + awstest.SQSAccountID + ":rule/sluice-drift"}, Detail: json.RawMessage("{}"),
	}
	file := filepath.Join(b.work, "events", "drift-"+cr.ns+".json")
	if err := writeJSON(file, ev); err != nil {
		return proc{}, err
	}
	p, err := b.runFunction(ctx, "drift", file, map[string]string{"SLUICE_GIT_URL": cr.url, "SLUICE_CONFIG_PATH": cr.repo.ConfigPath})
	if err != nil {
		return p, err
	}
	var rep drift.Report
	if p.code != 0 || json.Unmarshal(p.stdout, &rep) != nil {
		return p, fmt.Errorf("drift binary for %s exited %d: %s %s", cr.ns, p.code, clip(p.stdout), p.tail())
	}
	if err := expectReportInSync(&rep, n); err != nil {
		return p, fmt.Errorf("drift binary for %s: %w", cr.ns, err)
	}
	return p, nil
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFile(path, string(data))
}
