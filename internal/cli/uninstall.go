package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/ssa"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/kube"
)

func newUninstallCmd(app *App) *cobra.Command {
	var dryRun, silent bool
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove what this installation applied, as each Kustomization's deletionPolicy says, then its inventories and statuses",
		Long: `Remove what this installation applied, as each Kustomization's deletionPolicy
says (MirrorPrune deletes with prune: true, Delete always, WaitForTermination
deletes and waits, Orphan never; a Kustomization suspended in Git keeps its
objects), then its inventories and statuses, and the namespace sluice-system
when no other installation uses it. Then delete the stack: sam delete.`,
		Example: "  sluice uninstall --dry-run\n  sluice uninstall -s",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return app.uninstall(cmd.Context(), dryRun, silent)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be deleted, and delete nothing")
	cmd.Flags().BoolVarP(&silent, "silent", "s", false, "delete without asking for confirmation")
	return cmd
}

func (a *App) uninstall(ctx context.Context, dryRun, silent bool) error {
	repo, cluster, err := a.installation(ctx)
	if err != nil {
		return err
	}
	invs, err := cluster.Inventories(ctx, repo.Installation())
	if err != nil {
		return err
	}
	statuses, err := cluster.ListStatuses(ctx, repo.Installation())
	if err != nil {
		return err
	}
	if !dryRun && !silent && !a.confirm("Are you sure you want to delete Sluice and its data") {
		return &ExitError{Code: exitFail, Err: errors.New("aborting")}
	}
	suffix := ""
	if dryRun {
		suffix = " (dry run)"
	}
	sortByNamespaceName(invs, func(inv kube.Inventory) (string, string) { return inv.Owner.Namespace, inv.Owner.Name })
	var failed []string
	for _, inv := range invs {
		if err := a.removeInventory(ctx, cluster, inv, dryRun, suffix); err != nil {
			fmt.Fprintf(a.Err, "✗ Kustomization %s: %v\n", inv.Owner, err)
			failed = append(failed, inv.Owner.String())
		}
	}
	kept := map[string]bool{}
	for _, f := range failed {
		kept[f] = true
	}
	for _, st := range statuses {
		if kept[st.Owner.String()] {
			continue
		}
		if !dryRun {
			if err := cluster.DeleteStatus(ctx, st.Owner); err != nil {
				return err
			}
		}
		fmt.Fprintf(a.Err, "✔ status of %s deleted%s\n", st.Owner, suffix)
	}
	if len(failed) > 0 {
		return &ExitError{Code: exitFail, Err: fmt.Errorf("uninstall incomplete: %s kept", strings.Join(failed, ", "))}
	}
	switch {
	case dryRun:
		fmt.Fprintf(a.Err, "✔ namespace %s deleted unless another installation uses it%s\n", kube.InventoryNamespace, suffix)
	default:
		deleted, err := cluster.DeleteInventoryNamespace(ctx)
		if err != nil {
			return err
		}
		if deleted {
			fmt.Fprintf(a.Err, "✔ namespace %s deleted\n", kube.InventoryNamespace)
		} else {
			fmt.Fprintf(a.Err, "► namespace %s kept: other installations' inventories are in it\n", kube.InventoryNamespace)
		}
	}
	fmt.Fprintf(a.Err, "✔ uninstall finished%s\n", suffix)
	return nil
}

// removeInventory handles one inventory's objects as inv.Removal decides,
// then deletes the inventory. An inventory whose removal cannot be decided
// is kept, and nothing of it deleted.
func (a *App) removeInventory(ctx context.Context, cluster *kube.Manager, inv kube.Inventory, dryRun bool, suffix string) error {
	rm, err := inv.Removal()
	if err != nil {
		return fmt.Errorf("%w; nothing deleted, inventory kept", err)
	}
	fmt.Fprintf(a.Err, "► Kustomization %s: deletionPolicy %s%s\n", inv.Owner, rm.Policy, keptWhy(inv, rm))
	if rm.Delete {
		if dryRun {
			if err := a.dryPrune(ctx, cluster, inv, suffix); err != nil {
				return err
			}
		} else {
			changes, err := cluster.Prune(ctx, inv.Owner, inv.Entries)
			for _, c := range changes {
				fmt.Fprintf(a.Err, "✔ %s %s\n", c.ID, c.Action)
			}
			if err != nil {
				return fmt.Errorf("%w; inventory kept", err)
			}
			if rm.Wait {
				fmt.Fprintf(a.Err, "◎ waiting for termination (at most %s)\n", rm.Timeout)
				if err := cluster.WaitForTermination(ctx, kube.DeletedEntries(inv.Entries, changes), rm.Timeout); err != nil {
					return fmt.Errorf("%w; inventory kept", err)
				}
			}
		}
	}
	if !dryRun {
		if err := cluster.DeleteInventory(ctx, inv.Owner); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.Err, "✔ inventory of %s deleted%s\n", inv.Owner, suffix)
	return nil
}

// dryPrune lists what a prune of inv would do, in the order it would:
// delete what is there and still Sluice's, skip the rest.
func (a *App) dryPrune(ctx context.Context, cluster *kube.Manager, inv kube.Inventory, suffix string) error {
	objs := make([]*unstructured.Unstructured, 0, len(inv.Entries))
	byID := map[string]kube.Entry{}
	for _, e := range inv.Entries {
		obj, err := e.Object()
		if err != nil {
			return err
		}
		objs = append(objs, obj)
		byID[kube.ObjectID(obj)] = e
	}
	// A prune deletes in the reverse of the apply order.
	sort.Sort(sort.Reverse(ssa.SortableUnstructureds(objs)))
	for _, obj := range objs {
		ok, err := cluster.Prunable(ctx, inv.Owner, byID[kube.ObjectID(obj)])
		if err != nil {
			return err
		}
		action := kube.Deleted
		if !ok {
			action = kube.Skipped
		}
		fmt.Fprintf(a.Err, "✔ %s %s%s\n", kube.ObjectID(obj), action, suffix)
	}
	return nil
}

// keptWhy says why a removal keeps the objects, when it does.
func keptWhy(inv kube.Inventory, rm kube.Removal) string {
	switch {
	case rm.Delete:
		return ""
	case inv.Suspended:
		return ", suspended in Git: objects kept"
	case rm.Policy == "Orphan":
		return ": objects kept"
	}
	return ", prune: false: objects kept"
}

// confirm asks question on the terminal and reads y or yes; anything else,
// or no answer, is no.
func (a *App) confirm(question string) bool {
	fmt.Fprintf(a.Err, "? %s [y/N] ", question)
	line, _ := bufio.NewReader(a.In).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
