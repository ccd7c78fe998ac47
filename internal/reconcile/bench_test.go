package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// fixtureSize is how many objects the fixture's prod overlay renders to.
const fixtureSize = 9

// BenchmarkReconcileFixture is what a push costs a warm reconcile function
// when the fixture is already applied: a shallow clone from a real Git
// smart-HTTP server, reading the Flux objects, rendering the prod overlay,
// a staged server-side apply of its 9 objects (all unchanged) and the
// inventory, against a real kube-apiserver, with Sluice's production client
// rate limits. DESIGN.md's target is 0.3 s.
func BenchmarkReconcileFixture(b *testing.B) {
	ctx := context.Background()
	// TestMain starts the API server without the Issuer CRD, for the story's
	// first step; installing it again is a no-op.
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: kubetest.FixtureCRDs()}); err != nil {
		b.Fatal(err)
	}
	const ns = "bench-reconcile-fixture"
	if err := kubetest.CreateNamespace(ctx, env.Config, ns); err != nil {
		b.Fatal(err)
	}
	quiet(b)
	srv, err := gittest.Start("x-access-token", "t0ken")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Stop)
	url := srv.URL("bench.git")
	k := "clusters/prod/task-tool-kustomization.yaml"
	if _, err := srv.Seed("bench.git", "main", filepath.Join(kubetest.RepoRoot(), "examples", "task-tool-cluster-config"), func(dir string) error {
		return errors.Join(gittest.SetGitRepositoryURL(dir, "clusters/prod", url),
			benchReplace(dir, k, "targetNamespace: prod", "targetNamespace: "+ns),
			benchReplace(dir, k, "name: task-tool\n  namespace", "name: "+ns+"\n  namespace"))
	}); err != nil {
		b.Fatal(err)
	}
	git, err := gitrepo.New(url, gitrepo.Credentials{Password: "t0ken"})
	if err != nil {
		b.Fatal(err)
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 0, 0 // kube.New's defaults, as in Lambda, not kubetest's raised ones
	cluster, err := kube.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	repo := desired.Repository{URL: url, Branch: "main", ConfigPath: "clusters/prod"}
	r := New(repo, git, cluster, nil)
	msg := queue.Reconcile{Repository: repo.ID(), Branch: "main", Reason: queue.ReasonPush}
	if _, err := r.Reconcile(ctx, msg); err != nil { // the first apply, which the loop does not measure
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := r.Reconcile(ctx, msg)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Kustomizations) != 1 || unchanged(res.Kustomizations[0].Changes) != fixtureSize {
			b.Fatalf("want the %d objects unchanged, got %+v", fixtureSize, res.Kustomizations)
		}
	}
}

// quiet formats the logs as in Lambda but drops them, so the benchmark's
// output stays readable; the tests have run by the time benchmarks do.
func quiet(b *testing.B) {
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	b.Cleanup(func() { slog.SetDefault(old) })
}

func unchanged(changes []kube.Change) int {
	n := 0
	for _, c := range changes {
		if c.Action == kube.Unchanged {
			n++
		}
	}
	return n
}

// benchReplace replaces old, which must be there, with new in the file rel under dir.
func benchReplace(dir, rel, old, new string) error {
	p := filepath.Join(dir, rel)
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if !strings.Contains(string(data), old) {
		return fmt.Errorf("%s does not contain %q", rel, old)
	}
	return os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644)
}
