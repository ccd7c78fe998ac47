package reconcile

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
)

func (c *configRepo) owner(name string) kube.Owner {
	return desired.Owner(c.repo, fluxconfig.Ref{Namespace: "flux-system", Name: name})
}

// status is the recorded status of the Kustomization flux-system/name; nil
// when there is none.
func (c *configRepo) status(name string) *kube.KustomizationStatus {
	c.t.Helper()
	st, err := c.cluster.ReadStatus(context.Background(), c.owner(name))
	if err != nil {
		c.t.Fatal(err)
	}
	return st
}

// ready is the Ready of the last attempt of flux-system/name, as
// "<status> <reason>: <message>".
func (c *configRepo) ready(name string) string {
	c.t.Helper()
	st := c.status(name)
	if st == nil || st.LastAttempt == nil {
		c.t.Fatalf("%s has no attempt recorded: %+v", name, st)
	}
	return string(st.LastAttempt.Ready) + " " + st.LastAttempt.Reason + ": " + st.LastAttempt.Message
}

func configMapData(ns, name string) string {
	cm, err := kubernetes.NewForConfigOrDie(env.Config).CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return "error: " + err.Error()
	}
	return cm.Data["k"]
}

// Every attempt is recorded, failures included: Ready False with Flux's
// reason and the culprit in the message, while the last applied revision
// stays the last that was applied in full.
func TestStatusRecordsEveryAttempt(t *testing.T) {
	ctx := context.Background()
	ns := freshNS(t, "status")
	c := newConfigRepo(t, ns, map[string]string{
		"clusters/c/app.yaml":   kustomization("app", "./app", ns, "  prune: true\n"),
		"clusters/c/after.yaml": kustomization("after", "./after", ns, "  prune: true\n  dependsOn: [{name: app}]\n"),
		"app/cm.yaml":           configMapYAML("app"),
		"after/cm.yaml":         configMapYAML("after"),
	})
	res, err := c.reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good := kube.StatusRevision("main", res.Revision)
	for _, name := range []string{"app", "after"} {
		st := c.status(name)
		a := st.LastAttempt
		if a == nil || a.Revision != good || a.Duration <= 0 || a.At.IsZero() || st.LastAppliedRevision != good || st.LastAppliedAt.IsZero() {
			t.Fatalf("%s after a success: %+v (attempt %+v)", name, st, a)
		}
		if got, want := c.ready(name), "True ReconciliationSucceeded: Applied revision: "+good; got != want {
			t.Errorf("%s: Ready %q, want %q", name, got, want)
		}
	}

	tests := []struct {
		name  string
		files map[string]string
		// woken is the revision the message carries, for a pass that
		// fails before it reads the head.
		woken      string
		app, after string // the start of each Ready
		appCulprit string
	}{
		{
			name:  "a render error",
			files: map[string]string{"app/kustomization.yaml": "resources: [cm.yaml, missing.yaml]\n"},
			app:   "False BuildFailed: ", appCulprit: "missing.yaml",
			after: "False DependencyNotReady: not applied: its dependency flux-system/app failed",
		},
		{
			name:  "a dry-run refusal",
			files: map[string]string{"app/kustomization.yaml": "", "app/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_Valid}\ndata: {k: v}\n"},
			app:   "False ReconciliationFailed: ", appCulprit: "Not_Valid",
			after: "False DependencyNotReady: ",
		},
		{
			name:  "a config folder that cannot be read",
			files: map[string]string{"app/bad.yaml": "", "clusters/c/broken.yaml": "kind: [unclosed\n"},
			woken: "0123456789abcdef0123456789abcdef01234567",
			app:   "False ReconciliationFailed: ", appCulprit: "clusters/c/broken.yaml",
			after: "False ReconciliationFailed: reading Flux objects",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sha := c.commit(tt.files)
			attempted := kube.StatusRevision("main", sha)
			if tt.woken != "" {
				attempted = kube.StatusRevision("main", tt.woken)
			}
			_, err := c.rec.Reconcile(ctx, queue.Reconcile{Repository: c.repo.ID(), Branch: "main", Revision: tt.woken, Reason: queue.ReasonPush})
			if err == nil {
				t.Fatal("the reconcile passed")
			}
			if got := c.ready("app"); !strings.HasPrefix(got, tt.app) || !strings.Contains(got, tt.appCulprit) {
				t.Errorf("app: Ready %q, want %q... naming %q", got, tt.app, tt.appCulprit)
			}
			if got := c.ready("after"); !strings.HasPrefix(got, tt.after) {
				t.Errorf("after: Ready %q, want %q...", got, tt.after)
			}
			for _, name := range []string{"app", "after"} {
				if st := c.status(name); st.LastAttempt.Revision != attempted || st.LastAppliedRevision != good {
					t.Errorf("%s: attempted %q (want %q), applied %q (want %q, kept)", name, st.LastAttempt.Revision, attempted, st.LastAppliedRevision, good)
				}
			}
		})
	}

	fixed := c.commit(map[string]string{"clusters/c/broken.yaml": "", "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {k: fixed}\n"})
	if _, err := c.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app", "after"} {
		if st := c.status(name); st.LastAppliedRevision != kube.StatusRevision("main", fixed) || st.LastAttempt.Ready != metav1.ConditionTrue {
			t.Errorf("%s after the fix: applied %q, attempt %+v", name, st.LastAppliedRevision, st.LastAttempt)
		}
	}
}

// A health check that fails is HealthCheckFailed, naming what is not
// healthy; nothing counts as applied. (A timeout takes at least Flux's
// minimum of 30 s; a rollout past its progress deadline fails at once, on
// the same path.)
func TestFailedHealthCheckIsRecorded(t *testing.T) {
	ctx := context.Background()
	ns := freshNS(t, "status-health")
	cs := kubernetes.NewForConfigOrDie(env.Config)
	var d appsv1.Deployment
	if err := yaml.Unmarshal([]byte(soloDeployment), &d); err != nil {
		t.Fatal(err)
	}
	d.Name = "stuck"
	created, err := cs.AppsV1().Deployments(ns).Create(ctx, &d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No controllers run here: report the rollout stuck, as its controller would.
	created.Status = appsv1.DeploymentStatus{ObservedGeneration: created.Generation, Conditions: []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentProgressing, Status: "False", Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet \"stuck\" has timed out progressing."},
	}}
	if _, err := cs.AppsV1().Deployments(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	c := newConfigRepo(t, ns, map[string]string{
		"clusters/c/web.yaml": kustomization("web", "./web", ns, "  prune: true\n  healthChecks: [{kind: Deployment, name: stuck, namespace: "+ns+"}]\n"),
		"web/cm.yaml":         configMapYAML("web"),
	})
	if _, err := c.reconcile(ctx); err == nil {
		t.Fatal("the health check passed")
	}
	got := c.ready("web")
	if !strings.HasPrefix(got, "False HealthCheckFailed: ") || !strings.Contains(got, "Deployment/"+ns+"/stuck") {
		t.Errorf("Ready %q, want HealthCheckFailed naming Deployment/%s/stuck", got, ns)
	}
	if st := c.status("web"); st.LastAppliedRevision != "" {
		t.Errorf("applied %q although the health check failed", st.LastAppliedRevision)
	}
}

// `sluice suspend` is an emergency brake: a push is not applied until the
// mark is lifted; spec.suspend in Git shows on the status too; and a
// Kustomization that leaves Git while suspended in the cluster keeps its
// objects, as one suspended in Git does.
func TestSuspendedInTheCluster(t *testing.T) {
	ctx := context.Background()
	ns := freshNS(t, "status-suspend")
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {k: " + v + "}\n"
	}
	c := newConfigRepo(t, ns, map[string]string{
		"clusters/c/app.yaml":    kustomization("app", "./app", ns, "  prune: true\n"),
		"clusters/c/anchor.yaml": kustomization("anchor", "./anchor", ns, "  prune: true\n"),
		"app/cm.yaml":            cm("v1"),
		"anchor/cm.yaml":         configMapYAML("anchor"),
	})
	res, err := c.reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	applied := kube.StatusRevision("main", res.Revision)
	suspend := func(on bool) {
		t.Helper()
		if err := c.cluster.SetSuspended(ctx, c.owner("app"), on, "ops@example.com"); err != nil {
			t.Fatal(err)
		}
	}

	suspend(true)
	c.commit(map[string]string{"app/cm.yaml": cm("v2")})
	res, err = c.reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kr := result(res, "flux-system/app"); kr.Outcome != Skipped || !strings.Contains(kr.Reason, "suspended in the cluster by ops@example.com") ||
		!strings.Contains(kr.Reason, "`sluice resume kustomization app -n flux-system`") {
		t.Fatalf("suspended in the cluster: %+v", kr)
	}
	if got := configMapData(ns, "app"); got != "v1" {
		t.Errorf("the push was applied to a suspended Kustomization: k = %s", got)
	}
	if st := c.status("app"); !st.Suspended || st.LastAttempt.Revision != applied || st.LastAppliedRevision != applied {
		t.Errorf("status while suspended: %+v (attempt %+v)", st, st.LastAttempt)
	}

	suspend(false)
	res, err = c.reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := configMapData(ns, "app"); got != "v2" || result(res, "flux-system/app").Outcome != Applied {
		t.Errorf("after resume: k = %s, %+v", got, result(res, "flux-system/app"))
	}

	c.commit(map[string]string{"clusters/c/app.yaml": kustomization("app", "./app", ns, "  prune: true\n  suspend: true\n")})
	if _, err := c.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.status("app"); !st.IsSuspended() || st.Suspended || st.LastAttempt.Ready != metav1.ConditionTrue {
		t.Errorf("suspended in Git: %+v (attempt %+v), want SuspendedInGit and Ready kept", st, st.LastAttempt)
	}
	c.commit(map[string]string{"clusters/c/app.yaml": kustomization("app", "./app", ns, "  prune: true\n")})
	if _, err := c.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.status("app"); st.IsSuspended() {
		t.Errorf("resumed in Git, still suspended: %+v", st.LastAttempt)
	}

	suspend(true)
	c.commit(map[string]string{"clusters/c/app.yaml": ""})
	res, err = c.reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 1 || res.Removed[0].Outcome != Applied || !strings.Contains(res.Removed[0].Reason, "suspended in the cluster") {
		t.Fatalf("removed = %+v", res.Removed)
	}
	if !configMapExists(t, ns, "app") {
		t.Error("a Kustomization suspended in the cluster had its objects deleted when it left Git")
	}
	if c.inventory("app") != nil || c.status("app") != nil {
		t.Error("its inventory or status is left")
	}
}

// A status goes when its Kustomization leaves Git, with its inventory or
// without one (it never applied); another installation's status of the same
// name stays.
func TestStatusLeavesWithItsKustomization(t *testing.T) {
	ctx := context.Background()
	ns := freshNS(t, "status-gone")
	c := newConfigRepo(t, ns, map[string]string{
		"clusters/c/app.yaml":    kustomization("app", "./app", ns, "  prune: true\n"),
		"clusters/c/never.yaml":  kustomization("never", "./not/there", ns, "  prune: true\n"),
		"clusters/c/anchor.yaml": kustomization("anchor", "./anchor", ns, "  prune: true\n"),
		"app/cm.yaml":            configMapYAML("app"),
		"anchor/cm.yaml":         configMapYAML("anchor"),
	})
	if _, err := c.reconcile(ctx); err == nil {
		t.Fatal("never's render passed")
	}
	other := kube.Owner{Installation: "0000000000000other00", Namespace: "flux-system", Name: "never"}
	if err := c.cluster.RecordAttempt(ctx, other, kube.Attempt{Revision: "main@sha1:other", Ready: metav1.ConditionTrue, Reason: kube.ReasonSucceeded}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app", "never"} {
		if c.status(name) == nil {
			t.Fatalf("%s has no status", name)
		}
	}
	if c.inventory("never") != nil {
		t.Fatal("never has an inventory")
	}

	c.commit(map[string]string{"clusters/c/app.yaml": "", "clusters/c/never.yaml": ""})
	if _, err := c.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app", "never"} {
		if st := c.status(name); st != nil {
			t.Errorf("%s left Git; its status stays: %+v", name, st)
		}
	}
	if c.status("anchor") == nil {
		t.Error("the status of a Kustomization still in Git went")
	}
	if st, err := c.cluster.ReadStatus(ctx, other); err != nil || st == nil {
		t.Errorf("another installation's status went: %+v, %v", st, err)
	}
	if err := c.cluster.DeleteStatus(ctx, other); err != nil {
		t.Fatal(err)
	}
}

func result(res *Result, name string) KustomizationResult {
	for _, k := range res.Kustomizations {
		if k.Name == name {
			return k
		}
	}
	return KustomizationResult{}
}
