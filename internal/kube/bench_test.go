package kube

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/render"
	"github.com/sluice-gitops/sluice/internal/render/rendertest"
)

// BenchmarkApply1000 applies rendertest's 1,000-object overlay (ConfigMaps,
// Deployments, Services) with Sluice's production client rate limits, against
// a real kube-apiserver: first into an empty namespace, then the same again
// unchanged, and a drift check of it. The render is done beforehand: this is
// the apply's share of a reconcile alone.
func BenchmarkApply1000(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	if err := rendertest.GenerateOverlay(dir, n); err != nil {
		b.Fatal(err)
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 0, 0 // kube.New's defaults, as in Lambda
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	seq := 0
	objects := func(b *testing.B) ([]*unstructured.Unstructured, string) {
		seq++
		ns := fmt.Sprintf("bench-apply-%d-%d", seq, nsCounter.Add(1))
		if err := kubetest.CreateNamespace(ctx, env.Config, ns); err != nil {
			b.Fatal(err)
		}
		objs, err := render.Build(dir, render.Options{Path: rendertest.OverlayPath, TargetNamespace: ns})
		if err != nil {
			b.Fatal(err)
		}
		if len(objs) != n {
			b.Fatalf("rendered %d objects, want %d", len(objs), n)
		}
		return objs, ns
	}
	apply := func(b *testing.B, objs []*unstructured.Unstructured, want Action) {
		changes, err := m.Apply(ctx, objs, ApplyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if got := count(changes, want); got != n {
			b.Fatalf("%d of %d objects %s, want all", got, len(changes), want)
		}
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			objs, _ := objects(b)
			b.StartTimer()
			apply(b, objs, Created)
		}
	})
	objs, _ := objects(b)
	apply(b, copies(objs), Created)
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			apply(b, copies(objs), Unchanged)
		}
	})
	b.Run("diff", func(b *testing.B) {
		for b.Loop() {
			diffs, err := m.Diff(ctx, objs, DiffOptions{})
			if err != nil {
				b.Fatal(err)
			}
			for _, d := range diffs {
				if d.Status != InSync {
					b.Fatalf("%s is %s %v", d.ID, d.Status, d.Fields)
				}
			}
		}
	})
}

func count(changes []Change, want Action) int {
	n := 0
	for _, c := range changes {
		if c.Action == want {
			n++
		}
	}
	return n
}

func copies(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}
