package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/github"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// Cluster is what the reconciler needs of the cluster.
type Cluster interface {
	// Variables reads postBuild.substituteFrom's ConfigMaps and Secrets.
	desired.Variables
	Apply(ctx context.Context, objs []*unstructured.Unstructured, opts kube.ApplyOptions) ([]kube.Change, error)
	Prune(ctx context.Context, owner types.NamespacedName, entries []kube.Entry) ([]kube.Change, error)
	Wait(ctx context.Context, objs []*unstructured.Unstructured, checks []kube.HealthCheck, timeout time.Duration) error
	Inventory(ctx context.Context, owner types.NamespacedName) (*kube.Inventory, error)
	Inventories(ctx context.Context) ([]kube.Inventory, error)
	SaveInventory(ctx context.Context, inv kube.Inventory) error
	DeleteInventory(ctx context.Context, owner types.NamespacedName) error
}

// Statuses reports the outcome of a Kustomization on the applied commit.
type Statuses interface {
	SetStatus(ctx context.Context, repoURL, sha string, st github.Status) error
}

var (
	_ Cluster  = (*kube.Manager)(nil)
	_ Statuses = (*github.StatusSetter)(nil)
)

// DefaultTimeout bounds health checks of a Kustomization without
// spec.timeout; the function's own deadline bounds it further.
const DefaultTimeout = 5 * time.Minute

// maxParallel bounds the Kustomizations of one dependency level applied at once.
const maxParallel = 4

// Reconciler converges the cluster to the config branch.
type Reconciler struct {
	repo     desired.Repository
	git      desired.Git
	cluster  Cluster
	statuses Statuses
}

// New returns a Reconciler; statuses may be nil (no commit statuses).
func New(repo desired.Repository, git desired.Git, cluster Cluster, statuses Statuses) *Reconciler {
	return &Reconciler{repo: repo, git: git, cluster: cluster, statuses: statuses}
}

// Outcome of one Kustomization.
const (
	Applied = "applied"
	Skipped = "skipped"
	Failed  = "failed"
)

// KustomizationResult is what happened to one Kustomization.
type KustomizationResult struct {
	Name     string        `json:"name"`
	Outcome  string        `json:"outcome"`
	Reason   string        `json:"reason,omitempty"`
	Revision string        `json:"revision,omitempty"`
	Changes  []kube.Change `json:"changes,omitempty"`
}

// Result is what a reconcile did.
type Result struct {
	Revision       string                `json:"revision"`
	Kustomizations []KustomizationResult `json:"kustomizations"`
	// Removed lists Kustomizations no longer in Git whose objects were pruned
	// (when they pruned) and inventories deleted.
	Removed []KustomizationResult `json:"removed,omitempty"`
}

// Failed returns the failed Kustomizations' results.
func (r *Result) Failed() []KustomizationResult {
	var out []KustomizationResult
	for _, k := range append(append([]KustomizationResult{}, r.Kustomizations...), r.Removed...) {
		if k.Outcome == Failed {
			out = append(out, k)
		}
	}
	return out
}

// Error is returned when one or more Kustomizations failed; the queue retries
// the message, then moves it to the dead-letter queue.
type Error struct {
	Failed []KustomizationResult
}

func (e *Error) Error() string {
	parts := make([]string, 0, len(e.Failed))
	for _, f := range e.Failed {
		parts = append(parts, f.Name+": "+f.Reason)
	}
	return "reconcile failed: " + strings.Join(parts, "; ")
}

// Reconcile converges the cluster to the branch head as it is now: msg only
// wakes it, so a stale or redelivered message never rolls anything back. The
// Kustomizations msg names are reconciled (all when it names none). Any
// failure is an *Error after every independent Kustomization had its turn.
func (r *Reconciler) Reconcile(ctx context.Context, msg queue.Reconcile) (*Result, error) {
	if msg.Repository != r.repo.ID() || msg.Branch != r.repo.Branch {
		return nil, fmt.Errorf("message for %s@%s, but this function serves %s", msg.Repository, msg.Branch, r.repo.Source())
	}
	snap, err := desired.Open(ctx, r.git, r.repo)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	log := slog.With("revision", snap.Revision, "reason", msg.Reason, "woken_by", msg.Revision)
	log.InfoContext(ctx, "reconciling", "repository", r.repo.Source())

	levels, err := fluxconfig.Levels(snap.Config.Kustomizations)
	if err != nil {
		return nil, err
	}
	selected, unknown := snap.Select(msg.Kustomizations)
	for _, u := range unknown {
		log.WarnContext(ctx, "the message names a Kustomization that Git no longer defines", "kustomization", u)
	}
	want := map[fluxconfig.Ref]bool{}
	for _, k := range selected {
		want[k.Ref] = true
	}
	res := &Result{Revision: snap.Revision}
	var mu sync.Mutex
	outcome := map[fluxconfig.Ref]string{}
	for _, level := range levels {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(maxParallel)
		for _, k := range level {
			if !want[k.Ref] {
				continue
			}
			g.Go(func() error {
				mu.Lock()
				blocked := blockedBy(k, outcome)
				mu.Unlock()
				var kr KustomizationResult
				if blocked != "" {
					kr = KustomizationResult{Name: k.Ref.String(), Outcome: Failed, Reason: "not applied: its dependency " + blocked + " failed"}
				} else {
					kr = r.one(gctx, snap, k)
				}
				r.report(gctx, snap.Revision, kr)
				mu.Lock()
				outcome[k.Ref] = kr.Outcome
				res.Kustomizations = append(res.Kustomizations, kr)
				mu.Unlock()
				return nil
			})
		}
		_ = g.Wait() // each goroutine records its own failure
	}
	sort.Slice(res.Kustomizations, func(i, j int) bool { return res.Kustomizations[i].Name < res.Kustomizations[j].Name })
	if len(msg.Kustomizations) == 0 {
		res.Removed = r.removeGone(ctx, snap)
	}
	if failed := res.Failed(); len(failed) > 0 {
		return res, &Error{Failed: failed}
	}
	return res, nil
}

func blockedBy(k fluxconfig.Kustomization, outcome map[fluxconfig.Ref]string) string {
	for _, d := range k.DependsOn {
		if outcome[d] == Failed {
			return d.String()
		}
	}
	return ""
}

func (r *Reconciler) report(ctx context.Context, sha string, kr KustomizationResult) {
	log := slog.With("kustomization", kr.Name, "revision", sha)
	switch kr.Outcome {
	case Failed:
		log.ErrorContext(ctx, "kustomization failed", "reason", kr.Reason)
	case Skipped:
		log.InfoContext(ctx, "kustomization skipped", "reason", kr.Reason)
	default:
		log.InfoContext(ctx, "kustomization applied", "summary", kr.Reason)
	}
	if r.statuses == nil || kr.Outcome == Skipped {
		return
	}
	st := github.Status{Kustomization: kr.Name, State: github.StateSuccess, Description: kr.Reason}
	if kr.Outcome == Failed {
		st.State = github.StateFailure
	}
	if err := r.statuses.SetStatus(ctx, r.repo.URL, sha, st); err != nil {
		// A status is a report, not the work: the apply stands.
		log.WarnContext(ctx, "setting the commit status", "error", err)
	}
}
