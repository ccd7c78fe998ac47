package cli

import (
	"context"
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/kube"
)

func object(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func entries(objs ...*unstructured.Unstructured) []kube.Entry {
	var es []kube.Entry
	for _, o := range objs {
		es = append(es, kube.EntryFor(o))
	}
	return es
}

func TestTreeKustomization(t *testing.T) {
	vars, repo := installation(t, "https://github.com/o/tree")
	ctx := context.Background()
	m := manager(t)
	must(t, m.SaveInventory(ctx, kube.Inventory{Owner: owner(repo, "flux-system", "flux-system"), Revision: revA, Entries: entries(
		object("v1", "Namespace", "", "prod"),
		object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "apps"),
		object("v1", "ConfigMap", "prod", "settings"),
	)}))
	must(t, m.SaveInventory(ctx, kube.Inventory{Owner: owner(repo, "flux-system", "apps"), Revision: revA, Entries: entries(
		object("apps/v1", "Deployment", "prod", "web"),
		object("v1", "Service", "prod", "web"),
	)}))

	out, stderr, code := run(t, vars, "tree", "kustomization", "flux-system")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	// Flux's apply order: Namespaces first, kinds it does not rank last.
	wantOutput(t, "tree", `Kustomization/flux-system/flux-system
├── Namespace/prod
├── ConfigMap/prod/settings
└── Kustomization/flux-system/apps
    ├── Service/prod/web
    └── Deployment/prod/web
`, out)

	out, _, code = run(t, vars, "tree", "ks", "apps", "-o", "json")
	var got treeNode
	if code != exitOK || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("-o json: exit %d, %q", code, out)
	}
	wantJSON(t, treeNode{Kind: "Kustomization", Namespace: "flux-system", Name: "apps", Resources: []*treeNode{
		{Kind: "Service", Namespace: "prod", Name: "web"}, {Kind: "Deployment", Namespace: "prod", Name: "web"},
	}}, got)

	if _, stderr, code := run(t, vars, "tree", "ks", "nope"); code != exitFail {
		t.Errorf("no inventory: exit %d (stderr %q), want %d", code, stderr, exitFail)
	}
	if _, stderr, code := run(t, vars, "tree", "ks"); code != exitUsage {
		t.Errorf("no name: exit %d (stderr %q), want %d", code, stderr, exitUsage)
	}
}
