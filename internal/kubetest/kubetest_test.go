package kubetest

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
)

var env *Env

func TestMain(m *testing.M) { Main(m, Options{CRDFiles: FixtureCRDs()}, &env) }

// TestServerSideApplyRoundTrip proves the API server is real: a server-side
// apply creates an object with managed fields, and a second apply by the same
// manager changes only what it changed.
func TestServerSideApplyRoundTrip(t *testing.T) {
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateNamespace(ctx, env.Config, "kubetest-ssa"); err != nil {
		t.Fatal(err)
	}
	cm := corev1apply.ConfigMap("settings", "kubetest-ssa").WithData(map[string]string{"a": "1"})
	opts := metav1.ApplyOptions{FieldManager: "sluice", Force: true}
	got, err := cs.CoreV1().ConfigMaps("kubetest-ssa").Apply(ctx, cm, opts)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if len(got.ManagedFields) != 1 || got.ManagedFields[0].Manager != "sluice" || got.ManagedFields[0].Operation != "Apply" {
		t.Fatalf("managed fields = %+v", got.ManagedFields)
	}
	rv := got.ResourceVersion
	got, err = cs.CoreV1().ConfigMaps("kubetest-ssa").Apply(ctx, cm, opts)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if got.ResourceVersion != rv {
		t.Errorf("an unchanged apply wrote a new resource version: %s → %s", rv, got.ResourceVersion)
	}
	got, err = cs.CoreV1().ConfigMaps("kubetest-ssa").Apply(ctx, cm.WithData(map[string]string{"a": "2"}), opts)
	if err != nil || got.Data["a"] != "2" {
		t.Fatalf("changing apply: %v, data %v", err, got.Data)
	}
	var ns corev1.Namespace
	if err := cs.CoreV1().RESTClient().Get().Resource("namespaces").Name("kubetest-ssa").Do(ctx).Into(&ns); err != nil {
		t.Fatal(err)
	}
}

func TestFixtureCRDInstalled(t *testing.T) {
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerResourcesForGroupVersion("cert-manager.io/v1"); err != nil {
		t.Fatalf("the Issuer CRD is not served: %v", err)
	}
}
