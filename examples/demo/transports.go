package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// The demo plays the transports between the functions: GitHub delivering a
// push webhook to the Function URL, EventBridge turning an ECR push into an
// event on the image queue, and Lambda's SQS poller handing queued messages to
// a function. Each is built as AWS or GitHub sends it.

var deliveries int

// pushDelivery is the Function URL request GitHub's webhook delivery of a push
// of sha to branch makes, signed with the webhook secret.
func pushDelivery(gitURL, before, sha string) events.LambdaFunctionURLRequest {
	deliveries++
	repo := map[string]any{
		"id": 123456789, "name": "task-tool-cluster-config", "full_name": "mamezou-tech/task-tool-cluster-config",
		"clone_url": gitURL, "html_url": strings.TrimSuffix(gitURL, ".git"), "default_branch": branch,
		"owner": map[string]any{"login": "mamezou-tech", "name": "mamezou-tech"},
	}
	payload, _ := json.Marshal(map[string]any{
		"ref": "refs/heads/" + branch, "before": before, "after": sha, "created": false, "deleted": false, "forced": false,
		"repository": repo, "pusher": map[string]any{"name": "demo-user", "email": "demo@example.com"},
		"head_commit": map[string]any{"id": sha, "message": "demo", "timestamp": time.Now().Format(time.RFC3339)},
	})
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write(payload)
	now := time.Now()
	return events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: "/", RawQueryString: "",
		Headers: map[string]string{
			"content-type":        "application/json",
			"user-agent":          "GitHub-Hookshot/sluice-demo",
			"x-github-event":      "push",
			"x-github-delivery":   fmt.Sprintf("demo-delivery-%d-%d", now.UnixNano(), deliveries),
			"x-hub-signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)),
		},
		RequestContext: events.LambdaFunctionURLRequestContext{
			AccountID: "anonymous", RequestID: fmt.Sprintf("demo-%d", deliveries), DomainName: "sluice-demo.lambda-url.us-east-1.on.aws",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST", Path: "/", Protocol: "HTTP/1.1", SourceIP: "140.82.115.34", UserAgent: "GitHub-Hookshot/sluice-demo"},
			Time: now.Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
		},
		Body: string(payload),
	}
}

// ecrEvent is the EventBridge event of an ECR image action.
func ecrEvent(action, tag string) events.CloudWatchEvent {
	detail, _ := json.Marshal(map[string]any{
		"result": "SUCCESS", "repository-name": imageRepo, "image-digest": "sha256:" + strings.Repeat("0", 64),
		"action-type": action, "image-tag": tag,
	})
	return events.CloudWatchEvent{
		Version: "0", ID: fmt.Sprintf("demo-ecr-%s-%s-%d", action, tag, time.Now().UnixNano()), DetailType: "ECR Image Action", Source: "aws.ecr",
		AccountID: registryID, Time: time.Now().UTC().Truncate(time.Second), Region: "ap-northeast-1", Resources: []string{}, Detail: detail,
	}
}

// githubStatuses speaks the one GitHub REST call Sluice makes (create a
// commit status) and remembers the statuses.
type githubStatuses struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []string // "<context>=<state> on <sha>"
}

func newGitHubStatuses() *githubStatuses {
	g := &githubStatuses{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if r.Method != http.MethodPost || len(parts) != 5 || parts[0] != "repos" || parts[3] != "statuses" {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") && !strings.HasPrefix(r.Header.Get("Authorization"), "token ") {
			http.Error(w, `{"message":"Requires authentication"}`, http.StatusUnauthorized)
			return
		}
		var st struct{ State, Context, Description string }
		if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
			http.Error(w, `{"message":"Problems parsing JSON"}`, http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.statuses = append(g.statuses, fmt.Sprintf("%s=%s on %s", st.Context, st.State, parts[4][:12]))
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": 1, "state": st.State, "context": st.Context, "description": st.Description})
	}))
	return g
}

func (g *githubStatuses) last() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.statuses) == 0 {
		return "none"
	}
	return g.statuses[len(g.statuses)-1]
}

// scheduledEvent is the event the drift function's EventBridge schedule sends.
func scheduledEvent() events.CloudWatchEvent {
	return events.CloudWatchEvent{
		Version: "0", ID: fmt.Sprintf("demo-schedule-%d", time.Now().UnixNano()), DetailType: "Scheduled Event", Source: "aws.events",
		AccountID: registryID, Time: time.Now().UTC().Truncate(time.Second), Region: awstest.SQSRegion,
		Resources: []string{"arn:aws:events:" + awstest.SQSRegion + ":" + registryID + ":rule/sluice-drift"}, Detail: json.RawMessage("{}"),
	}
}

// sendToQueue sends body to a queue of the SQS stand-in through the real SDK
// client, as EventBridge's SQS target does: the config branch's message group,
// content-based deduplication.
func sendToQueue(ctx context.Context, srv *awstest.SQSServer, name, gitURL string, body any) error {
	client := sqs.New(sqs.Options{
		Region: awstest.SQSRegion, BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSLUICEDEMO", "sluice-demo", ""),
	})
	id, err := repoid.Parse(gitURL)
	if err != nil {
		return err
	}
	_, err = queue.NewSender(client, srv.QueueURL(name)).Send(ctx, body, queue.GroupID(id, branch), "")
	return err
}
