package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/reconcile"
)

// statusPoll is how often a wait reads the statuses (one GET each).
var statusPoll = time.Second

type reconcileFlags struct {
	timeout time.Duration
	local   bool
}

func newReconcileCmd(app *App) *cobra.Command {
	rec := &cobra.Command{
		Use:   "reconcile",
		Short: "Ask Sluice to reconcile now, and wait for the outcome",
	}
	var f reconcileFlags
	ks := &cobra.Command{
		Use:     "kustomization NAME",
		Aliases: []string{"ks", "kustomizations"},
		Short:   "Reconcile a Kustomization at the config branch's head and wait until it is applied or fails",
		Long: `Queue a reconcile of the Kustomization NAME on the reconcile queue (SLUICE_RECONCILE_QUEUE_URL),
as a push would, and wait until its status shows the branch head applied (exit 0) or
failed (exit 1), or --timeout passes (exit 1). --local reconciles in this process instead,
with your own credentials for Git and the cluster.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := fluxconfig.Ref{Namespace: app.Namespace, Name: args[0]}
			return app.reconcileKustomizations(cmd.Context(), f, []fluxconfig.Ref{ref})
		},
	}
	git := &cobra.Command{
		Use:   "git [NAME]",
		Short: "Reconcile every Kustomization of the config repository at its branch's head, and wait",
		Long: `Queue a reconcile of every Kustomization of the config repository (Sluice serves one
GitRepository, the config repository; NAME is accepted as Flux's CLI takes it) and wait
until each Kustomization that is not suspended shows the branch head applied or failed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return app.reconcileKustomizations(cmd.Context(), f, nil)
		},
	}
	for _, c := range []*cobra.Command{ks, git} {
		c.Flags().DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long to wait for the outcome")
		c.Flags().BoolVar(&f.local, "local", false, "reconcile in this process, with your credentials, instead of queueing")
	}
	source := &cobra.Command{Use: "source", Short: "Reconcile a source"}
	source.AddCommand(git)
	image := &cobra.Command{Use: "image", Short: "Re-evaluate image automation"}
	image.AddCommand(&cobra.Command{
		Use:   "update NAME",
		Short: "Queue a re-evaluation of the ImagePolicies an ImageUpdateAutomation updates, against ECR now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.reevaluate(cmd.Context(), fluxconfig.Ref{Namespace: app.Namespace, Name: args[0]})
		},
	})
	rec.AddCommand(ks, source, image)
	return rec
}

// configSnapshot clones the config branch's head and reads its Flux objects.
func (a *App) configSnapshot(ctx context.Context) (configrepo.Repository, *gitrepo.Repo, *desired.Snapshot, error) {
	repo, err := a.Repo()
	if err != nil {
		return repo, nil, nil, err
	}
	env := a.Env()
	creds := gitrepo.LoadCredentials(ctx, env)
	if err := env.Err(); err != nil {
		return repo, nil, nil, err
	}
	git, err := gitrepo.New(repo.URL, creds)
	if err != nil {
		return repo, nil, nil, err
	}
	snap, err := desired.Open(ctx, git, repo)
	return repo, git, snap, err
}

// reconcileKustomizations reconciles refs (all of the config folder's when
// nil) and waits for the outcome.
func (a *App) reconcileKustomizations(ctx context.Context, f reconcileFlags, refs []fluxconfig.Ref) error {
	repo, git, snap, err := a.configSnapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	cluster, err := a.Cluster(ctx)
	if err != nil {
		return err
	}
	watched, err := a.toWatch(ctx, cluster, snap, refs)
	if err != nil {
		return err
	}
	msg := queue.Reconcile{Repository: repo.ID(), Branch: repo.Branch, Revision: snap.Revision, Reason: queue.ReasonManual, Kustomizations: []string{}}
	for _, r := range refs {
		msg.Kustomizations = append(msg.Kustomizations, r.String())
	}
	what := "every Kustomization of " + repo.Source()
	if len(refs) > 0 {
		what = "Kustomization " + refs[0].String()
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	if f.local {
		fmt.Fprintf(a.Err, "► reconciling %s at %s in this process\n", what, revision(repo.Branch, snap.Revision))
		return a.reconcileLocal(ctx, repo, git, cluster, msg)
	}
	before := map[kube.Owner]time.Time{}
	for _, w := range watched {
		before[w.owner] = w.lastAttempt
	}
	fmt.Fprintf(a.Err, "► queueing a reconcile of %s at %s\n", what, revision(repo.Branch, snap.Revision))
	id, err := a.send(ctx, envReconcileQueue, msg, queue.GroupID(repo.ID(), repo.Branch), snap.Revision)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Err, "✔ reconcile queued (message %s)\n", id)
	fmt.Fprintln(a.Err, "◎ waiting for Kustomization reconciliation")
	return a.waitApplied(ctx, cluster, git, repo.Branch, snap.Revision, before, f.timeout)
}

type watchedKustomization struct {
	owner       kube.Owner
	lastAttempt time.Time
}

// toWatch returns the Kustomizations whose status shows the outcome: those
// refs names (which must be in Git and not suspended), or every one of the
// config folder that is not suspended.
func (a *App) toWatch(ctx context.Context, cluster *kube.Manager, snap *desired.Snapshot, refs []fluxconfig.Ref) ([]watchedKustomization, error) {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.String()
	}
	ks, unknown := snap.Select(names)
	if len(unknown) > 0 {
		return nil, fmt.Errorf("Kustomization %s not found in %s at %s", strings.Join(unknown, ", "), snap.Repository.ConfigPath, revision(snap.Repository.Branch, snap.Revision))
	}
	var out []watchedKustomization
	for _, k := range ks {
		owner := desired.Owner(snap.Repository, k.Ref)
		st, err := cluster.ReadStatus(ctx, owner)
		if err != nil {
			return nil, err
		}
		suspended := k.Suspend || snap.SourceSuspended(k) || st != nil && st.Suspended
		switch {
		case suspended && len(refs) > 0:
			return nil, fmt.Errorf("Kustomization %s is suspended: it is not reconciled until it is resumed", k.Ref)
		case suspended:
			fmt.Fprintf(a.Err, "◎ Kustomization %s is suspended: not waited for\n", k.Ref)
			continue
		}
		w := watchedKustomization{owner: owner}
		if st != nil && st.LastAttempt != nil {
			w.lastAttempt = st.LastAttempt.At
		}
		out = append(out, w)
	}
	return out, nil
}

// waitApplied waits until the status of each Kustomization of before
// records an attempt newer than the one it held, finished at head (or at a
// newer head, when the branch moved meanwhile), and reports them as they
// finish: all applied is success, any failure an error naming it.
func (a *App) waitApplied(ctx context.Context, cluster *kube.Manager, git *gitrepo.Repo, branch, head string, before map[kube.Owner]time.Time, timeout time.Duration) error {
	pending := make([]kube.Owner, 0, len(before))
	for o := range before {
		pending = append(pending, o)
	}
	slices.SortFunc(pending, func(x, y kube.Owner) int { return strings.Compare(x.String(), y.String()) })
	var failed []error
	tick := time.NewTicker(statusPoll)
	defer tick.Stop()
	for len(pending) > 0 {
		var still []kube.Owner
		for _, o := range pending {
			st, err := cluster.ReadStatus(ctx, o)
			if err != nil {
				return err
			}
			done, err := a.finished(ctx, git, branch, &head, st, before[o])
			switch {
			case err != nil:
				failed = append(failed, err)
			case !done:
				still = append(still, o)
			}
		}
		if pending = still; len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			names := make([]string, len(pending))
			for i, o := range pending {
				names[i] = o.String()
			}
			failed = append(failed, fmt.Errorf("timed out after %s waiting for the reconciliation of %s at %s", timeout, strings.Join(names, ", "), revision(branch, head)))
			return errors.Join(failed...)
		case <-tick.C:
		}
	}
	return errors.Join(failed...)
}

// finished reports whether st records an attempt after the one at before
// that ended at *head (or at the branch's head now, which *head becomes), and
// prints its outcome; a failed one is returned as the error.
func (a *App) finished(ctx context.Context, git *gitrepo.Repo, branch string, head *string, st *kube.KustomizationStatus, before time.Time) (bool, error) {
	if st == nil || st.LastAttempt == nil || st.LastAttempt.At.Equal(before) || st.LastAttempt.Ready == metav1.ConditionUnknown {
		return false, nil
	}
	at := st.LastAttempt
	if sha := commitOf(at.Revision); sha != *head {
		now, err := git.Head(ctx, branch)
		if err != nil {
			return false, err
		}
		if sha != now {
			return false, nil
		}
		*head = now
	}
	if at.Ready == metav1.ConditionTrue {
		fmt.Fprintf(a.Err, "✔ Kustomization %s applied revision %s\n", st.Owner, revision(branch, *head))
		return true, nil
	}
	return true, fmt.Errorf("Kustomization %s failed at %s: %s: %s", st.Owner, revision(branch, *head), at.Reason, at.Message)
}

// commitOf is the commit of a recorded revision, which may be written as
// Flux writes it (main@sha1:<sha>) or as the bare commit.
func commitOf(rev string) string {
	if _, sha, ok := strings.Cut(rev, "@sha1:"); ok {
		return sha
	}
	return rev
}

// reconcileLocal runs the reconcile function's use case in this process.
func (a *App) reconcileLocal(ctx context.Context, repo configrepo.Repository, git *gitrepo.Repo, cluster *kube.Manager, msg queue.Reconcile) error {
	res, err := reconcile.New(repo, git, cluster, nil).Reconcile(ctx, msg)
	if res != nil {
		for _, k := range append(res.Kustomizations, res.Removed...) {
			switch k.Outcome {
			case reconcile.Applied:
				fmt.Fprintf(a.Err, "✔ Kustomization %s applied revision %s\n", k.Name, revision(repo.Branch, k.Revision))
			case reconcile.Skipped:
				fmt.Fprintf(a.Err, "◎ Kustomization %s skipped: %s\n", k.Name, k.Reason)
			}
		}
	}
	return err
}

// reevaluate queues a re-evaluation of the ImagePolicies the automation ref
// updates, as the drift function queues one.
func (a *App) reevaluate(ctx context.Context, ref fluxconfig.Ref) error {
	repo, _, snap, err := a.configSnapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	autos, autoErr := images.Automations(ctx, snap.Config, repo.URL, repo.Branch)
	i := slices.IndexFunc(autos, func(x images.Automation) bool { return x.Ref == ref })
	if i < 0 {
		return automationMissing(snap.Config, ref, repo, autoErr)
	}
	msg := queue.Reevaluate{Reason: queue.ReasonManual, Policies: []string{}}
	for _, p := range snap.Config.ImagePolicies {
		if autos[i].Selects(p) {
			msg.Policies = append(msg.Policies, p.Ref.String())
		}
	}
	if len(msg.Policies) == 0 {
		// An empty list means every policy: never send one for an
		// automation that updates none.
		return fmt.Errorf("ImageUpdateAutomation %s selects no ImagePolicy: nothing to re-evaluate", ref)
	}
	fmt.Fprintf(a.Err, "► queueing a re-evaluation of ImageUpdateAutomation %s (ImagePolicies %s)\n", ref, strings.Join(msg.Policies, ", "))
	id, err := a.send(ctx, envImageQueue, msg, queue.GroupID(repo.ID(), repo.Branch), snap.Revision)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Err, "✔ re-evaluation queued (message %s): a new tag is committed to %s, then applied\n", id, autos[i].PushBranch)
	return nil
}

// automationMissing says why ref is not an automation of this branch that
// can run.
func automationMissing(cfg *fluxconfig.Config, ref fluxconfig.Ref, repo configrepo.Repository, refused error) error {
	for _, a := range cfg.ImageUpdateAutomations {
		if a.Ref != ref {
			continue
		}
		if a.Suspend {
			return fmt.Errorf("ImageUpdateAutomation %s is suspended", ref)
		}
		if refused != nil {
			return refused
		}
		return fmt.Errorf("ImageUpdateAutomation %s does not update branch %s of the config repository", ref, repo.Branch)
	}
	return fmt.Errorf("ImageUpdateAutomation %s not found in %s", ref, repo.ConfigPath)
}

// send sends body to the queue the variable urlVar names, with the real SQS
// client (AWS_ENDPOINT_URL_SQS and the other AWS variables as usual).
func (a *App) send(ctx context.Context, urlVar string, body any, group, rev string) (string, error) {
	url, _ := a.getenv(urlVar)
	if url == "" {
		return "", fmt.Errorf("%s is not set: which queue? (or use --stack, or --local to reconcile in this process)", urlVar)
	}
	cfg, err := a.AWS(ctx)
	if err != nil {
		return "", err
	}
	return queue.NewSender(sqs.NewFromConfig(cfg), url).Send(ctx, body, group, manualDedupID(rev))
}

// manualDedupID makes each request its own message: asking twice is asking
// twice.
func manualDedupID(rev string) string {
	reqID := make([]byte, 8)
	_, _ = rand.Read(reqID)
	return queue.ManualDedupID(rev, hex.EncodeToString(reqID))
}

// revision is how Flux prints a revision: main@sha1:<sha>.
func revision(branch, sha string) string { return branch + "@sha1:" + sha }
