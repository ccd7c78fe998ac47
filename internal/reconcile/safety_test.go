package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/github"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// configRepo is a config repository on a real Git server, written file by
// file, with the GitRepository "src" (flux-system) that its Kustomizations use.
type configRepo struct {
	t       *testing.T
	srv     *gittest.Server
	name    string
	repo    desired.Repository
	rec     *Reconciler
	cluster *kube.Manager
}

func newConfigRepo(t *testing.T, name string, files map[string]string) *configRepo {
	t.Helper()
	srv, err := gittest.Start("x-access-token", "t0ken")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	repoName := name + ".git"
	url := srv.URL(repoName)
	files["clusters/c/src.yaml"] = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: src, namespace: flux-system}\n" +
		"spec: {interval: 1m, url: " + url + ", ref: {branch: main}}\n"
	if _, err := srv.Seed(repoName, "main", t.TempDir(), func(dir string) error { return writeFiles(dir, files) }); err != nil {
		t.Fatal(err)
	}
	git, err := gitrepo.New(url, gitrepo.Credentials{Password: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := kube.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	repo := desired.Repository{URL: url, Branch: "main", ConfigPath: "clusters/c"}
	return &configRepo{t: t, srv: srv, name: repoName, repo: repo, cluster: cluster, rec: New(repo, git, cluster, nil)}
}

// writeFiles writes files (path → content) under dir; an empty content
// removes the file.
func writeFiles(dir string, files map[string]string) error {
	var errs []error
	for name, body := range files {
		p := filepath.Join(dir, name)
		if body == "" {
			errs = append(errs, os.Remove(p))
			continue
		}
		errs = append(errs, os.MkdirAll(filepath.Dir(p), 0o755), os.WriteFile(p, []byte(body), 0o644))
	}
	return errors.Join(errs...)
}

func (c *configRepo) commit(files map[string]string) string {
	c.t.Helper()
	sha, err := c.srv.Commit(c.name, "main", "change", func(dir string) error { return writeFiles(dir, files) })
	if err != nil {
		c.t.Fatal(err)
	}
	return sha
}

func (c *configRepo) reconcile(ctx context.Context) (*Result, error) {
	return c.rec.Reconcile(ctx, queue.Reconcile{Repository: c.repo.ID(), Branch: "main", Reason: queue.ReasonPush})
}

func (c *configRepo) inventory(name string) *kube.Inventory {
	c.t.Helper()
	inv, err := c.cluster.Inventory(context.Background(), desired.Owner(c.repo, fluxconfig.Ref{Namespace: "flux-system", Name: name}))
	if err != nil {
		c.t.Fatal(err)
	}
	return inv
}

// kustomization is a Flux v1 Kustomization of src; extra is added to its spec.
func kustomization(name, path, targetNamespace, extra string) string {
	return fmt.Sprintf("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: %s, namespace: flux-system}\n"+
		"spec:\n  interval: 10m\n  path: %s\n  targetNamespace: %s\n  sourceRef: {kind: GitRepository, name: src}\n%s", name, path, targetNamespace, extra)
}

func configMapYAML(name string, finalizers ...string) string {
	meta := "{name: " + name + "}"
	if len(finalizers) > 0 {
		meta = "{name: " + name + ", finalizers: [" + strings.Join(finalizers, ", ") + "]}"
	}
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: " + meta + "\ndata: {k: v}\n"
}

func freshNS(t *testing.T, name string) string {
	t.Helper()
	ns := fmt.Sprintf("%s-%d", name, time.Now().UnixNano()%1000000)
	if err := kubetest.CreateNamespace(context.Background(), env.Config, ns); err != nil {
		t.Fatal(err)
	}
	return ns
}

func configMapExists(t *testing.T, ns, name string) bool {
	t.Helper()
	_, err := kubernetes.NewForConfigOrDie(env.Config).CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// A Kustomization that leaves Git has its objects handled as its
// deletionPolicy says, with Flux's semantics.
func TestDeletionPolicy(t *testing.T) {
	tests := []struct {
		policy      string // "" for none
		prune       bool
		suspend     bool
		wantDeleted bool
	}{
		{policy: "", prune: true, wantDeleted: true},
		{policy: "", prune: false, wantDeleted: false},
		{policy: "MirrorPrune", prune: true, wantDeleted: true},
		{policy: "MirrorPrune", prune: false, wantDeleted: false},
		{policy: "Delete", prune: false, wantDeleted: true},
		{policy: "WaitForTermination", prune: false, wantDeleted: true},
		{policy: "Orphan", prune: true, wantDeleted: false},
		{policy: "Delete", prune: true, suspend: true, wantDeleted: false},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("policy %q prune %v suspend %v", tt.policy, tt.prune, tt.suspend)
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ns := freshNS(t, "delpol")
			spec := fmt.Sprintf("  prune: %v\n", tt.prune)
			if tt.policy != "" {
				spec += "  deletionPolicy: " + tt.policy + "\n"
			}
			c := newConfigRepo(t, ns, map[string]string{
				"clusters/c/app.yaml":    kustomization("app", "./app", ns, spec),
				"clusters/c/anchor.yaml": kustomization("anchor", "./anchor", ns, "  prune: true\n"),
				"app/cm.yaml":            configMapYAML("app"),
				"anchor/cm.yaml":         configMapYAML("anchor"),
			})
			if _, err := c.reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			if tt.suspend {
				c.commit(map[string]string{"clusters/c/app.yaml": kustomization("app", "./app", ns, spec+"  suspend: true\n")})
				if _, err := c.reconcile(ctx); err != nil {
					t.Fatal(err)
				}
			}
			c.commit(map[string]string{"clusters/c/app.yaml": ""})
			res, err := c.reconcile(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Removed) != 1 || res.Removed[0].Name != "flux-system/app" || res.Removed[0].Outcome != Applied {
				t.Fatalf("removed = %+v", res.Removed)
			}
			if got := configMapExists(t, ns, "app"); got == tt.wantDeleted {
				t.Errorf("ConfigMap exists = %v, want deleted = %v (%s)", got, tt.wantDeleted, res.Removed[0].Reason)
			}
			if c.inventory("app") != nil {
				t.Error("the inventory is left")
			}
			if !configMapExists(t, ns, "anchor") {
				t.Error("another Kustomization's object was deleted")
			}
		})
	}
}

// WaitForTermination waits until the objects are gone: an object held by a
// finalizer makes the removal fail after the Kustomization's timeout (30 s,
// Flux's floor), where Delete does not wait.
func TestWaitForTerminationWaits(t *testing.T) {
	ctx := context.Background()
	for _, policy := range []string{"Delete", "WaitForTermination"} {
		t.Run(policy, func(t *testing.T) {
			ns := freshNS(t, "wft")
			c := newConfigRepo(t, ns, map[string]string{
				"clusters/c/app.yaml":    kustomization("app", "./app", ns, "  prune: true\n  timeout: 30s\n  deletionPolicy: "+policy+"\n"),
				"clusters/c/anchor.yaml": kustomization("anchor", "./anchor", ns, "  prune: true\n"),
				"app/cm.yaml":            configMapYAML("held", "example.com/hold"),
				"anchor/cm.yaml":         configMapYAML("anchor"),
			})
			if _, err := c.reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				patch := []byte(`{"metadata":{"finalizers":null}}`)
				kubernetes.NewForConfigOrDie(env.Config).CoreV1().ConfigMaps(ns).Patch(ctx, "held", types.MergePatchType, patch, metav1.PatchOptions{})
			})
			c.commit(map[string]string{"clusters/c/app.yaml": ""})
			res, err := c.reconcile(ctx)
			if len(res.Removed) != 1 {
				t.Fatalf("removed = %+v, %v", res.Removed, err)
			}
			got := res.Removed[0]
			if policy == "Delete" {
				if err != nil || got.Outcome != Applied {
					t.Fatalf("Delete: %+v, %v; want no wait", got, err)
				}
				return
			}
			if err == nil || got.Outcome != Failed || !strings.Contains(got.Reason, "not terminated after 30s") || !strings.Contains(got.Reason, "held") {
				t.Fatalf("WaitForTermination: %+v, %v; want a failure naming the object still terminating", got, err)
			}
		})
	}
}

// A config folder that still exists but defines no Kustomization, while the
// installation has inventories, deletes nothing unless that is allowed.
func TestEmptyConfigFolderIsRefused(t *testing.T) {
	ctx := context.Background()
	ns := freshNS(t, "emptycfg")
	c := newConfigRepo(t, ns, map[string]string{
		"clusters/c/app.yaml": kustomization("app", "./app", ns, "  prune: true\n"),
		"app/cm.yaml":         configMapYAML("app"),
	})
	if _, err := c.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	c.commit(map[string]string{"clusters/c/app.yaml": ""})
	_, err := c.reconcile(ctx)
	var rerr *Error
	if !errors.As(err, &rerr) || !strings.Contains(err.Error(), "defines no Kustomization") {
		t.Fatalf("error = %v, want the empty config folder refused", err)
	}
	if !configMapExists(t, ns, "app") || c.inventory("app") == nil {
		t.Fatal("objects or inventory deleted although the empty folder was refused")
	}
	c.rec.AllowEmpty = true
	if _, err := c.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if configMapExists(t, ns, "app") || c.inventory("app") != nil {
		t.Error("with AllowEmpty the objects and inventory should be gone")
	}
}

type recordedStatuses struct {
	mu  sync.Mutex
	got map[string]github.Status
}

func (r *recordedStatuses) SetStatus(_ context.Context, _, _ string, st github.Status) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string]github.Status{}
	}
	r.got[st.Kustomization] = st
	return nil
}

// A dependsOn naming a Kustomization that does not exist blocks only its
// dependents, with the reason on their result and commit status; the others
// apply, and removals still run.
func TestMissingDependencyBlocksOnlyDependents(t *testing.T) {
	ctx := context.Background()
	ns := freshNS(t, "missingdep")
	c := newConfigRepo(t, ns, map[string]string{
		"clusters/c/keep.yaml": kustomization("keep", "./keep", ns, "  prune: true\n"),
		"clusters/c/gone.yaml": kustomization("gone", "./gone", ns, "  prune: true\n"),
		"keep/cm.yaml":         configMapYAML("keep"),
		"gone/cm.yaml":         configMapYAML("gone"),
		"orphan/cm.yaml":       configMapYAML("needs-ghost"),
	})
	if _, err := c.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	statuses := &recordedStatuses{}
	c.rec.statuses = statuses
	c.commit(map[string]string{
		"clusters/c/gone.yaml":  "",
		"clusters/c/needs.yaml": kustomization("needs-ghost", "./orphan", ns, "  prune: true\n  dependsOn: [{name: ghost}]\n"),
		"clusters/c/after.yaml": kustomization("after", "./orphan", ns, "  prune: true\n  dependsOn: [{name: needs-ghost}]\n"),
	})
	res, err := c.reconcile(ctx)
	var rerr *Error
	if !errors.As(err, &rerr) {
		t.Fatalf("error = %v, want *Error for the blocked Kustomizations", err)
	}
	got := map[string]string{}
	for _, k := range append(res.Kustomizations, res.Removed...) {
		got[k.Name] = k.Outcome + ": " + k.Reason
	}
	want := map[string]string{
		"flux-system/keep":        "applied: 1 unchanged",
		"flux-system/needs-ghost": "failed: not applied: dependency flux-system/ghost is not defined",
		"flux-system/after":       "failed: not applied: dependency flux-system/needs-ghost is blocked (dependency flux-system/ghost is not defined)",
		"flux-system/gone":        "applied: removed from Git: 1 deleted (deletionPolicy MirrorPrune), inventory deleted",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if configMapExists(t, ns, "needs-ghost") || configMapExists(t, ns, "gone") || !configMapExists(t, ns, "keep") {
		t.Error("cluster state: want keep only")
	}
	st := statuses.got["flux-system/needs-ghost"]
	if st.State != github.StateFailure || !strings.Contains(st.Description, "ghost is not defined") {
		t.Errorf("commit status of needs-ghost = %+v", st)
	}
}

// A reconcile that cannot finish before the function's deadline stops with
// a margin, records every object that may exist in the inventory, and has
// its message come back at once; the next invocation finishes the work.
func TestDeadlineStopsWithAMargin(t *testing.T) {
	const n = 4000
	ns := freshNS(t, "deadline")
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%04d}\ndata: {k: v}\n", i)
	}
	c := newConfigRepo(t, ns, map[string]string{
		"clusters/c/big.yaml": kustomization("big", "./big", ns, "  prune: true\n"),
		"big/all.yaml":        b.String(),
	})
	// Render once, so the deadline falls on the apply rather than on
	// kustomize (the render of a revision is remembered in the process).
	snap, err := desired.Open(context.Background(), c.rec.git, c.repo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snap.Render(context.Background(), snap.Config.Kustomizations[0], nil); err != nil {
		t.Fatal(err)
	}
	snap.Close()

	srv := awstest.NewSQSServer(awstest.SQSQueue{Name: "reconcile.fifo", VisibilityTimeout: 30 * time.Minute})
	defer srv.Close()
	client := sqs.New(sqs.Options{Region: awstest.SQSRegion, BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	sender := queue.NewSender(client, srv.QueueURL("reconcile.fifo"))
	msg := queue.Reconcile{Repository: c.repo.ID(), Branch: "main", Reason: queue.ReasonPush}
	if _, err := sender.Send(context.Background(), msg, queue.GroupID(msg.Repository, "main"), "m1"); err != nil {
		t.Fatal(err)
	}
	receive := func() []awstest.SQSMessage { return receiveStored(t, client, srv, "reconcile.fifo") }
	received := receive()
	if len(received) != 1 {
		t.Fatalf("received %d messages", len(received))
	}

	deadline := time.Now().Add(4 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	h := NewHandler(c.rec)
	h.Retry = sender
	ev, _ := json.Marshal(awstest.SQSEvent(received...))
	resp, err := h.Handle(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("response = %+v, %v; want the message reported failed", resp, err)
	}
	if ctx.Err() != nil {
		t.Fatal("the handler returned after the function's deadline")
	}
	if got := receive(); len(got) != 1 {
		t.Error("the interrupted message is not visible again at once")
	}

	// Every ConfigMap that exists now is in the inventory.
	inv := c.inventory("big")
	if inv == nil {
		t.Fatal("no inventory after the interrupted apply")
	}
	recorded := map[string]bool{}
	for _, e := range inv.Entries {
		recorded[e.ID] = true
	}
	list, err := kubernetes.NewForConfigOrDie(env.Config).CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for _, cm := range list.Items {
		if !strings.HasPrefix(cm.Name, "cm-") {
			continue
		}
		applied++
		if id := ns + "_" + cm.Name + "__ConfigMap"; !recorded[id] {
			t.Errorf("%s exists but is not in the inventory", id)
		}
	}
	if applied == n {
		t.Fatalf("all %d objects were applied within the window: the test needs a larger overlay", n)
	}
	t.Logf("interrupted after %d of %d objects", applied, n)

	res, err := c.reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.inventory("big").Entries) != n || len(res.Kustomizations) != 1 || res.Kustomizations[0].Outcome != Applied {
		t.Errorf("the next reconcile did not finish: %+v", res.Kustomizations)
	}
}

// A push during a health wait cancels it: the new head, which fixes the
// rollout, is applied in the same invocation, in seconds rather than after
// the health check's timeout.
func TestNewPushCancelsTheHealthWait(t *testing.T) {
	ns := freshNS(t, "healthcancel")
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n" +
		"  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n"
	c := newConfigRepo(t, ns, map[string]string{
		// envtest runs no controllers: the Deployment never becomes Ready.
		"clusters/c/web.yaml": kustomization("web", "./web", ns, "  prune: true\n  timeout: 5m\n  healthChecks: [{apiVersion: apps/v1, kind: Deployment, name: web, namespace: "+ns+"}]\n"),
		"web/deploy.yaml":     deploy,
		"web/cm.yaml":         configMapYAML("web"),
	})
	c.rec.HeadPoll = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	fixed := make(chan string, 1)
	go func() {
		cs := kubernetes.NewForConfigOrDie(env.Config)
		for ctx.Err() == nil {
			if _, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{}); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		sha, err := c.srv.Commit(c.name, "main", "Check the ConfigMap instead", func(dir string) error {
			return writeFiles(dir, map[string]string{"clusters/c/web.yaml": kustomization("web", "./web", ns,
				"  prune: true\n  timeout: 5m\n  healthChecks: [{apiVersion: v1, kind: ConfigMap, name: web, namespace: "+ns+"}]\n")})
		})
		if err != nil {
			sha = "commit failed: " + err.Error()
		}
		fixed <- sha
	}()
	res, err := c.reconcile(ctx)
	head := <-fixed
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if res.Revision != head {
		t.Errorf("revision %s, want the fix %s applied in the same invocation", res.Revision, head)
	}
}

// A Kustomization that Sluice cannot apply as Flux would, because a field it
// cannot honour is set (kubeConfig) or its spec cannot be read (a typo),
// fails alone: nothing of it is applied or pruned, its inventory stays, and
// the others go on; an image object that cannot be read stops nothing here.
func TestUnusableKustomizationFailsAlone(t *testing.T) {
	tests := []struct {
		name, spec, wantReason string
	}{
		{name: "refused field", spec: "  prune: true\n  kubeConfig: {secretRef: {name: remote}}\n", wantReason: "spec.kubeConfig: Sluice applies only to the cluster it is configured for"},
		{name: "decryption without keys", spec: "  prune: true\n  decryption: {provider: sops}\n", wantReason: "spec.decryption is set, and this function decrypts nothing"},
		{name: "unreadable spec", spec: "  prune: yes-please\n", wantReason: "spec.prune"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ns := freshNS(t, "unusable")
			c := newConfigRepo(t, ns, map[string]string{
				"clusters/c/app.yaml": kustomization("app", "./app", ns, "  prune: true\n"),
				"app/cm.yaml":         configMapYAML("app"),
				"other/cm.yaml":       configMapYAML("other"),
			})
			if _, err := c.reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			c.commit(map[string]string{
				"clusters/c/app.yaml":    kustomization("app", "./app", ns, tt.spec),
				"clusters/c/other.yaml":  kustomization("other", "./other", ns, "  prune: true\n"),
				"clusters/c/policy.yaml": "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata: {name: p, namespace: flux-system}\nspec: {imageRepositoryRef: {name: r}}\n",
				"app/cm.yaml":            configMapYAML("app-v2"),
			})
			res, err := c.reconcile(ctx)
			var rerr *Error
			if !errors.As(err, &rerr) || len(rerr.Failed) != 1 || rerr.Failed[0].Name != "flux-system/app" || !strings.Contains(rerr.Failed[0].Reason, tt.wantReason) {
				t.Fatalf("error = %v, want app alone failed naming %q", err, tt.wantReason)
			}
			if len(res.Removed) != 0 || c.inventory("app") == nil {
				t.Errorf("app was handled as removed: %+v", res.Removed)
			}
			if !configMapExists(t, ns, "app") || configMapExists(t, ns, "app-v2") || !configMapExists(t, ns, "other") {
				t.Error("cluster state: want app kept as it was, app-v2 not applied, other applied")
			}
		})
	}
}

// A suspended GitRepository stops applying from it, as in Flux: its
// Kustomizations are skipped (nothing applied or pruned) until it resumes.
func TestSuspendedSourceStopsApplying(t *testing.T) {
	ctx := context.Background()
	ns := freshNS(t, "srcsuspend")
	c := newConfigRepo(t, ns, map[string]string{
		"clusters/c/app.yaml": kustomization("app", "./app", ns, "  prune: true\n"),
		"app/cm.yaml":         configMapYAML("v1"),
	})
	if _, err := c.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	suspended := "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: src, namespace: flux-system}\n" +
		"spec: {interval: 1m, url: " + c.repo.URL + ", ref: {branch: main}, suspend: true}\n"
	c.commit(map[string]string{"clusters/c/src.yaml": suspended, "app/cm.yaml": configMapYAML("v2")})
	res, err := c.reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Kustomizations) != 1 || res.Kustomizations[0].Outcome != Skipped || !strings.Contains(res.Kustomizations[0].Reason, "flux-system/src is suspended") {
		t.Fatalf("result = %+v, want app skipped for its suspended source", res.Kustomizations)
	}
	if !configMapExists(t, ns, "v1") || configMapExists(t, ns, "v2") {
		t.Error("a suspended source's change was applied or pruned")
	}
}
