package drift

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/reconcile"
	"github.com/sluice-gitops/sluice/internal/render/rendertest"
)

// benchFlux is the config folder of the generated overlay's repository: the
// source and one Kustomization applying the overlay into its own namespace.
const benchFlux = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: bench
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: %[1]s
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %[2]s
  namespace: flux-system
spec:
  interval: 10m0s
  path: %[3]s
  prune: true
  sourceRef:
    kind: GitRepository
    name: bench
  targetNamespace: %[2]s
`

// BenchmarkDriftCheck1000 is one scheduled drift check of a Kustomization of
// 1,000 objects (ConfigMaps, Deployments, Services) that are in sync: a
// shallow clone from a real Git smart-HTTP server, the render, a
// server-side dry-run diff of every object and the inventory, against a real
// kube-apiserver, with Sluice's production client rate limits. DESIGN.md's
// target is 2 s; `kubectl diff --server-side` took 6.6 s.
func BenchmarkDriftCheck1000(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	const ns = "drift-bench-1000"
	if err := kubetest.CreateNamespace(ctx, env.Config, ns); err != nil {
		b.Fatal(err)
	}
	// The logs (a line per object) are formatted as in Lambda but dropped;
	// the tests have run by the time benchmarks do.
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	b.Cleanup(func() { slog.SetDefault(old) })
	tree := b.TempDir()
	if err := rendertest.GenerateOverlay(tree, n); err != nil {
		b.Fatal(err)
	}
	srv, err := gittest.Start("x-access-token", "t0ken")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Stop)
	url := srv.URL("bench.git")
	if _, err := srv.Seed("bench.git", "main", tree, func(dir string) error {
		if err := os.MkdirAll(filepath.Join(dir, "clusters", "bench"), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "clusters", "bench", "flux.yaml"), fmt.Appendf(nil, benchFlux, url, ns, rendertest.OverlayPath), 0o644)
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
	repo := desired.Repository{URL: url, Branch: "main", ConfigPath: "clusters/bench"}
	if _, err := reconcile.New(repo, git, cluster, nil).Reconcile(ctx, queue.Reconcile{Repository: repo.ID(), Branch: "main", Reason: queue.ReasonPush}); err != nil {
		b.Fatal(err)
	}
	c := New(repo, git, cluster, Detect, nil)
	b.ReportAllocs()
	for b.Loop() {
		rep, snap, err := c.Check(ctx, "bench")
		if snap != nil {
			snap.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
		if got := inSync(rep); got != n || rep.Kustomizations[0].Behind {
			b.Fatalf("want %d objects in sync at the head, got %d: %+v", n, got, rep.Kustomizations)
		}
	}
}

// inSync counts the objects of rep's one Kustomization found in sync; -1
// when rep has not exactly one.
func inSync(rep *Report) int {
	if len(rep.Kustomizations) != 1 {
		return -1
	}
	n := 0
	for _, o := range rep.Kustomizations[0].Objects {
		if o.Status == kube.InSync {
			n++
		}
	}
	return n
}
