package drift

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kube"
)

// Records keeps each Kustomization's last drift check on its status, and
// holds the in-cluster suspensions that `sluice suspend` sets.
type Records interface {
	ListStatuses(ctx context.Context, installation string) ([]kube.KustomizationStatus, error)
	RecordDriftCheck(ctx context.Context, owner kube.Owner, d kube.DriftCheck) error
}

// suspendedInCluster maps the Kustomizations that `sluice suspend` marked
// ("<ns>/<name>") to why they are left alone.
func (c *Checker) suspendedInCluster(ctx context.Context) (map[string]string, error) {
	list, err := c.cluster.ListStatuses(ctx, c.repo.Installation())
	if err != nil {
		return nil, fmt.Errorf("reading the suspensions of installation %s: %w", c.repo.Installation(), err)
	}
	out := map[string]string{}
	for _, st := range list {
		if why := st.InClusterSuspension(); why != "" {
			out[st.Owner.String()] = why
		}
	}
	return out, nil
}

// suspension says why k is not checked, or "" when it is.
func suspension(snap *desired.Snapshot, k fluxconfig.Kustomization, inCluster map[string]string) string {
	switch {
	case k.Suspend:
		return "suspended in Git (spec.suspend: true)"
	case inCluster[k.Ref.String()] != "":
		return inCluster[k.Ref.String()]
	case snap.SourceSuspended(k):
		return "its source GitRepository " + k.SourceRef.Ref.String() + " is suspended (spec.suspend: true)"
	}
	return ""
}

// record writes kr on k's status: counts and the ids of the objects out of
// sync, never their contents. A status is a report: a write that fails is
// logged and the run goes on.
func (c *Checker) record(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization, kr KustomizationReport) {
	d, m, e := kr.Counts()
	check := kube.DriftCheck{
		Revision: kube.StatusRevision(snap.Repository.Branch, snap.Revision),
		InSync:   kr.Error == "" && d+m+e == 0,
		Drifted:  d, Missing: m, Extra: e,
		Error: kr.Error,
	}
	for _, o := range kr.Objects {
		if o.Status != kube.InSync {
			check.Objects = append(check.Objects, o.ID)
		}
	}
	if err := c.cluster.RecordDriftCheck(ctx, desired.Owner(snap.Repository, k.Ref), check); err != nil {
		slog.WarnContext(ctx, "recording the drift check on the kustomization's status", "kustomization", kr.Name, "error", err)
	}
}
