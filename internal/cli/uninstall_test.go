package cli

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

// Uninstall removes each inventory's objects as its deletionPolicy says
// (the one decision reconcile makes too), keeps an inventory whose policy
// it does not know, and never touches another installation's.
func TestUninstall(t *testing.T) {
	vars, repo := installation(t, "https://github.com/o/uninstall")
	ctx := context.Background()
	m := manager(t)
	must(t, kubetest.CreateNamespace(ctx, env.Config, "uninstall"))
	pruned, orphan, suspended, unknown := owner(repo, "flux-system", "pruned"), owner(repo, "flux-system", "orphan"), owner(repo, "flux-system", "suspended"), owner(repo, "team", "unknown")
	other := configrepo.Repository{URL: repo.URL + "-other", Branch: "main", ConfigPath: "clusters/prod"}
	objs := map[kube.Owner]*unstructured.Unstructured{
		pruned:    configMap(pruned, "uninstall", "pruned"),
		orphan:    configMap(orphan, "uninstall", "orphan"),
		suspended: configMap(suspended, "uninstall", "suspended"),
		unknown:   configMap(unknown, "uninstall", "unknown"),
	}
	// Listed in the pruned inventory, but not applied by Sluice: no ApplySet label.
	foreign := object("v1", "ConfigMap", "uninstall", "foreign")
	otherObj := configMap(owner(other, "flux-system", "pruned"), "uninstall", "other")
	create(t, objs[pruned], objs[orphan], objs[suspended], objs[unknown], foreign, otherObj)
	invs := []kube.Inventory{
		{Owner: pruned, Prune: true, Entries: entries(objs[pruned], foreign)},
		{Owner: orphan, Prune: true, DeletionPolicy: "Orphan", Entries: entries(objs[orphan])},
		{Owner: suspended, DeletionPolicy: "Delete", Suspended: true, Entries: entries(objs[suspended])},
		{Owner: unknown, Prune: true, DeletionPolicy: "Shred", Entries: entries(objs[unknown])},
		{Owner: owner(other, "flux-system", "pruned"), Prune: true, Entries: entries(otherObj)},
	}
	for _, inv := range invs {
		must(t, m.SaveInventory(ctx, inv))
	}
	must(t, m.RecordAttempt(ctx, pruned, attempt(revA, metav1.ConditionTrue, kube.ReasonSucceeded, "ok")))
	must(t, m.RecordAttempt(ctx, unknown, attempt(revA, metav1.ConditionTrue, kube.ReasonSucceeded, "ok")))
	must(t, m.RecordAttempt(ctx, owner(other, "flux-system", "pruned"), attempt(revA, metav1.ConditionTrue, kube.ReasonSucceeded, "ok")))

	everything := func() map[string]bool {
		got := map[string]bool{}
		for _, o := range []*unstructured.Unstructured{objs[pruned], objs[orphan], objs[suspended], objs[unknown], foreign, otherObj} {
			got["object "+o.GetName()] = exists(t, o)
		}
		for _, inv := range invs {
			i, err := m.Inventory(ctx, inv.Owner)
			must(t, err)
			st, err := m.ReadStatus(ctx, inv.Owner)
			must(t, err)
			got["inventory "+inv.Owner.String()+" "+inv.Owner.Installation] = i != nil
			got["status "+inv.Owner.String()+" "+inv.Owner.Installation] = st != nil
		}
		return got
	}
	before := everything()

	_, stderr, code := run(t, vars, "uninstall", "--dry-run")
	wantOutput(t, "dry run", `► Kustomization flux-system/orphan: deletionPolicy Orphan: objects kept
✔ inventory of flux-system/orphan deleted (dry run)
► Kustomization flux-system/pruned: deletionPolicy MirrorPrune
✔ ConfigMap/uninstall/pruned deleted (dry run)
✔ ConfigMap/uninstall/foreign skipped (dry run)
✔ inventory of flux-system/pruned deleted (dry run)
► Kustomization flux-system/suspended: deletionPolicy Delete, suspended in Git: objects kept
✔ inventory of flux-system/suspended deleted (dry run)
✗ Kustomization team/unknown: its inventory's deletionPolicy "Shred" is not one Sluice knows; nothing deleted, inventory kept
✔ status of flux-system/pruned deleted (dry run)
✗ uninstall incomplete: team/unknown kept
`, stderr)
	if code != exitFail {
		t.Errorf("dry run with an unknown policy: exit %d, want %d", code, exitFail)
	}
	wantJSON(t, before, everything())

	_, stderr, code = runIn(t, vars, "n\n", "uninstall")
	if code != exitFail || stderr != "? Are you sure you want to delete Sluice and its data [y/N] ✗ aborting\n" {
		t.Errorf("answered no: exit %d, stderr %q", code, stderr)
	}
	wantJSON(t, before, everything())

	_, stderr, code = runIn(t, vars, "y\n", "uninstall")
	wantOutput(t, "uninstall", `? Are you sure you want to delete Sluice and its data [y/N] ► Kustomization flux-system/orphan: deletionPolicy Orphan: objects kept
✔ inventory of flux-system/orphan deleted
► Kustomization flux-system/pruned: deletionPolicy MirrorPrune
✔ ConfigMap/uninstall/pruned deleted
✔ ConfigMap/uninstall/foreign skipped
✔ inventory of flux-system/pruned deleted
► Kustomization flux-system/suspended: deletionPolicy Delete, suspended in Git: objects kept
✔ inventory of flux-system/suspended deleted
✗ Kustomization team/unknown: its inventory's deletionPolicy "Shred" is not one Sluice knows; nothing deleted, inventory kept
✔ status of flux-system/pruned deleted
✗ uninstall incomplete: team/unknown kept
`, stderr)
	if code != exitFail {
		t.Errorf("with an unknown policy: exit %d, want %d", code, exitFail)
	}
	after := map[string]bool{
		// Only what the pruned inventory applied goes; the foreign object never had the label.
		"object pruned": false, "object orphan": true, "object suspended": true, "object unknown": true, "object foreign": true, "object other": true,
	}
	for _, inv := range invs {
		gone := inv.Owner.Installation == repo.Installation() && inv.Owner != unknown
		after["inventory "+inv.Owner.String()+" "+inv.Owner.Installation] = !gone
		after["status "+inv.Owner.String()+" "+inv.Owner.Installation] = before["status "+inv.Owner.String()+" "+inv.Owner.Installation] && !gone
	}
	wantJSON(t, after, everything())

	// Once the unknown policy is one Sluice knows, the rest goes too; the
	// namespace stays, holding the other installation's inventory.
	must(t, m.SaveInventory(ctx, kube.Inventory{Owner: unknown, DeletionPolicy: "Orphan", Entries: entries(objs[unknown])}))
	_, stderr, code = run(t, vars, "uninstall", "-s")
	wantOutput(t, "second uninstall", `► Kustomization team/unknown: deletionPolicy Orphan: objects kept
✔ inventory of team/unknown deleted
✔ status of team/unknown deleted
► namespace sluice-system kept: other installations' inventories are in it
✔ uninstall finished
`, stderr)
	if code != exitOK {
		t.Errorf("second uninstall: exit %d", code)
	}
	if out, _, _ := run(t, vars, "get", "ks", "-A"); out != "" {
		t.Errorf("get after uninstall:\n%s", out)
	}
}
