package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/queue"
)

const (
	testSecret = "sluice-test-secret"
	fixtureURL = "https://github.com/mamezou-tech/task-tool-cluster-config"
	fixtureID  = "github.com/mamezou-tech/task-tool-cluster-config"
	queueName  = "sluice-reconcile.fifo"
	revision   = "7d2a9c4e1b6f8a3d5c0e9b2f4a6d8c1e3b5f7a90"
	zeroSHA    = "0000000000000000000000000000000000000000"
)

// startSQS starts the SQS stand-in with the reconcile queue and returns it
// with a real SDK client pointed at it.
func startSQS(t testing.TB) (*awstest.SQSServer, *sqs.Client) {
	t.Helper()
	srv := awstest.NewSQSServer(awstest.SQSQueue{Name: queueName})
	t.Cleanup(srv.Close)
	client := sqs.New(sqs.Options{
		Region:           awstest.SQSRegion,
		BaseEndpoint:     aws.String(srv.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDWEBHOOKTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
	return srv, client
}

func newHandler(t testing.TB, gitURL, branch string, q Queue) *Handler {
	t.Helper()
	h, err := New(Config{Repo: configrepo.Repository{URL: gitURL, Branch: branch}, Secret: testSecret, QueueURL: "unused"}, q)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// pushPayload is a push event payload in GitHub's shape for the repository
// whose web URL is htmlURL.
func pushPayload(htmlURL, ref, after string, deleted bool) string {
	u, _ := url.Parse(htmlURL)
	path := strings.TrimPrefix(u.Path, "/")
	name := path[strings.LastIndex(path, "/")+1:]
	p := map[string]any{
		"ref": ref, "before": "3c1f0e9d8b7a6f5e4d3c2b1a09f8e7d6c5b4a392", "after": after,
		"created": false, "deleted": deleted, "forced": false, "base_ref": nil,
		"repository": map[string]any{
			"id": 583920174, "name": name, "full_name": path, "private": false,
			"html_url":   htmlURL,
			"git_url":    "git://" + u.Host + "/" + path + ".git",
			"ssh_url":    "git@" + u.Host + ":" + path + ".git",
			"clone_url":  htmlURL + ".git",
			"created_at": 1672300000, "pushed_at": 1773310529, "default_branch": "main",
		},
		"pusher": map[string]any{"name": "kudoh", "email": "kudoh@example.com"},
		"sender": map[string]any{"login": "kudoh", "id": 12345678, "type": "User"},
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func sign256(body string) string {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func sign1(body string) string {
	m := hmac.New(sha1.New, []byte(testSecret))
	m.Write([]byte(body))
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// delivery describes one webhook request; request turns it into the event
// a Function URL would hand the function.
type delivery struct {
	method      string // POST when empty
	event       string
	id          string
	contentType string // application/json when empty
	payload     string
	form        bool   // send payload= form-encoded
	signature   string // sign256 of the body when empty, unless unsigned
	unsigned    bool
	sha1Only    bool
	base64      bool
	headers     map[string]string // extra or replacing headers
}

func (d delivery) request() events.LambdaFunctionURLRequest {
	body, contentType := d.payload, d.contentType
	if d.form {
		body = url.Values{"payload": {d.payload}}.Encode()
		if contentType == "" {
			contentType = "application/x-www-form-urlencoded"
		}
	}
	if contentType == "" {
		contentType = "application/json"
	}
	h := map[string]string{
		"content-type": contentType, "user-agent": "GitHub-Hookshot/3c4d5e6",
		"x-github-event": d.event, "x-github-delivery": d.id,
	}
	switch {
	case d.sha1Only:
		h["x-hub-signature"] = sign1(body)
	case d.signature != "":
		h["x-hub-signature-256"] = d.signature
	case !d.unsigned:
		h["x-hub-signature-256"] = sign256(body)
		h["x-hub-signature"] = sign1(body)
	}
	for k, v := range d.headers {
		if v == "" {
			delete(h, k)
			continue
		}
		h[k] = v
	}
	method := d.method
	if method == "" {
		method = "POST"
	}
	if d.base64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	req := events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: "/", Headers: h, Body: body, IsBase64Encoded: d.base64,
		RequestContext: events.LambdaFunctionURLRequestContext{
			AccountID: "anonymous", RequestID: "req-1", DomainName: "abc.lambda-url.us-east-1.on.aws",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: method, Path: "/", Protocol: "HTTP/1.1", SourceIP: "140.82.115.34"},
		},
	}
	return req
}

// invoke runs h the way Lambda does: JSON event in, JSON result out.
func invoke(t testing.TB, h *Handler, event []byte) (events.LambdaFunctionURLResponse, Response, error) {
	t.Helper()
	out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), event)
	if err != nil {
		return events.LambdaFunctionURLResponse{}, Response{}, err
	}
	var resp events.LambdaFunctionURLResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("result %s is not a Function URL response: %v", out, err)
	}
	var body Response
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("response body %q is not JSON: %v", resp.Body, err)
	}
	return resp, body, nil
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sentMessage is one Send call to a recordingQueue.
type sentMessage struct {
	Body         queue.Reconcile
	Group, Dedup string
}

// recordingQueue is a Queue that keeps what it is sent, or fails with err.
type recordingQueue struct {
	mu   sync.Mutex
	sent []sentMessage
	err  error
}

func (q *recordingQueue) Send(_ context.Context, body any, group, dedup string) (string, error) {
	if q.err != nil {
		return "", q.err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := body.(queue.Reconcile)
	if !ok {
		return "", fmt.Errorf("recordingQueue: body is a %T, not a queue.Reconcile", body)
	}
	q.sent = append(q.sent, sentMessage{Body: m, Group: group, Dedup: dedup})
	return "id", nil
}
