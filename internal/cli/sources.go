package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

func newGetSourcesCmd(app *App) *cobra.Command {
	sources := &cobra.Command{
		Use:     "sources",
		Aliases: []string{"source"},
		Short:   "Show the sources Sluice applies from",
	}
	sources.AddCommand(&cobra.Command{
		Use:     "git [NAME]",
		Short:   "The config repository's GitRepository: its branch head, and whether the head is applied everywhere",
		Example: "  sluice get sources git",
		Args:    usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.get(cmd.Context(), app.listGitSources, args)
		},
	})
	return sources
}

// gitSourceItem is a GitRepository as `get sources git -o json|yaml` shows it.
type gitSourceItem struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	// Revision is the branch head now (ls-remote).
	Revision  string `json:"revision"`
	Suspended bool   `json:"suspended"`
	Ready     string `json:"ready"`
	Message   string `json:"message"`
}

// listGitSources lists the GitRepositories of the config folder that the
// config repository's clone serves, at the branch head as the remote has
// it now, and whether every Kustomization that applies from each one has
// applied that head.
func (a *App) listGitSources(ctx context.Context, name string, named bool) (listing, error) {
	git, repo, err := a.Git(ctx)
	if err != nil {
		return listing{}, err
	}
	head, err := git.Head(ctx, repo.Branch)
	if err != nil {
		return listing{}, fmt.Errorf("asking the config repository for its head: %w", err)
	}
	snap, err := desired.Open(ctx, git, repo)
	if err != nil {
		return listing{}, err
	}
	defer snap.Close()
	cluster, err := a.Cluster(ctx)
	if err != nil {
		return listing{}, err
	}
	statuses, err := cluster.ListStatuses(ctx, repo.Installation())
	if err != nil {
		return listing{}, err
	}
	byOwner := map[string]kube.KustomizationStatus{}
	for _, st := range statuses {
		byOwner[st.Owner.String()] = st
	}
	l := listing{kind: "GitRepository", table: a.newTable("NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE")}
	var shown []gitSourceItem
	for _, g := range snap.Config.GitRepositories {
		if id, err := repoid.Parse(g.URL); err != nil || id != repo.ID() {
			continue // not the config repository's: not served by its clone
		}
		if !a.inScope(g.Namespace) || (name != "" && g.Name != name) {
			continue
		}
		it := gitSourceItem{Namespace: g.Namespace, Name: g.Name, URL: git.URL(), Revision: fluxRevision(repo.Branch, head), Suspended: g.Suspend}
		it.Ready, it.Message = headApplied(g, snap.Config.Kustomizations, byOwner, head, repo.Branch)
		shown = append(shown, it)
		a.addRow(&l.table, l.kind, named, it.Namespace, it.Name, it.Revision, title(it.Suspended), it.Ready, it.Message)
	}
	sortByNamespaceName(shown, func(it gitSourceItem) (string, string) { return it.Namespace, it.Name })
	l.items, l.count = nonNil(shown), len(shown)
	return l, nil
}

// headApplied says whether head is applied by every Kustomization that
// applies from g (suspended ones aside): True when it is, False when an
// attempt at head failed, Unknown while some have yet to get to it.
func headApplied(g fluxconfig.GitRepository, ks []fluxconfig.Kustomization, statuses map[string]kube.KustomizationStatus, head, branch string) (ready, message string) {
	rev := fluxRevision(branch, head)
	var total int
	var pending, failed []string
	for _, k := range ks {
		if k.SourceRef.Kind != "GitRepository" || k.SourceRef.Ref != g.Ref {
			continue
		}
		st, ok := statuses[k.Ref.String()]
		if k.Suspend || (ok && st.Suspended) {
			continue
		}
		total++
		switch {
		case ok && sameRevision(st.LastAppliedRevision, head):
		case ok && st.LastAttempt != nil && sameRevision(st.LastAttempt.Revision, head) && st.LastAttempt.Ready == metav1.ConditionFalse:
			failed = append(failed, k.Ref.String())
		default:
			pending = append(pending, k.Ref.String())
		}
	}
	applied := total - len(failed) - len(pending)
	switch {
	case len(failed) > 0:
		return "False", fmt.Sprintf("revision %s failed in %s; applied by %d of %d Kustomizations", rev, strings.Join(failed, ", "), applied, total)
	case len(pending) > 0:
		return "Unknown", fmt.Sprintf("revision %s not yet applied by %s; applied by %d of %d Kustomizations", rev, strings.Join(pending, ", "), applied, total)
	}
	return "True", fmt.Sprintf("revision %s applied by %d of %d Kustomizations", rev, applied, total)
}

// sameRevision compares a recorded revision, bare or in Flux's form, with
// a commit.
func sameRevision(recorded, sha string) bool {
	if i := strings.LastIndex(recorded, "@sha1:"); i >= 0 {
		recorded = recorded[i+len("@sha1:"):]
	}
	return recorded != "" && recorded == sha
}
