package main

import (
	"context"
	"fmt"

	"github.com/sluice-gitops/sluice/internal/drift"
	"github.com/sluice-gitops/sluice/internal/kube"
)

// driftResults are the drift checks of the applied objects.
type driftResults struct {
	binary, kubectl result
}

// driftRuns checks, once per run of the applies, that nothing drifted: the
// drift binary on the repository the reconcile binary applied (shallow
// clone, render, server-side dry-run diff of every object, inventory) and
// `kubectl diff --server-side` on kubectl's namespace. Both must find all
// objects in sync. BenchmarkDriftCheck1000 (internal/drift) measures the
// drift use case in process.
func (b *bench) driftRuns(ctx context.Context, in input, applied *applyResults) (*driftResults, error) {
	res := &driftResults{}
	for i, k := range applied.kubectl {
		if _, ok := b.bins["drift"]; ok && i < len(applied.binRepos) {
			p, err := b.driftBinary(ctx, applied.binRepos[i], in.objects)
			if err != nil {
				return nil, err
			}
			res.binary.addProc(p)
		}
		// kubectl's own field manager of the apply, so that ownership is no
		// difference; exit code 0 means no differences.
		p, err := b.kubectlRun(ctx, "diff", "--server-side", "--field-manager=kubectl", "-f", k.yaml)
		if err != nil {
			return nil, err
		}
		if p.code != 0 {
			return nil, fmt.Errorf("kubectl diff --server-side -f %s exited %d (1: differences): %s%s", k.yaml, p.code, clip(p.stdout), p.tail())
		}
		res.kubectl.addProc(p)
		b.logf("  drift check, run %d of %d: drift binary %s, kubectl diff %s", i+1, len(applied.kubectl), duration(res.binary.last()), duration(p.elapsed))
	}
	return res, nil
}

// expectInSync checks that n objects were compared and none drifted.
func expectInSync(diffs []kube.ObjectDiff, n int) error {
	if len(diffs) != n {
		return fmt.Errorf("%d objects compared, want %d", len(diffs), n)
	}
	for _, d := range diffs {
		if d.Status != kube.InSync {
			return fmt.Errorf("%s is %s %v right after an apply", d.ID, d.Status, d.Fields)
		}
	}
	return nil
}

// expectReportInSync checks a drift report of one Kustomization of n
// objects, all in sync and at the head revision.
func expectReportInSync(rep *drift.Report, n int) error {
	if len(rep.Kustomizations) != 1 {
		return fmt.Errorf("%d Kustomizations checked, want 1", len(rep.Kustomizations))
	}
	k := rep.Kustomizations[0]
	if k.Error != "" {
		return fmt.Errorf("%s: %s", k.Name, k.Error)
	}
	if k.Behind {
		return fmt.Errorf("%s is behind (applied %s, head %s)", k.Name, k.Revision, k.Head)
	}
	return expectInSync(k.Objects, n)
}

func clip(b []byte) string {
	if len(b) > 1500 {
		return string(b[:1500]) + "…\n"
	}
	return string(b)
}
