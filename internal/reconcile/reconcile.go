package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/github"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// Cluster is what the reconciler needs of the cluster.
type Cluster interface {
	// Variables reads postBuild.substituteFrom's ConfigMaps and Secrets.
	desired.Variables
	Apply(ctx context.Context, objs []*unstructured.Unstructured, opts kube.ApplyOptions) ([]kube.Change, error)
	Prune(ctx context.Context, owner kube.Owner, entries []kube.Entry) ([]kube.Change, error)
	Wait(ctx context.Context, objs []*unstructured.Unstructured, checks []kube.HealthCheck, timeout time.Duration) error
	WaitForTermination(ctx context.Context, entries []kube.Entry, timeout time.Duration) error
	Inventories
	Records
}

// Inventories keeps what each Kustomization of the installation applied.
type Inventories interface {
	Inventory(ctx context.Context, owner kube.Owner) (*kube.Inventory, error)
	LegacyInventory(ctx context.Context, owner kube.Owner, source string) (*kube.Inventory, error)
	Adopt(ctx context.Context, legacy kube.Inventory, owner kube.Owner) (*kube.Inventory, error)
	Inventories(ctx context.Context, installation string) ([]kube.Inventory, error)
	SaveInventory(ctx context.Context, inv kube.Inventory) error
	DeleteInventory(ctx context.Context, owner kube.Owner) error
}

// Git clones the config branch and tells where its head is now.
type Git interface {
	desired.Git
	Head(ctx context.Context, branch string) (string, error)
}

// Statuses reports the outcome of a Kustomization on the applied commit.
type Statuses interface {
	SetStatus(ctx context.Context, repoURL, sha string, st github.Status) error
}

var (
	_ Cluster  = (*kube.Manager)(nil)
	_ Git      = (*gitrepo.Repo)(nil)
	_ Statuses = (*github.StatusSetter)(nil)
)

// maxParallel bounds the Kustomizations of one dependency level applied at once.
const maxParallel = 4

// DefaultHeadPoll is how often the branch head is asked for (one ls-remote)
// while a health check waits, so that a new push cancels the wait.
const DefaultHeadPoll = 5 * time.Second

// Reconciler converges the cluster to the config branch.
type Reconciler struct {
	repo     desired.Repository
	git      Git
	cluster  Cluster
	statuses Statuses
	// HeadPoll is how often a health wait asks whether the branch moved.
	HeadPoll time.Duration
	// AllowEmpty lets a config folder that defines no Kustomization remove
	// every object of the installation; otherwise that is refused.
	AllowEmpty bool
	// Events, when set, receives each Kustomization's outcome for the
	// config's Alerts.
	Events Events
	// Keys decrypt the Kustomizations that set spec.decryption; without
	// them, each of those fails alone.
	Keys desired.Keys
}

// New returns a Reconciler; statuses may be nil (no commit statuses).
func New(repo desired.Repository, git Git, cluster Cluster, statuses Statuses) *Reconciler {
	return &Reconciler{repo: repo, git: git, cluster: cluster, statuses: statuses, HeadPoll: DefaultHeadPoll}
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
	// failure is a failed Kustomization's Ready reason (kube.Reason*): the
	// status records it, and a health or dependency failure notifies under
	// its own reason, as in Flux.
	failure string
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
	// Interrupted says the reconcile stopped before the function's deadline
	// with work left: a retry should come at once.
	Interrupted bool
}

func (e *Error) Error() string {
	parts := make([]string, 0, len(e.Failed))
	for _, f := range e.Failed {
		parts = append(parts, f.Name+": "+f.Reason)
	}
	return "reconcile failed: " + strings.Join(parts, "; ")
}

// ErrDeadline is the cause of a reconcile stopped before the function's
// deadline: what was applied is recorded and the message comes back at once.
var ErrDeadline = errors.New("stopped before the function's deadline with work left; what was applied is recorded and the reconcile is retried")

// deadlineMargin is the time kept free before the function's deadline to
// record inventories and ask for an early retry: a tenth of the time left,
// between 2 and 15 seconds.
func deadlineMargin(left time.Duration) time.Duration {
	return min(max(left/10, 2*time.Second), 15*time.Second)
}

// Reconcile converges the cluster to the branch head as it is now: msg only
// wakes it, so a stale or redelivered message never rolls anything back. The
// Kustomizations msg names are reconciled (all when it names none). Any
// failure is an *Error after every independent Kustomization had its turn.
// When the branch moves while a health check waits, the wait is cancelled
// and the new head reconciled in the same invocation.
func (r *Reconciler) Reconcile(ctx context.Context, msg queue.Reconcile) (*Result, error) {
	if msg.Repository != r.repo.ID() || msg.Branch != r.repo.Branch {
		return nil, fmt.Errorf("message for %s@%s, but this function serves %s", msg.Repository, msg.Branch, r.repo.Source())
	}
	work, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if dl, ok := ctx.Deadline(); ok {
		var stop context.CancelFunc
		work, stop = context.WithDeadlineCause(work, dl.Add(-deadlineMargin(time.Until(dl))), ErrDeadline)
		defer stop()
	}
	for {
		res, moved, err := r.pass(ctx, work, msg)
		if moved == "" || work.Err() != nil {
			return res, err
		}
		slog.InfoContext(ctx, "the branch moved during a health check; reconciling its new head", "head", moved)
	}
}

// pass reconciles the branch head once. ctx is the invocation's; work ends
// before it, with a margin to record what was done. moved is the new head
// when the branch moved while a health check waited (and the wait was
// cancelled for it).
func (r *Reconciler) pass(ctx, work context.Context, msg queue.Reconcile) (res *Result, moved string, err error) {
	snap, err := desired.Open(work, r.git, r.repo, desired.WithKeys(r.Keys))
	if err != nil {
		if work.Err() == nil {
			r.recordPassFailed(ctx, msg, err)
		}
		return nil, "", err
	}
	defer snap.Close()
	sts, err := r.readStatuses(work)
	if err != nil {
		return nil, "", err
	}
	log := slog.With("revision", snap.Revision, "reason", msg.Reason, "woken_by", msg.Revision)
	log.InfoContext(ctx, "reconciling", "repository", r.repo.Source(), "installation", r.repo.Installation())

	watch := newHeadWatch(work, r.git, r.repo.Branch, snap.Revision, r.HeadPoll)
	defer watch.stop()
	levels, blocked := fluxconfig.Levels(snap.Config.Kustomizations)
	selected, unknown := snap.Select(msg.Kustomizations)
	for _, u := range unknown {
		log.WarnContext(ctx, "the message names a Kustomization that Git no longer defines", "kustomization", u)
	}
	want := map[fluxconfig.Ref]bool{}
	for _, k := range selected {
		want[k.Ref] = true
	}
	res = &Result{Revision: snap.Revision}
	for _, k := range selected {
		if why, ok := blocked[k.Ref]; ok {
			kr := KustomizationResult{Name: k.Ref.String(), Outcome: Failed, Revision: snap.Revision, Reason: "not applied: " + why, failure: kube.ReasonDependencyFailed}
			r.recordNotApplied(ctx, snap, k, kr.Reason)
			r.report(ctx, snap, msg, kr)
			res.Kustomizations = append(res.Kustomizations, kr)
		}
	}
	var mu sync.Mutex
	outcome := map[fluxconfig.Ref]string{}
	for _, level := range levels {
		g := new(errgroup.Group)
		g.SetLimit(maxParallel)
		for _, k := range level {
			if !want[k.Ref] {
				continue
			}
			g.Go(func() error {
				mu.Lock()
				dep := blockedBy(k, outcome)
				mu.Unlock()
				kr := r.one(ctx, work, watch, snap, k, dep, sts[k.Ref.String()])
				r.report(ctx, snap, msg, kr)
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
	if len(msg.Kustomizations) == 0 && work.Err() == nil {
		res.Removed = r.removeGone(ctx, work, snap, sts)
		for _, kr := range res.Removed {
			r.emit(ctx, snap, msg, kr, true)
		}
	}
	if failed := res.Failed(); len(failed) > 0 {
		return res, watch.moved(), &Error{Failed: failed, Interrupted: errors.Is(context.Cause(work), ErrDeadline)}
	}
	return res, watch.moved(), nil
}

func blockedBy(k fluxconfig.Kustomization, outcome map[fluxconfig.Ref]string) string {
	for _, d := range k.DependsOn {
		if outcome[d] == Failed {
			return d.String()
		}
	}
	return ""
}

func (r *Reconciler) report(ctx context.Context, snap *desired.Snapshot, msg queue.Reconcile, kr KustomizationResult) {
	sha := snap.Revision
	r.emit(ctx, snap, msg, kr, false)
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
