package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/reconcile"
)

// withQueues points the real SQS client at a stand-in holding the reconcile
// and image queues, as the stack creates them.
func withQueues(t *testing.T, o *opsInstall) *awstest.SQSServer {
	t.Helper()
	srv := awstest.NewSQSServer(awstest.SQSQueue{Name: "reconcile.fifo"}, awstest.SQSQueue{Name: "image.fifo", ContentBasedDeduplication: true})
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SQS", srv.URL())
	t.Setenv("AWS_REGION", awstest.SQSRegion)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSLUICECLI")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	o.vars[envReconcileQueue] = srv.QueueURL("reconcile.fifo")
	o.vars[envImageQueue] = srv.QueueURL("image.fifo")
	old := statusPoll
	statusPoll = 20 * time.Millisecond
	t.Cleanup(func() { statusPoll = old })
	return srv
}

// consume plays the reconcile function: it takes the one message the
// command queued and runs a real reconcile on it, which records its
// outcome in the status. It returns the message it consumed.
func consume(t *testing.T, o *opsInstall, srv *awstest.SQSServer) <-chan awstest.SQSMessage {
	done := make(chan awstest.SQSMessage, 1)
	go func() {
		defer close(done)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			msgs := srv.Take("reconcile.fifo")
			if len(msgs) == 0 {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			msg, err := queue.DecodeReconcile([]byte(msgs[0].Body))
			if err != nil {
				t.Errorf("the queued message breaks the contract: %v", err)
				return
			}
			_, _ = reconcile.New(o.repo, o.git, o.cluster, nil).Reconcile(context.Background(), msg)
			done <- msgs[0]
			return
		}
		t.Error("no message was queued")
	}()
	return done
}

func TestReconcileQueuesAndWaits(t *testing.T) {
	o := newOpsInstall(t)
	srv := withQueues(t, o)
	head, err := o.srv.Head(opsRepo, "main")
	if err != nil {
		t.Fatal(err)
	}
	consumed := consume(t, o, srv)
	stdout, stderr, code := o.sluice("reconcile", "kustomization", "task-tool")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	want := "► queueing a reconcile of Kustomization flux-system/task-tool at main@sha1:" + head + "\n" +
		"✔ reconcile queued (message "
	if !strings.HasPrefix(stderr, want) || !strings.HasSuffix(stderr, ")\n◎ waiting for Kustomization reconciliation\n"+
		"✔ Kustomization flux-system/task-tool applied revision main@sha1:"+head+"\n") || stdout != "" {
		t.Errorf("progress:\n%s\nstdout %q", stderr, stdout)
	}
	msg := <-consumed
	var body map[string]any
	json.Unmarshal([]byte(msg.Body), &body)
	wantBody := map[string]any{"repository": o.repo.ID(), "branch": "main", "revision": head, "reason": "manual", "kustomizations": []any{"flux-system/task-tool"}}
	if diff := cmp.Diff(wantBody, body); diff != "" {
		t.Errorf("message body (-want +got):\n%s", diff)
	}
	if msg.GroupID != queue.GroupID(o.repo.ID(), "main") || !strings.HasPrefix(msg.DeduplicationID, "manual-"+head+"-") {
		t.Errorf("group %q, dedup id %q", msg.GroupID, msg.DeduplicationID)
	}

	// Asked again at once, it is queued again (not dropped as a duplicate)
	// and waits for a new attempt.
	consumed = consume(t, o, srv)
	if _, stderr, code := o.sluice("reconcile", "source", "git", "task-tool"); code != 0 || !strings.Contains(stderr, "✔ Kustomization flux-system/task-tool applied") {
		t.Fatalf("reconcile source git: exit %d, stderr:\n%s", code, stderr)
	}
	if m, err := queue.DecodeReconcile([]byte((<-consumed).Body)); err != nil || len(m.Kustomizations) != 0 {
		t.Errorf("reconcile source git queued %+v, %v; want every Kustomization", m, err)
	}
}

// A failed attempt at the head exits 1 with its reason and the culprit.
func TestReconcileReportsAFailure(t *testing.T) {
	o := newOpsInstall(t)
	srv := withQueues(t, o)
	if _, err := o.srv.Commit(opsRepo, "main", "break the overlay", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "app/overlays/prod/kustomization.yaml"), "resources:", "resources:\n  - the-culprit.yaml")
	}); err != nil {
		t.Fatal(err)
	}
	consume(t, o, srv)
	_, stderr, code := o.sluice("reconcile", "ks", "task-tool")
	if code != exitFail || !strings.Contains(stderr, "✗ Kustomization flux-system/task-tool failed at main@sha1:") ||
		!strings.Contains(stderr, "BuildFailed: ") || !strings.Contains(stderr, "the-culprit.yaml") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// Without a consumer the wait ends at --timeout; an attempt at the head
// recorded before the request is not taken for its outcome.
func TestReconcileTimesOut(t *testing.T) {
	o := newOpsInstall(t)
	srv := withQueues(t, o)
	head, _ := o.srv.Head(opsRepo, "main")
	if err := o.cluster.RecordAttempt(context.Background(), o.owner(), kube.Attempt{
		Revision: head, At: time.Now().Add(-time.Minute), Ready: metav1.ConditionTrue, Reason: kube.ReasonSucceeded,
	}); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := o.sluice("reconcile", "kustomization", "task-tool", "--timeout", "500ms")
	if code != exitFail || !strings.Contains(stderr, "✗ timed out after 500ms waiting for the reconciliation of flux-system/task-tool") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if n := len(srv.Messages("reconcile.fifo")); n != 1 {
		t.Errorf("%d messages queued, want 1", n)
	}
}

// --local reconciles in this process; errors before queueing say what is
// wrong and queue nothing.
func TestReconcileLocalAndErrors(t *testing.T) {
	ctx := context.Background()
	o := newOpsInstall(t)
	_, stderr, code := o.sluice("reconcile", "kustomization", "task-tool", "--local")
	if code != 0 || !strings.Contains(stderr, "✔ Kustomization flux-system/task-tool applied revision main@sha1:") {
		t.Fatalf("--local: exit %d, stderr:\n%s", code, stderr)
	}
	if inv, err := o.cluster.Inventory(ctx, o.owner()); err != nil || inv == nil {
		t.Errorf("--local applied nothing: inventory %v, %v", inv, err)
	}

	srv := withQueues(t, o)
	if err := o.cluster.SetSuspended(ctx, o.owner(), true, "test"); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"unknown":   {[]string{"reconcile", "kustomization", "nope"}, "Kustomization flux-system/nope not found"},
		"suspended": {[]string{"reconcile", "kustomization", "task-tool"}, "is suspended"},
	} {
		if _, stderr, code := o.sluice(tc.args...); code != exitFail || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %q", name, code, stderr, tc.want)
		}
	}
	if n := len(srv.Messages("reconcile.fifo")); n != 0 {
		t.Errorf("%d messages queued for requests that failed", n)
	}
}

// `reconcile image update` queues a re-evaluation of the automation's
// policies on the image queue, in the contract's shape.
func TestReconcileImageUpdate(t *testing.T) {
	o := newOpsInstall(t)
	srv := withQueues(t, o)
	_, stderr, code := o.sluice("reconcile", "image", "update", "task-tool")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	msgs := srv.Messages("image.fifo")
	if len(msgs) != 1 {
		t.Fatalf("%d messages on the image queue", len(msgs))
	}
	m, err := queue.DecodeReevaluate([]byte(msgs[0].Body))
	if err != nil || m.Reason != queue.ReasonManual || !cmp.Equal(m.Policies, []string{"flux-system/task-service"}) {
		t.Errorf("queued %+v, %v", m, err)
	}
	if msgs[0].GroupID != queue.GroupID(o.repo.ID(), "main") {
		t.Errorf("group %q", msgs[0].GroupID)
	}
	if _, stderr, code := o.sluice("reconcile", "image", "update", "nope"); code != exitFail || !strings.Contains(stderr, "ImageUpdateAutomation flux-system/nope not found") {
		t.Errorf("unknown automation: exit %d, stderr %q", code, stderr)
	}
}
