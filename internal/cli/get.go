package cli

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-gitops/sluice/internal/kube"
)

// listing is what one `get` found: its items for -o json|yaml and its table.
type listing struct {
	// kind is Flux's kind, as `get`'s messages and `get all`'s names say it.
	kind  string
	items any
	table table
	count int
}

// lister lists one kind; named prefixes each NAME with "<kind>/", as
// `flux get all` does.
type lister func(ctx context.Context, name string, named bool) (listing, error)

func newGetCmd(app *App) *cobra.Command {
	get := &cobra.Command{
		Use:   "get",
		Short: "Show what Sluice applied and how it went, as `flux get` does",
	}
	get.AddCommand(
		newGetKustomizationsCmd(app),
		newGetSourcesCmd(app),
		newGetAllCmd(app),
		newGetImagesCmd(app),
	)
	return get
}

func newGetKustomizationsCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:     "kustomizations [NAME]",
		Aliases: []string{"ks", "kustomization"},
		Short:   "NAME, REVISION, SUSPENDED, READY, MESSAGE of each Kustomization, from the status the functions record",
		Example: "  sluice get kustomizations\n  sluice get ks apps -n flux-system\n  sluice get ks -A -o json",
		Args:    usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.get(cmd.Context(), app.listKustomizations, args)
		},
	}
}

func newGetAllCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "all",
		Short: "Every kind `get` shows: sources, Kustomizations, then the image automation",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			listers := []lister{app.listGitSources, app.listKustomizations}
			imgs, err := app.imageListers(ctx)
			if err != nil {
				return err
			}
			return app.getAll(ctx, append(listers, imgs...)...)
		},
	}
}

// get prints one kind, or says, as Flux does, that there is none.
func (a *App) get(ctx context.Context, list lister, args []string) error {
	name := ""
	if len(args) > 0 {
		name = args[0]
	}
	l, err := list(ctx, name, false)
	if err != nil {
		return err
	}
	if l.count == 0 {
		if name != "" {
			return fmt.Errorf("%s %s not found in %s", l.kind, name, a.scope())
		}
		if a.Output == "table" {
			fmt.Fprintf(a.Err, "✗ no %s objects found in %s\n", l.kind, a.scope())
			return nil
		}
	}
	return a.print(l.items, l.table)
}

// getAll prints the tables of every kind that has objects, a blank line
// apart, or one JSON/YAML object keyed by kind.
func (a *App) getAll(ctx context.Context, listers ...lister) error {
	var ls []listing
	for _, list := range listers {
		l, err := list(ctx, "", true)
		if err != nil {
			return err
		}
		ls = append(ls, l)
	}
	if a.Output != "table" {
		all := map[string]any{}
		for _, l := range ls {
			all[l.kind] = l.items
		}
		return a.print(all, table{})
	}
	printed := false
	for _, l := range ls {
		if l.count == 0 {
			continue
		}
		if printed {
			fmt.Fprintln(a.Out)
		}
		if err := a.print(nil, l.table); err != nil {
			return err
		}
		printed = true
	}
	return nil
}

// scope says which namespaces a listing covers, for messages.
func (a *App) scope() string {
	if a.AllNamespaces {
		return "any namespace"
	}
	return a.Namespace + " namespace"
}

// inScope reports whether namespace is one the flags ask for.
func (a *App) inScope(namespace string) bool { return a.AllNamespaces || namespace == a.Namespace }

// newTable starts a table with headers, a NAMESPACE column first with -A.
func (a *App) newTable(headers ...string) table {
	if a.AllNamespaces {
		headers = append([]string{"NAMESPACE"}, headers...)
	}
	return table{headers: headers}
}

// addRow adds cells for the object ns/name, named as the listing asks.
func (a *App) addRow(t *table, kind string, named bool, ns, name string, cells ...string) {
	if named {
		name = strings.ToLower(kind) + "/" + name
	}
	row := append([]string{name}, cells...)
	if a.AllNamespaces {
		row = append([]string{ns}, row...)
	}
	t.add(row...)
}

// kustomizationItem is a Kustomization as `get -o json|yaml` shows it.
type kustomizationItem struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Revision is the last revision applied in full.
	Revision    string `json:"revision"`
	Suspended   bool   `json:"suspended"`
	SuspendedBy string `json:"suspendedBy,omitempty"`
	Ready       string `json:"ready"`
	Reason      string `json:"reason,omitempty"`
	Message     string `json:"message"`

	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`
	LastAttemptedAt       string `json:"lastAttemptedAt,omitempty"`
	LastAttemptDuration   string `json:"lastAttemptDuration,omitempty"`
	LastDriftCheckAt      string `json:"lastDriftCheckAt,omitempty"`
	DriftInSync           *bool  `json:"driftInSync,omitempty"`
}

// listKustomizations reads the installation's statuses, and the
// inventories of Kustomizations applied before statuses were recorded.
func (a *App) listKustomizations(ctx context.Context, name string, named bool) (listing, error) {
	repo, cluster, err := a.installation(ctx)
	if err != nil {
		return listing{}, err
	}
	statuses, err := cluster.ListStatuses(ctx, repo.Installation())
	if err != nil {
		return listing{}, err
	}
	invs, err := cluster.Inventories(ctx, repo.Installation())
	if err != nil {
		return listing{}, err
	}
	items := kustomizationItems(statuses, invs, repo.Branch)
	l := listing{kind: "Kustomization", table: a.newTable("NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE")}
	var shown []kustomizationItem
	for _, it := range items {
		if !a.inScope(it.Namespace) || (name != "" && it.Name != name) {
			continue
		}
		shown = append(shown, it)
		a.addRow(&l.table, l.kind, named, it.Namespace, it.Name, it.Revision, title(it.Suspended), it.Ready, it.Message)
	}
	l.items, l.count = nonNil(shown), len(shown)
	return l, nil
}

// kustomizationItems joins statuses and inventories by Kustomization, in
// namespace/name order.
func kustomizationItems(statuses []kube.KustomizationStatus, invs []kube.Inventory, branch string) []kustomizationItem {
	byOwner := map[string]*kube.Inventory{}
	for i := range invs {
		byOwner[invs[i].Owner.String()] = &invs[i]
	}
	seen := map[string]bool{}
	var out []kustomizationItem
	for i := range statuses {
		st := &statuses[i]
		seen[st.Owner.String()] = true
		out = append(out, kustomizationItemOf(st.Owner, st, byOwner[st.Owner.String()], branch))
	}
	for i := range invs {
		if !seen[invs[i].Owner.String()] {
			out = append(out, kustomizationItemOf(invs[i].Owner, nil, &invs[i], branch))
		}
	}
	sortByNamespaceName(out, func(it kustomizationItem) (string, string) { return it.Namespace, it.Name })
	return out
}

func kustomizationItemOf(owner kube.Owner, st *kube.KustomizationStatus, inv *kube.Inventory, branch string) kustomizationItem {
	it := kustomizationItem{Namespace: owner.Namespace, Name: owner.Name, Ready: "Unknown", Message: "no reconcile recorded yet"}
	if inv != nil {
		it.Revision = fluxRevision(branch, inv.Revision)
		// Until the status records the Git suspension, the inventory does.
		it.Suspended = inv.Suspended
	}
	if st == nil {
		return it
	}
	if st.LastAppliedRevision != "" {
		it.Revision = fluxRevision(branch, st.LastAppliedRevision)
	}
	it.Suspended = it.Suspended || st.Suspended
	it.SuspendedBy = st.SuspendedBy
	if at := st.LastAttempt; at != nil {
		it.Ready, it.Reason, it.Message = string(at.Ready), at.Reason, at.Message
		it.LastAttemptedRevision = fluxRevision(branch, at.Revision)
		it.LastAttemptedAt = timeString(at.At)
		if at.Duration > 0 {
			it.LastAttemptDuration = at.Duration.String()
		}
	}
	if dc := st.LastDriftCheck; dc != nil {
		it.LastDriftCheckAt = timeString(dc.At)
		inSync := dc.InSync
		it.DriftInSync = &inSync
	}
	return it
}

var sha1Hex = regexp.MustCompile(`^[0-9a-f]{40}$`)

// fluxRevision writes a commit as Flux's revisions do, "main@sha1:<sha>";
// anything else (already in that form, or empty) stays as it is.
func fluxRevision(branch, rev string) string {
	if sha1Hex.MatchString(rev) {
		return branch + "@sha1:" + rev
	}
	return rev
}
