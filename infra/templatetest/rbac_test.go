package templatetest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/sluice-gitops/sluice/internal/render"
)

// readRBAC decodes infra/rbac.yaml strictly: its ClusterRole and the
// ClusterRoleBinding that grants it.
func readRBAC(t *testing.T) (rbacv1.ClusterRole, rbacv1.ClusterRoleBinding) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "infra", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := bytes.Split(data, []byte("\n---\n"))
	if len(docs) != 2 {
		t.Fatalf("infra/rbac.yaml has %d documents, want a ClusterRole and a ClusterRoleBinding", len(docs))
	}
	var role rbacv1.ClusterRole
	var binding rbacv1.ClusterRoleBinding
	if err := yaml.UnmarshalStrict(docs[0], &role); err != nil || role.Kind != "ClusterRole" {
		t.Fatalf("first document: %v (kind %q)", err, role.Kind)
	}
	if err := yaml.UnmarshalStrict(docs[1], &binding); err != nil || binding.Kind != "ClusterRoleBinding" {
		t.Fatalf("second document: %v (kind %q)", err, binding.Kind)
	}
	return role, binding
}

// rbacGroup is the one Kubernetes group infra/rbac.yaml binds its ClusterRole to.
func rbacGroup(t *testing.T) string {
	t.Helper()
	role, binding := readRBAC(t)
	if binding.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name}) {
		t.Fatalf("the binding refers to %+v, not the ClusterRole %s", binding.RoleRef, role.Name)
	}
	if len(binding.Subjects) != 1 || binding.Subjects[0].Kind != rbacv1.GroupKind || binding.Subjects[0].APIGroup != rbacv1.GroupName {
		t.Fatalf("binding subjects %+v, want one group", binding.Subjects)
	}
	return binding.Subjects[0].Name
}

// TestRBACCoversTheExample checks that the ClusterRole lets the sluice group
// do what a reconcile of the example config repository does: create its
// inventory namespace and ConfigMaps, and read, apply and prune every kind
// the example's overlay renders.
func TestRBACCoversTheExample(t *testing.T) {
	role, _ := readRBAC(t)
	objects, err := render.Build(filepath.Join(repoRoot, "examples", "task-tool-cluster-config"), render.Options{Path: "./app/overlays/prod", TargetNamespace: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	needs := map[schema.GroupResource][]string{
		{Resource: "namespaces"}: {"get", "create"}, // sluice-system, made on first use
		{Resource: "configmaps"}: {"get", "list", "patch", "delete"},
	}
	for _, obj := range objects {
		gvr, _ := meta.UnsafeGuessKindToResource(obj.GroupVersionKind())
		needs[gvr.GroupResource()] = []string{"get", "list", "watch", "create", "patch", "delete"}
	}
	for gr, verbs := range needs {
		for _, verb := range verbs {
			if !allows(role.Rules, gr, verb) {
				t.Errorf("the sluice ClusterRole does not allow %s on %s", verb, gr)
			}
		}
	}
	if _, ok := needs[schema.GroupResource{Group: "cert-manager.io", Resource: "issuers"}]; !ok || len(objects) < 9 {
		t.Errorf("rendered %d objects; the example has 9, among them a cert-manager Issuer", len(objects))
	}
}

// allows reports whether rules grant verb on gr, as the RBAC authorizer
// matches them ("*" included).
func allows(rules []rbacv1.PolicyRule, gr schema.GroupResource, verb string) bool {
	match := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
	for _, r := range rules {
		if match(r.APIGroups, gr.Group) && match(r.Resources, gr.Resource) && match(r.Verbs, verb) {
			return true
		}
	}
	return false
}
