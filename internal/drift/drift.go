package drift

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// Mode says what a drift run does about drift.
type Mode string

// Modes: correct (the default, as Flux re-applies) or detect (report only).
const (
	Correct Mode = "correct"
	Detect  Mode = "detect"
)

// ModeAnnotation on a Kustomization overrides SLUICE_DRIFT_MODE for it.
const ModeAnnotation = "sluice.dev/drift-mode"

// Cluster is what a drift check needs of the cluster.
type Cluster interface {
	// Variables reads postBuild.substituteFrom's ConfigMaps and Secrets.
	desired.Variables
	Diff(ctx context.Context, objs []*unstructured.Unstructured, opts kube.DiffOptions) ([]kube.ObjectDiff, error)
	Inventory(ctx context.Context, owner kube.Owner) (*kube.Inventory, error)
	LegacyInventory(ctx context.Context, owner kube.Owner, source string) (*kube.Inventory, error)
	Prunable(ctx context.Context, owner kube.Owner, e kube.Entry) (bool, error)
	Records
}

var _ Cluster = (*kube.Manager)(nil)

// Queue sends a message to an SQS FIFO queue.
type Queue interface {
	Send(ctx context.Context, body any, groupID, dedupID string) (string, error)
}

var _ Queue = (*queue.Sender)(nil)

// KustomizationReport is the drift of one Kustomization.
type KustomizationReport struct {
	Name string `json:"name"`
	// Revision is the commit last applied (from the inventory); Head is the
	// branch head now. Behind is true when they differ: Git moved and no
	// reconcile followed (a missed webhook).
	Revision string            `json:"revision"`
	Head     string            `json:"head"`
	Behind   bool              `json:"behind"`
	Mode     Mode              `json:"mode"`
	Objects  []kube.ObjectDiff `json:"objects"`
	Error    string            `json:"error,omitempty"`
}

// Counts sums the objects of r by status.
func (r KustomizationReport) Counts() (drifted, missing, extra int) {
	for _, o := range r.Objects {
		switch o.Status {
		case kube.Drifted:
			drifted++
		case kube.Missing:
			missing++
		case kube.Extra:
			extra++
		}
	}
	return
}

func (r KustomizationReport) needsReconcile() bool {
	d, m, e := r.Counts()
	return r.Behind || d+m+e > 0
}

// Report is a drift run's result.
type Report struct {
	Kustomizations []KustomizationReport `json:"kustomizations"`
	Drifted        int                   `json:"drifted"`
	Missing        int                   `json:"missing"`
	Extra          int                   `json:"extra"`
	Queued         bool                  `json:"queued"`
	// Images lists the ImagePolicies whose newest allowed tag is not yet in
	// Git; ImagesQueued says a re-evaluation was queued for them.
	Images       []string `json:"images,omitempty"`
	ImagesQueued bool     `json:"imagesQueued,omitempty"`
	// Suspended lists the Kustomizations not checked because they are
	// suspended (in Git, in the cluster, or their source): nothing is
	// queued for them.
	Suspended []Suspension `json:"suspended,omitempty"`
}

// Suspension is a Kustomization a drift run left alone, and why.
type Suspension struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Checker runs drift checks.
type Checker struct {
	repo      desired.Repository
	git       desired.Git
	cluster   Cluster
	mode      Mode
	reconcile Queue
	// Keys decrypt the Kustomizations that set spec.decryption, so that
	// their decrypted objects are compared; without them, each of those
	// fails its check alone.
	Keys desired.Keys
}

// New returns a Checker. reconcile is the reconcile queue, used in correct mode.
func New(repo desired.Repository, git desired.Git, cluster Cluster, mode Mode, reconcile Queue) *Checker {
	return &Checker{repo: repo, git: git, cluster: cluster, mode: mode, reconcile: reconcile}
}

// Check compares every Kustomization that is not suspended (in Git, in the
// cluster, or its source) with the cluster, at the branch head, records each
// check on the Kustomization's status, and in correct mode queues one
// reconcile naming those to correct. runID makes the message's
// deduplication id unique per run.
func (c *Checker) Check(ctx context.Context, runID string) (*Report, *desired.Snapshot, error) {
	snap, err := desired.Open(ctx, c.git, c.repo, desired.WithKeys(c.Keys))
	if err != nil {
		return nil, nil, err
	}
	suspended, unknown := c.suspendedInCluster(ctx)
	rep := &Report{Kustomizations: []KustomizationReport{}}
	for _, k := range snap.Config.Kustomizations {
		if why := suspension(snap, k, suspended); why != "" {
			slog.InfoContext(ctx, "kustomization not checked", "kustomization", k.Ref.String(), "reason", why)
			rep.Suspended = append(rep.Suspended, Suspension{Name: k.Ref.String(), Reason: why})
			continue
		}
		var kr KustomizationReport
		if unknown != nil {
			// Someone may have suspended it in an emergency: correcting it
			// on a guess is worse than a check missed, and reported.
			kr = KustomizationReport{Name: k.Ref.String(), Head: snap.Revision, Mode: c.modeOf(ctx, k), Objects: []kube.ObjectDiff{}, Error: unknown.Error()}
		} else {
			kr = c.one(ctx, snap, k)
		}
		c.record(ctx, snap, k, kr)
		d, m, e := kr.Counts()
		rep.Drifted, rep.Missing, rep.Extra = rep.Drifted+d, rep.Missing+m, rep.Extra+e
		rep.Kustomizations = append(rep.Kustomizations, kr)
	}
	var correct []string
	for _, kr := range rep.Kustomizations {
		if kr.Mode == Correct && kr.Error == "" && kr.needsReconcile() {
			correct = append(correct, kr.Name)
		}
	}
	if len(correct) > 0 && c.reconcile == nil {
		slog.WarnContext(ctx, "drift to correct, but no reconcile queue is configured (SLUICE_RECONCILE_QUEUE_URL)", "kustomizations", correct)
	} else if len(correct) > 0 {
		msg := queue.Reconcile{Repository: c.repo.ID(), Branch: c.repo.Branch, Revision: snap.Revision, Reason: queue.ReasonDrift, Kustomizations: correct}
		id, err := c.reconcile.Send(ctx, msg, queue.GroupID(c.repo.ID(), c.repo.Branch), queue.DriftDedupID(snap.Revision, runID))
		if err != nil {
			return rep, snap, fmt.Errorf("queueing the correction of %v: %w", correct, err)
		}
		rep.Queued = true
		slog.InfoContext(ctx, "correction queued", "kustomizations", correct, "messageId", id)
	}
	return rep, snap, nil
}

func (c *Checker) one(ctx context.Context, snap *desired.Snapshot, k fluxconfig.Kustomization) KustomizationReport {
	kr := KustomizationReport{Name: k.Ref.String(), Head: snap.Revision, Mode: c.modeOf(ctx, k), Objects: []kube.ObjectDiff{}}
	fail := func(err error) KustomizationReport {
		kr.Error = err.Error()
		slog.ErrorContext(ctx, "drift check failed", "kustomization", kr.Name, "error", err)
		return kr
	}
	objs, err := snap.Render(ctx, k, c.cluster)
	if err != nil {
		return fail(err)
	}
	owner := desired.Owner(snap.Repository, k.Ref)
	inv, err := c.cluster.Inventory(ctx, owner)
	if err == nil && inv == nil {
		// Until the next reconcile takes it over, the inventory written
		// before installations had ids is this Kustomization's.
		inv, err = c.cluster.LegacyInventory(ctx, owner, snap.Repository.Source())
	}
	if err != nil {
		return fail(err)
	}
	if inv != nil {
		kr.Revision = inv.Revision
	}
	kr.Behind = kr.Revision != snap.Revision
	diffs, err := c.cluster.Diff(ctx, objs, kube.DiffOptions{Force: k.Force, Ignore: desired.IgnoreRules(k)})
	if err != nil {
		return fail(err)
	}
	kr.Objects = append(kr.Objects, diffs...)
	if inv != nil {
		for _, e := range kube.Stale(inv.Entries, objs) {
			// Objects a prune keeps (marked in the cluster, or another
			// installation's since) are no drift.
			prunable, err := c.cluster.Prunable(ctx, ownerOf(inv, owner), e)
			if err != nil {
				return fail(err)
			}
			if prunable {
				o, _ := e.Object()
				kr.Objects = append(kr.Objects, kube.ObjectDiff{ID: kube.ObjectID(o), Status: kube.Extra})
			}
		}
	}
	sort.SliceStable(kr.Objects, func(i, j int) bool { return kr.Objects[i].ID < kr.Objects[j].ID })
	for _, o := range kr.Objects {
		if o.Status != kube.InSync {
			slog.WarnContext(ctx, "drift", "kustomization", kr.Name, "object", o.ID, "status", o.Status, "fields", o.Fields)
		}
	}
	if kr.Behind {
		slog.WarnContext(ctx, "Git moved and no reconcile followed", "kustomization", kr.Name, "applied", kr.Revision, "head", kr.Head)
	}
	return kr
}

// ownerOf is the owner whose ApplySet inv's members carry: a legacy
// inventory's members carry the set of its legacy name.
func ownerOf(inv *kube.Inventory, owner kube.Owner) kube.Owner {
	if inv.Legacy {
		return inv.Owner
	}
	return owner
}

// modeOf is the Kustomization's drift mode: its annotation, else the
// function's. A value that is neither correct nor detect (a typo, "Detect")
// is a warning and the safe mode, detect: a drift run must never start
// rewriting a cluster because of a misspelling meant to stop it from doing so.
func (c *Checker) modeOf(ctx context.Context, k fluxconfig.Kustomization) Mode {
	v, set := k.Annotations[ModeAnnotation]
	switch m := Mode(v); {
	case !set:
		return c.mode
	case m == Correct, m == Detect:
		return m
	}
	slog.WarnContext(ctx, fmt.Sprintf("annotation %s=%q is not correct or detect: drift is only reported", ModeAnnotation, v),
		"kustomization", k.Ref.String(), "file", k.Source.File)
	return Detect
}
