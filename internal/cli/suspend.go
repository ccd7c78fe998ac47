package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
)

func newSuspendCmd(app *App) *cobra.Command { return newSuspendResumeCmd(app, true) }
func newResumeCmd(app *App) *cobra.Command  { return newSuspendResumeCmd(app, false) }

// newSuspendResumeCmd builds `suspend` or `resume`: the in-cluster mark that
// reconcile and drift honour at once, with no commit.
func newSuspendResumeCmd(app *App, suspend bool) *cobra.Command {
	verb, short := "resume", "Lift the in-cluster suspension of a Kustomization, and queue its reconcile"
	if suspend {
		verb, short = "suspend", "Stop reconcile and drift correction of a Kustomization until it is resumed, with no commit"
	}
	cmd := &cobra.Command{Use: verb, Short: short}
	var all bool
	ks := &cobra.Command{
		Use:     "kustomization [NAME]",
		Aliases: []string{"ks"},
		Short:   short,
		Example: fmt.Sprintf("  sluice %[1]s kustomization apps\n  sluice %[1]s ks --all -n flux-system", verb),
		Args:    usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) {
				return usageErrorf("name a Kustomization or give --all, not both")
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return app.suspend(cmd.Context(), name, suspend)
		},
	}
	ks.Flags().BoolVar(&all, "all", false, fmt.Sprintf("%s every Kustomization of the namespace (of every namespace with -A)", verb))
	cmd.AddCommand(ks)
	return cmd
}

// suspend sets or lifts the mark on the Kustomization name (every one in
// scope when empty) that this installation reconciles; a resume then
// queues a manual reconcile of them when a reconcile queue is configured.
func (a *App) suspend(ctx context.Context, name string, suspend bool) error {
	repo, cluster, err := a.installation(ctx)
	if err != nil {
		return err
	}
	owners, err := a.knownOwners(ctx, cluster, repo.Installation(), name)
	if err != nil {
		return err
	}
	by, err := a.Identity(ctx)
	if err != nil {
		return err
	}
	verb, done := "resuming", "resumed"
	if suspend {
		verb, done = "suspending", "suspended"
	}
	var names []string
	for _, o := range owners {
		fmt.Fprintf(a.Err, "► %s kustomization %s in %s namespace\n", verb, o.Name, o.Namespace)
		if err := cluster.SetSuspended(ctx, o, suspend, by); err != nil {
			return err
		}
		fmt.Fprintf(a.Err, "✔ kustomization %s\n", done)
		names = append(names, o.String())
	}
	if suspend {
		return nil
	}
	return a.queueReconcile(ctx, names)
}

// knownOwners are the Kustomizations of the installation that have an
// inventory or a status (that a reconcile has met), in scope and named
// name when it is set.
func (a *App) knownOwners(ctx context.Context, cluster *kube.Manager, installation, name string) ([]kube.Owner, error) {
	statuses, err := cluster.ListStatuses(ctx, installation)
	if err != nil {
		return nil, err
	}
	invs, err := cluster.Inventories(ctx, installation)
	if err != nil {
		return nil, err
	}
	var owners []kube.Owner
	seen := map[kube.Owner]bool{}
	add := func(o kube.Owner) {
		if !seen[o] && a.inScope(o.Namespace) && (name == "" || o.Name == name) {
			seen[o] = true
			owners = append(owners, o)
		}
	}
	for _, st := range statuses {
		add(st.Owner)
	}
	for _, inv := range invs {
		add(inv.Owner)
	}
	if len(owners) == 0 {
		if name != "" {
			return nil, fmt.Errorf("Kustomization %s/%s not found: this installation has not reconciled it", a.Namespace, name)
		}
		return nil, fmt.Errorf("no Kustomization of this installation in %s", a.scope())
	}
	sortByNamespaceName(owners, func(o kube.Owner) (string, string) { return o.Namespace, o.Name })
	return owners, nil
}

// queueReconcile sends a manual reconcile of names through the queue's
// contract, or says that none is configured.
func (a *App) queueReconcile(ctx context.Context, names []string) error {
	sender, err := a.ReconcileQueue(ctx)
	if err != nil {
		return err
	}
	if sender == nil {
		fmt.Fprintf(a.Err, "► no reconcile queue (%s): the next push or drift check applies it\n", envReconcileQueue)
		return nil
	}
	repo, err := a.Repo()
	if err != nil {
		return err
	}
	msg := queue.Reconcile{Repository: repo.ID(), Branch: repo.Branch, Reason: queue.ReasonManual, Kustomizations: names}
	id, err := sender.Send(ctx, msg, queue.GroupID(repo.ID(), repo.Branch), manualDedupID("resume"))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Err, "◎ reconcile queued (message %s)\n", id)
	return nil
}
