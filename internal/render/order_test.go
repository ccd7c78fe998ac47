package render_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/sluice-gitops/sluice/internal/render"
)

// manyKinds is one object of each kind, group and namespace whose place in
// kustomize's legacy order takes a rule: kinds it puts first and last, in its
// order; kinds it does not list; a Namespace of another group than core
// (kustomize puts core's after it); the same kind in two groups and two
// versions; namespaces and names where comparing "ns|name" as one string and
// as a pair disagree ("a|…" sorts after "a-x|…"); cluster-scoped objects.
// They are listed out of order.
var manyKinds = []struct{ apiVersion, kind, namespace, name string }{
	{"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "", "vwc"},
	{"example.com/v1", "Widget", "a", "w"},
	{"v1", "ConfigMap", "a-x", "c"},
	{"v1", "ConfigMap", "a", "c"},
	{"v1", "ConfigMap", "a", "c-x"},
	{"v1", "ConfigMap", "", "c"},
	{"admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "", "mwc"},
	{"example.org/v1", "Widget", "a", "w"},
	{"example.com/v2", "Widget", "a", "w"},
	{"apps/v1", "Deployment", "a", "d"},
	{"v1", "Namespace", "", "a"},
	{"example.com/v1", "Namespace", "", "a"},
	{"v1", "Namespace", "", "a-x"},
	{"apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com"},
	{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "cr"},
	{"rbac.authorization.k8s.io/v1", "Role", "a", "r"},
	{"v1", "Secret", "a", "s"},
	{"v1", "Service", "a", "svc"},
	{"batch/v1", "Job", "a", "j"},
	{"policy/v1", "PodDisruptionBudget", "a", "pdb"},
}

func manyKindsYAML() string {
	var b strings.Builder
	for _, o := range manyKinds {
		fmt.Fprintf(&b, "---\napiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n", o.apiVersion, o.kind, o.name)
		if o.namespace != "" {
			fmt.Fprintf(&b, "  namespace: %s\n", o.namespace)
		}
	}
	return b.String()
}

// TestBuildOrderMatchesKustomize checks that objects come out in the order
// kubectl kustomize prints them, comparing with kustomize's own build of the
// same tree: render sorts in legacy order itself, and leaves sortOptions to
// kustomize.
func TestBuildOrderMatchesKustomize(t *testing.T) {
	const head = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - all.yaml\n"
	tests := []struct {
		name          string
		kustomization string
	}{
		{"legacy order", head},
		{"legacy order of renamed objects", head + "namePrefix: p-\nnameSuffix: -s\n"},
		{"sortOptions fifo", head + "sortOptions:\n  order: fifo\n"},
		{"sortOptions legacy with its own kinds", head + "sortOptions:\n  order: legacy\n  legacySortOptions:\n    orderFirst: [Service, Widget]\n    orderLast: [ConfigMap]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, map[string]string{"app/kustomization.yaml": tt.kustomization, "app/all.yaml": manyKindsYAML()})
			objects, err := render.Build(root, render.Options{Path: "./app"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objects {
				got = append(got, o.GetAPIVersion()+" "+o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
			}
			if diff := cmp.Diff(kustomizeOrder(t, filepath.Join(root, "app")), got); diff != "" {
				t.Errorf("order differs from kustomize's (-kustomize +render):\n%s", diff)
			}
		})
	}
}

// kustomizeOrder builds dir as kubectl kustomize does and names its objects
// in order.
func kustomizeOrder(t *testing.T, dir string) []string {
	t.Helper()
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range m.Resources() {
		out = append(out, r.GetApiVersion()+" "+r.GetKind()+"/"+r.GetNamespace()+"/"+r.GetName())
	}
	return out
}
