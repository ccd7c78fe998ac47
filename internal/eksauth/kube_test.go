package eksauth

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/kube"
)

// TestDenialHintsReachKubeErrors: the reconcile and drift functions reach
// the cluster through kube.Manager (discovery, ssa's dry-runs and applies,
// inventory reads); a 401 or 403 on each of those paths still says what the
// role's EKS access entry needs.
func TestDenialHintsReachKubeErrors(t *testing.T) {
	ctx := context.Background()
	ns := freshNamespace(t)
	stranger := awstest.EKSIdentity{AccessKeyID: "AKIAUNKNOWN000000004", SecretAccessKey: "x"}
	for _, tt := range []struct {
		name string
		id   awstest.EKSIdentity
		want string
	}{
		{name: "401: no access entry", id: stranger, want: "needs an EKS access entry"},
		{name: "403: no rights", id: viewer, want: "access policy or Kubernetes groups"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nextSecond()
			cfg, err := staticProvider(t, e2eCluster, tt.id, e2eClock.Now, nil).RESTConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			m, err := kube.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			cm := func() []*unstructured.Unstructured {
				u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
					"metadata": map[string]any{"name": "denied", "namespace": ns}, "data": map[string]any{"a": "b"}}}
				return []*unstructured.Unstructured{u}
			}
			paths := map[string]func() error{
				"inventory": func() error {
					_, err := m.Inventory(ctx, kube.Owner{Installation: "0123456789abcdef0123", Namespace: "flux-system", Name: "denied"})
					return err
				},
				"diff": func() error {
					_, err := m.Diff(ctx, cm(), kube.DiffOptions{})
					return err
				},
				"apply": func() error {
					_, err := m.Apply(ctx, cm(), kube.ApplyOptions{})
					return err
				},
				"extra": func() error {
					_, err := m.Prunable(ctx, kube.Owner{Installation: "0123456789abcdef0123", Namespace: "flux-system", Name: "denied"}, kube.EntryFor(cm()[0]))
					return err
				},
			}
			for path, call := range paths {
				err := call()
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: error %v does not say %q", path, err, tt.want)
				}
			}
		})
	}
}
