package reconcile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

const soloDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: example.com/web:1.0.0}]}
`

// soloStory points the fixture's Kustomization, renamed, at a folder of
// its own in a fresh namespace, holding files.
func soloStory(t *testing.T, name string, files map[string]string, spec string) *story {
	t.Helper()
	s := newStory(t)
	if err := kubetest.CreateNamespace(context.Background(), env.Config, name); err != nil {
		t.Fatal(err)
	}
	s.commit("A Kustomization of its own", func(dir string) error {
		errs := []error{os.MkdirAll(filepath.Join(dir, name), 0o755)}
		for f, body := range files {
			errs = append(errs, os.WriteFile(filepath.Join(dir, name, f), []byte(body), 0o644))
		}
		k := filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml")
		return errors.Join(append(errs,
			gittest.ReplaceInFile(k, "path: ./app/overlays/prod", "path: ./"+name+"\n  "+spec),
			gittest.ReplaceInFile(k, "targetNamespace: prod", "targetNamespace: "+name),
			gittest.ReplaceInFile(k, "name: task-tool\n  namespace", "name: "+name+"\n  namespace"))...)
	})
	return s
}

// TestWaitIgnoresHealthChecks: wait: true waits for every applied object
// and ignores healthChecks, as Flux does; here a check names an object that
// does not exist.
func TestWaitIgnoresHealthChecks(t *testing.T) {
	s := soloStory(t, "wait-all", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: solo}\ndata: {a: b}\n"},
		"wait: true\n  timeout: 30s\n  healthChecks: [{apiVersion: apps/v1, kind: Deployment, name: not-there, namespace: wait-all}]")
	res, err := s.reconcile()
	if err != nil {
		t.Fatalf("reconcile: %v (%+v)", err, res)
	}
}

// TestHealthCheckWithoutAPIVersion: a check naming a Deployment without an
// apiVersion finds it (apps/v1, as in Flux) and passes once it is available.
func TestHealthCheckWithoutAPIVersion(t *testing.T) {
	ctx := context.Background()
	ns := "health-default"
	s := soloStory(t, ns, map[string]string{"web.yaml": soloDeployment}, "timeout: 30s")
	if _, err := s.reconcile(); err != nil {
		t.Fatal(err)
	}
	// No controllers run here: report the Deployment available, as its
	// controller would.
	gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	d := dynamic.NewForConfigOrDie(env.Config).Resource(gvr).Namespace(ns)
	live, err := d.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live.Object["status"] = map[string]any{
		"observedGeneration": live.GetGeneration(), "replicas": int64(1), "updatedReplicas": int64(1),
		"readyReplicas": int64(1), "availableReplicas": int64(1),
		"conditions": []any{
			map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
			map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
		},
	}
	if _, err := d.UpdateStatus(ctx, live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.commit("Check web's health", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "timeout: 30s",
			"timeout: 30s\n  healthChecks: [{kind: Deployment, name: web, namespace: "+ns+"}]")
	})
	res, err := s.reconcile()
	if err != nil {
		t.Fatalf("reconcile: %v (%+v)", err, res)
	}
}
