package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-gitops/sluice/internal/kubetest"
)

// Each writer owns its keys: a failed attempt keeps the last applied
// revision, a drift check keeps Ready, a reconcile never lifts a suspension,
// and resuming removes only the suspension.
func TestStatusWritersKeepEachOthersKeys(t *testing.T) {
	ctx := context.Background()
	m := manager(t)
	owner := Owner{Installation: "5a7e5a7e5a7e5a7e5a7e", Namespace: "flux-system", Name: "status-" + freshNamespace(t)}
	at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)

	if st, err := m.ReadStatus(ctx, owner); err != nil || st != nil {
		t.Fatalf("ReadStatus before any record = %+v, %v; want nil, nil", st, err)
	}
	steps := []struct {
		name  string
		write func() error
	}{
		{"applied", func() error {
			return m.RecordApplied(ctx, owner, "main@sha1:aaa", at)
		}},
		{"suspended", func() error { return m.SetSuspended(ctx, owner, true, "arn:aws:iam::1:user/ops") }},
		{"failed attempt", func() error {
			return m.RecordAttempt(ctx, owner, Attempt{Revision: "main@sha1:bbb", At: at.Add(time.Minute), Duration: 1500 * time.Millisecond,
				Ready: metav1.ConditionFalse, Reason: ReasonBuildFailed, Message: "kustomize build failed: " + strings.Repeat("x", statusMaxMessage)})
		}},
		{"drift check", func() error {
			return m.RecordDriftCheck(ctx, owner, DriftCheck{At: at.Add(2 * time.Minute), Revision: "main@sha1:aaa", Drifted: 1, Extra: 1,
				Objects: []string{"Deployment/prod/web", "ConfigMap/prod/old"}})
		}},
	}
	for _, s := range steps {
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	st, err := m.ReadStatus(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	if st.LastAppliedRevision != "main@sha1:aaa" || !st.LastAppliedAt.Equal(at) {
		t.Errorf("applied = %q at %v; the failed attempt must keep it", st.LastAppliedRevision, st.LastAppliedAt)
	}
	if !st.Suspended || st.SuspendedBy != "arn:aws:iam::1:user/ops" {
		t.Errorf("suspended = %v by %q; an attempt must not lift it", st.Suspended, st.SuspendedBy)
	}
	a := st.LastAttempt
	if a == nil || a.Revision != "main@sha1:bbb" || a.Ready != metav1.ConditionFalse || a.Reason != ReasonBuildFailed || a.Duration != 1500*time.Millisecond {
		t.Fatalf("last attempt = %+v", a)
	}
	if len(a.Message) > statusMaxMessage+len("…") {
		t.Errorf("message of %d bytes is not capped at %d", len(a.Message), statusMaxMessage)
	}
	if d := st.LastDriftCheck; d == nil || d.InSync || d.Drifted != 1 || d.Extra != 1 || len(d.Objects) != 2 {
		t.Errorf("drift check = %+v", d)
	}

	if err := m.SetSuspended(ctx, owner, false, ""); err != nil {
		t.Fatal(err)
	}
	if err := m.RecordAttempt(ctx, owner, Attempt{Revision: "main@sha1:ccc", Ready: metav1.ConditionTrue, Reason: ReasonSucceeded, Message: "Applied revision: main@sha1:ccc"}); err != nil {
		t.Fatal(err)
	}
	st, err = m.ReadStatus(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	if st.Suspended || st.LastAttempt.Ready != metav1.ConditionTrue || st.LastAttempt.Duration != 0 || st.LastDriftCheck == nil || st.LastAppliedRevision != "main@sha1:aaa" {
		t.Errorf("after resume and a new attempt: %+v (attempt %+v)", st, st.LastAttempt)
	}

	list, err := m.ListStatuses(ctx, owner.Installation)
	if err != nil || len(list) != 1 || list[0].Owner != owner {
		t.Fatalf("ListStatuses = %+v, %v", list, err)
	}
	if other, err := m.ListStatuses(ctx, "0000000000other00000"); err != nil || len(other) != 0 {
		t.Errorf("another installation's ListStatuses = %+v, %v; want none", other, err)
	}
	if err := m.DeleteStatus(ctx, owner); err != nil {
		t.Fatal(err)
	}
	if st, err := m.ReadStatus(ctx, owner); err != nil || st != nil {
		t.Errorf("after DeleteStatus: %+v, %v", st, err)
	}
}

// A status name stays a valid ConfigMap name however long the
// Kustomization's name, and never collides with an inventory's.
func TestStatusName(t *testing.T) {
	long := Owner{Installation: "5a7e5a7e5a7e5a7e5a7e", Namespace: "flux-system", Name: strings.Repeat("n", 240)}
	short := Owner{Installation: "5a7e5a7e5a7e5a7e5a7e", Namespace: "flux-system", Name: "apps"}
	for _, o := range []Owner{long, short} {
		if n := StatusName(o); len(n) > 253 || n == InventoryName(o) || !strings.HasSuffix(n, ".status") {
			t.Errorf("StatusName(%s) = %q (%d chars)", o, n, len(n))
		}
	}
}

// Two attempts within one second read back as two: a reader waiting for a
// new attempt (`sluice reconcile`) would otherwise wait for ever.
func TestAttemptsWithinASecondDiffer(t *testing.T) {
	ctx := context.Background()
	m := manager(t)
	owner := Owner{Installation: "5a7e5a7e5a7e5a7e5a7e", Namespace: "flux-system", Name: "attempts-" + freshNamespace(t)}
	at := time.Date(2026, 12, 1, 3, 0, 0, 100e6, time.UTC)
	var seen []time.Time
	for _, a := range []time.Time{at, at.Add(300 * time.Millisecond)} {
		if err := m.RecordAttempt(ctx, owner, Attempt{Revision: "abc", At: a, Ready: metav1.ConditionTrue, Reason: ReasonSucceeded}); err != nil {
			t.Fatal(err)
		}
		st, err := m.ReadStatus(ctx, owner)
		if err != nil || st == nil || st.LastAttempt == nil {
			t.Fatalf("ReadStatus = %+v, %v", st, err)
		}
		seen = append(seen, st.LastAttempt.At)
	}
	if !seen[0].Equal(at) || seen[0].Equal(seen[1]) {
		t.Errorf("attempts at %v and %v read back as %v", at, at.Add(300*time.Millisecond), seen)
	}
}

// A suspension in Git, which the attempt writer records, reads back and
// counts as suspended; the next attempt without it clears it and nothing
// else. A drift check that failed reads back as failed, not in sync.
func TestStatusSuspendedInGitAndFailedDriftCheck(t *testing.T) {
	ctx := context.Background()
	m := manager(t)
	owner := Owner{Installation: "5a7e5a7e5a7e5a7e5a7e", Namespace: "flux-system", Name: "git-" + freshNamespace(t)}
	t.Cleanup(func() { _ = m.DeleteStatus(ctx, owner) })
	read := func() *KustomizationStatus {
		t.Helper()
		st, err := m.ReadStatus(ctx, owner)
		if err != nil || st == nil {
			t.Fatalf("ReadStatus = %+v, %v", st, err)
		}
		return st
	}
	if err := m.RecordAttempt(ctx, owner, Attempt{Revision: StatusRevision("main", "aaa"), Ready: metav1.ConditionTrue, Reason: ReasonSucceeded, SuspendedInGit: true}); err != nil {
		t.Fatal(err)
	}
	if err := m.RecordDriftCheck(ctx, owner, DriftCheck{Revision: "main@sha1:aaa", Error: "rendering: path not found"}); err != nil {
		t.Fatal(err)
	}
	st := read()
	if !st.LastAttempt.SuspendedInGit || !st.IsSuspended() || st.Suspended || st.InClusterSuspension() != "" || st.LastAttempt.Revision != "main@sha1:aaa" {
		t.Errorf("suspended in Git: %+v (attempt %+v)", st, st.LastAttempt)
	}
	if d := st.LastDriftCheck; d.InSync || d.Error != "rendering: path not found" {
		t.Errorf("failed drift check = %+v", d)
	}
	if err := m.RecordAttempt(ctx, owner, Attempt{Revision: "main@sha1:bbb", Ready: metav1.ConditionTrue, Reason: ReasonSucceeded}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetSuspended(ctx, owner, true, "ops"); err != nil {
		t.Fatal(err)
	}
	st = read()
	if st.LastAttempt.SuspendedInGit || !st.IsSuspended() || !strings.HasPrefix(st.InClusterSuspension(), "suspended in the cluster by ops at ") || st.LastDriftCheck.Error == "" {
		t.Errorf("resumed in Git, suspended in the cluster: %+v (attempt %+v)", st, st.LastAttempt)
	}
}

// The first record on a cluster creates sluice-system: a record tries its
// write first and creates the namespace only when it is missing.
func TestFirstStatusCreatesItsNamespace(t *testing.T) {
	fresh, err := kubetest.Start(kubetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fresh.Stop() })
	m, err := New(fresh.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	owner := Owner{Installation: "5a7e5a7e5a7e5a7e5a7e", Namespace: "flux-system", Name: "first"}
	if err := m.RecordAttempt(ctx, owner, Attempt{Revision: "main@sha1:aaa", Ready: metav1.ConditionUnknown, Reason: ReasonProgressing}); err != nil {
		t.Fatal(err)
	}
	if st, err := m.ReadStatus(ctx, owner); err != nil || st == nil || st.LastAttempt.Reason != ReasonProgressing {
		t.Errorf("ReadStatus = %+v, %v", st, err)
	}
}
