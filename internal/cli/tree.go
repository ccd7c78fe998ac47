package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/ssa"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/kube"
)

func newTreeCmd(app *App) *cobra.Command {
	tree := &cobra.Command{
		Use:   "tree",
		Short: "Show what a Kustomization applied, as `flux tree` does",
	}
	tree.AddCommand(&cobra.Command{
		Use:     "kustomization NAME",
		Aliases: []string{"ks"},
		Short:   "The objects in a Kustomization's inventory, as a tree",
		Example: "  sluice tree kustomization apps\n  sluice tree ks flux-system -o json",
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.tree(cmd.Context(), args[0])
		},
	})
	return tree
}

// treeNode is an object and, for a Kustomization of this installation that
// another one applied, what it applied in turn.
type treeNode struct {
	Kind      string      `json:"kind"`
	Namespace string      `json:"namespace,omitempty"`
	Name      string      `json:"name"`
	Resources []*treeNode `json:"resources,omitempty"`
}

func (n *treeNode) String() string {
	if n.Namespace == "" {
		return n.Kind + "/" + n.Name
	}
	return n.Kind + "/" + n.Namespace + "/" + n.Name
}

func (a *App) tree(ctx context.Context, name string) error {
	repo, cluster, err := a.installation(ctx)
	if err != nil {
		return err
	}
	invs, err := cluster.Inventories(ctx, repo.Installation())
	if err != nil {
		return err
	}
	byOwner := map[string]*kube.Inventory{}
	for i := range invs {
		byOwner[invs[i].Owner.String()] = &invs[i]
	}
	owner := a.Namespace + "/" + name
	if byOwner[owner] == nil {
		return fmt.Errorf("Kustomization %s has no inventory: this installation has not applied it", owner)
	}
	root, err := inventoryTree(byOwner, owner, map[string]bool{})
	if err != nil {
		return err
	}
	if a.Output != "table" {
		return a.print(root, table{})
	}
	var b strings.Builder
	b.WriteString(root.String() + "\n")
	writeTree(&b, root.Resources, "")
	_, err = fmt.Fprint(a.Out, b.String())
	return err
}

// inventoryTree builds the tree of owner's inventory, in apply order;
// visiting guards against a Kustomization that applies itself.
func inventoryTree(invs map[string]*kube.Inventory, owner string, visiting map[string]bool) (*treeNode, error) {
	inv := invs[owner]
	root := &treeNode{Kind: "Kustomization", Namespace: inv.Owner.Namespace, Name: inv.Owner.Name}
	visiting[owner] = true
	defer delete(visiting, owner)
	objs := make([]*unstructured.Unstructured, 0, len(inv.Entries))
	for _, e := range inv.Entries {
		obj, err := e.Object()
		if err != nil {
			return nil, fmt.Errorf("the inventory of %s: %w", owner, err)
		}
		objs = append(objs, obj)
	}
	// Flux's inventories list objects in apply order, which its tree keeps.
	sort.Sort(ssa.SortableUnstructureds(objs))
	for _, obj := range objs {
		n := &treeNode{Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
		child := obj.GetNamespace() + "/" + obj.GetName()
		if obj.GroupVersionKind().Group == "kustomize.toolkit.fluxcd.io" && n.Kind == "Kustomization" && invs[child] != nil && !visiting[child] {
			sub, err := inventoryTree(invs, child, visiting)
			if err != nil {
				return nil, err
			}
			n = sub
		}
		root.Resources = append(root.Resources, n)
	}
	return root, nil
}

// writeTree draws nodes as `flux tree` does, with box-drawing branches.
func writeTree(b *strings.Builder, nodes []*treeNode, indent string) {
	for i, n := range nodes {
		branch, next := "├── ", "│   "
		if i == len(nodes)-1 {
			branch, next = "└── ", "    "
		}
		b.WriteString(indent + branch + n.String() + "\n")
		writeTree(b, n.Resources, indent+next)
	}
}
