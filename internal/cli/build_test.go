package cli

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

func decodeObject(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, doc)
	}
	return &unstructured.Unstructured{Object: m}
}

func decodeStream(t *testing.T, stream string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(stream, "\n---\n") {
		out = append(out, decodeObject(t, doc))
	}
	return out
}

// `sluice build` prints the objects the reconcile function renders from the
// same commit, ownership labels included, and they are what it applies: the
// inventory lists them, and a dry-run of them against the cluster after the
// reconcile changes nothing.
func TestBuildRendersWhatReconcileApplies(t *testing.T) {
	ctx := context.Background()
	o := newOpsInstall(t)
	stdout, stderr, code := o.sluice("build", "kustomization", "task-tool", "--path", o.dir, "--dry-run")
	if code != 0 {
		t.Fatalf("build exited %d: %s", code, stderr)
	}
	built := decodeStream(t, stdout)

	snap, err := desired.Open(ctx, o.git, o.repo)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	want, err := snap.Render(ctx, snap.Config.Kustomizations[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(plain(want), plain(built)); diff != "" {
		t.Fatalf("build differs from reconcile's render (-reconcile +build):\n%s", diff)
	}

	o.reconcile()
	inv, err := o.cluster.Inventory(ctx, o.owner())
	if err != nil || inv == nil {
		t.Fatalf("inventory = %v, %v", inv, err)
	}
	var applied, printed []string
	for _, e := range inv.Entries {
		applied = append(applied, e.ID)
	}
	for _, obj := range built {
		printed = append(printed, kube.EntryFor(obj).ID)
	}
	sort.Strings(applied)
	sort.Strings(printed)
	if diff := cmp.Diff(applied, printed); diff != "" {
		t.Errorf("build printed other objects than reconcile applied (-applied +built):\n%s", diff)
	}
	diffs, err := o.cluster.Diff(ctx, built, kube.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if d.Status != kube.InSync {
			t.Errorf("%s is %s against what reconcile applied (fields %v)", d.ID, d.Status, d.Fields)
		}
	}
}

// postBuild.substituteFrom reads the cluster; --dry-run needs no cluster
// and leaves it out, as `flux build --dry-run` does.
func TestBuildSubstituteFrom(t *testing.T) {
	ctx := context.Background()
	o := newOpsInstall(t)
	if err := kubetest.CreateNamespace(ctx, env.Config, "flux-system"); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(env.Config)
	cmName := "vars-" + o.ns
	if _, err := cs.CoreV1().ConfigMaps("flux-system").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: cmName}, Data: map[string]string{"greeting": "hello-from-the-cluster"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ks := filepath.Join(o.dir, "clusters/prod/task-tool-kustomization.yaml")
	if err := gittest.ReplaceInFile(ks, "  prune: true", "  prune: true\n  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: "+cmName); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(o.dir, "app/overlays/prod/db-secret.yaml")
	if err := gittest.ReplaceInFile(secret, "  name: db", "  name: db\n  annotations:\n    greeting: ${greeting:=unset}"); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := o.sluice("build", "kustomization", "task-tool", "--path", o.dir)
	if code != 0 || !strings.Contains(stdout, "greeting: hello-from-the-cluster") {
		t.Errorf("build exited %d, stderr %q; want the cluster's variable in:\n%s", code, stderr, stdout)
	}

	noCluster := map[string]string{}
	for k, v := range o.vars {
		if k != "KUBECONFIG" {
			noCluster[k] = v
		}
	}
	noCluster["KUBECONFIG"] = filepath.Join(t.TempDir(), "absent")
	stdout, stderr, code = run(t, noCluster, "build", "kustomization", "task-tool", "--path", o.dir, "--dry-run")
	// Without substituteFrom there are no variables, and (as in Flux) no
	// substitution runs.
	if code != 0 || !strings.Contains(stdout, "greeting: ${greeting:=unset}") {
		t.Errorf("build --dry-run without a cluster exited %d, stderr %q; want the variable left in:\n%s", code, stderr, stdout)
	}
	if _, stderr, code = run(t, noCluster, "build", "kustomization", "task-tool", "--path", o.dir); code == 0 || !strings.Contains(stderr, "--dry-run") {
		t.Errorf("build without a cluster exited %d, stderr %q; want a failure that points to --dry-run", code, stderr)
	}
}

// A missing Kustomization or checkout is a clear error.
func TestBuildErrors(t *testing.T) {
	o := newOpsInstall(t)
	for name, args := range map[string][]string{
		"unknown kustomization": {"build", "kustomization", "nope", "--path", o.dir, "--dry-run"},
		"no checkout":           {"build", "kustomization", "task-tool", "--path", filepath.Join(o.dir, "absent"), "--dry-run"},
	} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := o.sluice(args...)
			if code == 0 || stdout != "" || stderr == "" {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(o.dir); err != nil {
		t.Fatal(err)
	}
}

// plain drops the Go types of decoded values (int64 vs float64), so that a
// render and its YAML read back compare by value.
func plain(objs []*unstructured.Unstructured) []map[string]any {
	out := make([]map[string]any, len(objs))
	for i, o := range objs {
		b, _ := yaml.Marshal(o.Object)
		yaml.Unmarshal(b, &out[i])
	}
	return out
}
