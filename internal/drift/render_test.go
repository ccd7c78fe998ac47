package drift

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

const overlay = "app/overlays/prod/kustomization.yaml"

// TestDriftRefusesRemoteLoads: a build that would fetch a URL fails the
// drift check of its Kustomization as it fails the reconcile, naming the file
// and field; the URL's server sees no request and nothing is queued.
func TestDriftRefusesRemoteLoads(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	f := newFixture(t, "drift-remote")
	f.commit("Generate from a URL", func(dir string) error {
		gen := "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: " + srv.URL + "/patch\ntarget: {kind: Deployment}\n"
		return errors.Join(os.WriteFile(filepath.Join(dir, "app/overlays/prod/patch.yaml"), []byte(gen), 0o644),
			gittest.ReplaceInFile(filepath.Join(dir, overlay), "namespace: prod\n", "namespace: prod\ntransformers: [patch.yaml]\n"))
	})
	rep, _, err := f.run(Correct)
	var failed *CheckFailedError
	if !errors.As(err, &failed) || rep == nil || len(rep.Kustomizations) != 1 {
		t.Fatalf("report = %+v, error %v; want the check failed", rep, err)
	}
	msg := rep.Kustomizations[0].Error
	for _, want := range []string{"app/overlays/prod/patch.yaml", "PatchTransformer p", "path", srv.URL + "/patch", "not a local path"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the server received %d requests", n)
	}
	if rep.Queued {
		t.Error("a correction was queued for a Kustomization that cannot be built")
	}
}

// TestDriftReadsSubstituteFrom: drift renders with the same
// postBuild.substituteFrom values as the reconcile (so a cluster applied with
// them is in sync), and a reference that no longer exists fails the check.
func TestDriftReadsSubstituteFrom(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "drift-vars")
	cs := kubernetes.NewForConfigOrDie(env.Config)
	vars := f.ns + "-vars"
	if err := kubetest.CreateNamespace(ctx, env.Config, "flux-system"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("flux-system").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: vars},
		Data: map[string]string{"cluster_domain": "example.com"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.commit("Annotate with a variable", func(dir string) error {
		return errors.Join(
			gittest.ReplaceInFile(filepath.Join(dir, overlay), "namespace: prod\n", "namespace: prod\ncommonAnnotations:\n  domain: ${cluster_domain}\n"),
			gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "  prune: true\n",
				"  prune: true\n  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: "+vars+"\n"))
	})
	f.reconcile(nil)
	svc, err := cs.CoreV1().Services(f.ns).Get(ctx, "prod-task-web", metav1.GetOptions{})
	if err != nil || svc.Annotations["domain"] != "example.com" {
		t.Fatalf("applied annotations = %v, %v", svc.Annotations, err)
	}
	rep, _ := f.drift(Correct)
	if got := notInSync(rep); len(got) != 0 || rep.Kustomizations[0].Error != "" {
		t.Fatalf("drift right after a reconcile: %+v, error %q", got, rep.Kustomizations[0].Error)
	}

	if err := cs.CoreV1().ConfigMaps("flux-system").Delete(ctx, vars, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, _, err = f.run(Correct)
	var failed *CheckFailedError
	if !errors.As(err, &failed) || rep == nil {
		t.Fatalf("report = %+v, error %v; want the check failed", rep, err)
	}
	if msg := rep.Kustomizations[0].Error; !strings.Contains(msg, "postBuild.substituteFrom[0]: ConfigMap flux-system/"+vars+" not found") {
		t.Errorf("error = %q", msg)
	}
}
