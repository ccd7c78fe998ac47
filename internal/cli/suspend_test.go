package cli

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// Suspend marks the Kustomization in the cluster, naming who asked; `get`
// shows it; resume lifts it and queues a manual reconcile of it through
// the queue's contract.
func TestSuspendAndResume(t *testing.T) {
	vars, repo := installation(t, "https://github.com/o/suspend")
	ctx := context.Background()
	m := manager(t)
	apps := owner(repo, "flux-system", "apps")
	must(t, m.RecordAttempt(ctx, apps, attempt(revA, metav1.ConditionTrue, kube.ReasonSucceeded, "Applied revision: main@sha1:"+revA)))
	must(t, m.RecordApplied(ctx, apps, revA, at))

	_, stderr, code := run(t, vars, "suspend", "kustomization", "apps")
	if code != exitOK {
		t.Fatalf("suspend: exit %d, stderr %q", code, stderr)
	}
	wantOutput(t, "suspend", "► suspending kustomization apps in flux-system namespace\n✔ kustomization suspended\n", stderr)
	st, err := m.ReadStatus(ctx, apps)
	must(t, err)
	if !st.Suspended || st.SuspendedBy != "envtest (kubeconfig context envtest)" || st.SuspendedAt.IsZero() {
		t.Errorf("after suspend: suspended %v by %q at %v", st.Suspended, st.SuspendedBy, st.SuspendedAt)
	}
	if st.LastAppliedRevision != revA || st.LastAttempt == nil {
		t.Errorf("suspend changed what reconcile recorded: %+v", st)
	}
	out, _, _ := run(t, vars, "get", "ks", "apps")
	if !strings.Contains(out, "   True        True   ") {
		t.Errorf("get after suspend does not show SUSPENDED True:\n%s", out)
	}

	sqs := awstest.NewSQSServer(awstest.SQSQueue{Name: "reconcile.fifo"})
	t.Cleanup(sqs.Close)
	awsEnv(t, map[string]string{"SQS": sqs.URL()})
	vars[envReconcileQueue] = sqs.QueueURL("reconcile.fifo")
	_, stderr, code = run(t, vars, "resume", "ks", "apps")
	if code != exitOK {
		t.Fatalf("resume: exit %d, stderr %q", code, stderr)
	}
	msgs := sqs.Messages("reconcile.fifo")
	if len(msgs) != 1 {
		t.Fatalf("resume queued %d messages, want 1", len(msgs))
	}
	wantOutput(t, "resume", "► resuming kustomization apps in flux-system namespace\n✔ kustomization resumed\n◎ reconcile queued (message "+msgs[0].MessageID+")\n", stderr)
	got, err := queue.DecodeReconcile([]byte(msgs[0].Body))
	must(t, err)
	wantJSON(t, queue.Reconcile{Repository: "github.com/o/suspend", Branch: "main", Reason: queue.ReasonManual, Kustomizations: []string{"flux-system/apps"}}, got)
	if msgs[0].GroupID != queue.GroupID("github.com/o/suspend", "main") {
		t.Errorf("message group %q, want the branch's", msgs[0].GroupID)
	}
	if st, _ := m.ReadStatus(ctx, apps); st.Suspended || st.SuspendedBy != "" {
		t.Errorf("after resume: suspended %v by %q", st.Suspended, st.SuspendedBy)
	}
}

func TestSuspendAllAndRefusals(t *testing.T) {
	vars, repo := installation(t, "https://github.com/o/suspend-all")
	ctx := context.Background()
	m := manager(t)
	for _, o := range []kube.Owner{owner(repo, "flux-system", "a"), owner(repo, "flux-system", "b"), owner(repo, "team", "c")} {
		must(t, m.SaveInventory(ctx, kube.Inventory{Owner: o, Revision: revA}))
	}
	if _, stderr, code := run(t, vars, "suspend", "ks", "--all"); code != exitOK {
		t.Fatalf("suspend --all: exit %d, stderr %q", code, stderr)
	}
	for name, want := range map[kube.Owner]bool{owner(repo, "flux-system", "a"): true, owner(repo, "flux-system", "b"): true, owner(repo, "team", "c"): false} {
		st, err := m.ReadStatus(ctx, name)
		must(t, err)
		if got := st != nil && st.Suspended; got != want {
			t.Errorf("%s suspended: %v, want %v", name, got, want)
		}
	}
	// Without a queue, resume says so and succeeds.
	_, stderr, code := run(t, vars, "resume", "ks", "--all", "-A")
	if code != exitOK || !strings.Contains(stderr, "no reconcile queue (SLUICE_RECONCILE_QUEUE_URL)") {
		t.Errorf("resume without a queue: exit %d, stderr %q", code, stderr)
	}
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"suspend", "ks"}, exitUsage},
		{[]string{"suspend", "ks", "a", "--all"}, exitUsage},
		{[]string{"suspend", "ks", "nope"}, exitFail},
	} {
		if _, stderr, code := run(t, vars, tt.args...); code != tt.code {
			t.Errorf("sluice %v: exit %d (stderr %q), want %d", tt.args, code, stderr, tt.code)
		}
	}
}
