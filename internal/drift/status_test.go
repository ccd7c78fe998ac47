package drift

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
)

func (f *fixture) status() *kube.KustomizationStatus {
	f.t.Helper()
	st, err := f.cluster.ReadStatus(context.Background(), f.owner())
	if err != nil || st == nil {
		f.t.Fatalf("status: %+v, %v", st, err)
	}
	return st
}

func (f *fixture) owner() kube.Owner {
	return desired.Owner(f.repo, fluxconfig.Ref{Namespace: "flux-system", Name: f.ns})
}

func (f *fixture) replicas() int64 {
	f.t.Helper()
	d, err := f.dyn.Resource(deployGVR).Namespace(f.ns).Get(context.Background(), "prod-task-service", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	n, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	return n
}

// Drift records each check on the Kustomization's status (counts and object
// ids), keeps the reconcile's Ready, and leaves alone a Kustomization that
// `sluice suspend` marked: not checked, nothing queued, nothing corrected,
// until the mark is lifted.
func TestDriftRecordsItsCheckAndHonoursSuspension(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "drift-status")
	ns, head := f.ns, kube.StatusRevision("main", appliedRevision(f))

	f.drift(Correct)
	st := f.status()
	if d := st.LastDriftCheck; d == nil || !d.InSync || d.Revision != head || d.Drifted+d.Missing+d.Extra != 0 || len(d.Objects) != 0 || d.Error != "" {
		t.Fatalf("check in sync recorded as %+v", d)
	}
	if a := st.LastAttempt; a == nil || a.Ready != metav1.ConditionTrue || st.LastAppliedRevision != head {
		t.Errorf("the reconcile's record after a drift check: attempt %+v, applied %q", a, st.LastAppliedRevision)
	}

	f.tamper()
	f.drift(Detect)
	want := &kube.DriftCheck{At: f.status().LastDriftCheck.At, Revision: head, Drifted: 2, Missing: 1, Objects: []string{
		"ConfigMap/" + ns + "/prod-task-service-config-hb5m86c942", "Deployment/" + ns + "/prod-task-service", "Service/" + ns + "/prod-task-web"}}
	if diff := cmp.Diff(want, f.status().LastDriftCheck); diff != "" {
		t.Errorf("drift recorded (-want +got):\n%s", diff)
	}

	// Put things right, then suspend and tamper again.
	f.reconcile(nil)
	f.drift(Correct)
	if err := f.cluster.SetSuspended(ctx, f.owner(), true, "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	f.tamper()
	rep, _ := f.drift(Correct)
	if len(rep.Kustomizations) != 0 || rep.Queued || len(rep.Suspended) != 1 ||
		rep.Suspended[0].Name != "flux-system/"+ns || !strings.Contains(rep.Suspended[0].Reason, "suspended in the cluster by ops@example.com") {
		t.Fatalf("suspended in the cluster: report %+v", rep)
	}
	if msgs := f.sqs.Messages("reconcile.fifo"); len(msgs) != 0 {
		t.Errorf("%d reconciles queued for a suspended Kustomization", len(msgs))
	}
	if d := f.status().LastDriftCheck; !d.InSync {
		t.Errorf("a suspended Kustomization's check was recorded: %+v", d)
	}
	if n := f.replicas(); n != 5 {
		t.Errorf("replicas = %d: the suspended Kustomization was corrected", n)
	}

	if err := f.cluster.SetSuspended(ctx, f.owner(), false, ""); err != nil {
		t.Fatal(err)
	}
	rep, _ = f.drift(Correct)
	if len(notInSync(rep)) != 3 || !rep.Queued || len(rep.Suspended) != 0 {
		t.Fatalf("after resume: report %+v", rep)
	}
	if d := f.status().LastDriftCheck; d.InSync || d.Drifted != 2 || d.Missing != 1 {
		t.Errorf("after resume, recorded %+v", d)
	}
	f.reconcile([]string{"flux-system/" + ns})
	if n := f.replicas(); n != 3 {
		t.Errorf("replicas = %d after the queued correction", n)
	}
}

// A check that fails is recorded as failed, with why: never as in sync.
func TestDriftRecordsAFailedCheck(t *testing.T) {
	f := newFixture(t, "drift-status-fails")
	f.commit("Point the Kustomization at a folder that does not exist", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "path: ./app/overlays/prod", "path: ./app/overlays/gone")
	})
	if _, _, err := f.run(Correct); err == nil {
		t.Fatal("the check of a missing folder passed")
	}
	if d := f.status().LastDriftCheck; d == nil || d.InSync || !strings.Contains(d.Error, "gone") {
		t.Errorf("failed check recorded as %+v", d)
	}
}
