package reconcile

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

// useFolder replaces the config folder's Kustomization with one named ns/ns
// that builds ./<folder> into namespace ns, with extra spec lines, and writes
// files (relative to the repository root).
func (s *story) useFolder(ns, folder, spec string, files map[string]string) {
	s.t.Helper()
	if err := kubetest.CreateNamespace(context.Background(), env.Config, ns); err != nil {
		s.t.Fatal(err)
	}
	ks := "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + ns + "\n  namespace: " + ns + "\n" +
		"spec:\n  interval: 5m\n  path: ./" + folder + "\n  prune: true\n  targetNamespace: " + ns + "\n" +
		"  sourceRef: {kind: GitRepository, name: task-tool, namespace: flux-system}\n" + spec
	s.commit("Build "+folder, func(dir string) error {
		var errs []error
		for name, content := range files {
			p := filepath.Join(dir, name)
			errs = append(errs, os.MkdirAll(filepath.Dir(p), 0o755), os.WriteFile(p, []byte(content), 0o644))
		}
		errs = append(errs, os.WriteFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), []byte(ks), 0o644))
		return errors.Join(errs...)
	})
}

// assertNothingApplied checks that namespace ns holds none of the
// ConfigMaps named and that the Kustomization ns/ns has no inventory.
func (s *story) assertNothingApplied(ns string, names ...string) {
	s.t.Helper()
	cs := kubernetes.NewForConfigOrDie(env.Config)
	for _, n := range names {
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), n, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			s.t.Errorf("ConfigMap %s/%s: %v, want not found (nothing applied)", ns, n, err)
		}
	}
	if inv, err := s.cluster.Inventory(context.Background(), desired.Owner(s.repo, fluxconfig.Ref{Namespace: ns, Name: ns})); err != nil || inv != nil {
		s.t.Errorf("inventory = %+v, %v; want none", inv, err)
	}
}

// TestRemoteLoadFailsAndAppliesNothing: a Kustomization whose build would
// fetch a URL (here a builtin generator's file, which the old list-based
// guard let through) fails naming the file and field; the URL's server sees
// no request and nothing is applied.
func TestRemoteLoadFailsAndAppliesNothing(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = w.Write([]byte("admin=yes\n"))
	}))
	defer srv.Close()
	s := newStory(t)
	ns := "remote-load"
	s.useFolder(ns, "remote", "", map[string]string{
		"remote/kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gen.yaml]\n",
		"remote/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local}\ndata: {a: b}\n",
		"remote/gen.yaml":           "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: admin}\nfiles: [" + srv.URL + "/admin]\n",
	})
	_, err := s.reconcile()
	if err == nil {
		t.Fatal("the reconcile succeeded")
	}
	for _, want := range []string{ns + "/" + ns, "remote/gen.yaml", "files[0]", srv.URL + "/admin", "not a local path"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the server received %d requests", n)
	}
	s.assertNothingApplied(ns, "local")
}

// substituted is a folder whose objects use Flux's variable syntax.
var substituted = map[string]string{
	"vars/kustomization.yaml": "resources: [cm.yaml]\n",
	"vars/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: out}
data:
  domain: ${cluster_domain}
  env: ${env:=staging}
  escaped: $${cluster_domain}
  token: "${token}"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: literal
  annotations: {kustomize.toolkit.fluxcd.io/substitute: disabled}
data:
  raw: ${cluster_domain}
`,
}

// TestSubstituteFrom applies a Kustomization whose postBuild.substituteFrom
// reads ConfigMaps and Secrets from its namespace, as Flux does.
func TestSubstituteFrom(t *testing.T) {
	tests := []struct {
		name       string
		configMaps map[string]map[string]string
		secrets    map[string]map[string]string
		postBuild  string
		want       map[string]string // data of ConfigMap "out"
		wantErr    []string
	}{
		{
			name:       "a ConfigMap and a Secret",
			configMaps: map[string]map[string]string{"cluster-vars": {"cluster_domain": "example.com", "env": "prod"}},
			secrets:    map[string]map[string]string{"cluster-secrets": {"token": "s3cret\n"}},
			postBuild:  "    substituteFrom:\n      - {kind: ConfigMap, name: cluster-vars}\n      - {kind: Secret, name: cluster-secrets}\n",
			want:       map[string]string{"domain": "example.com", "env": "prod", "escaped": "${cluster_domain}", "token": "s3cret"},
		},
		{
			name: "later references override earlier ones, substitute overrides them all",
			configMaps: map[string]map[string]string{
				"first":  {"cluster_domain": "first.example.com", "env": "first", "token": "first"},
				"second": {"cluster_domain": "second.example.com", "env": "second"},
			},
			postBuild: "    substitute: {env: inline}\n    substituteFrom:\n      - {kind: ConfigMap, name: first}\n      - {kind: ConfigMap, name: second}\n",
			want:      map[string]string{"domain": "second.example.com", "env": "inline", "escaped": "${cluster_domain}", "token": "first"},
		},
		{
			name:       "an optional reference that does not exist is skipped; defaults apply",
			configMaps: map[string]map[string]string{"cluster-vars": {"cluster_domain": "example.com"}},
			postBuild:  "    substituteFrom:\n      - {kind: Secret, name: absent, optional: true}\n      - {kind: ConfigMap, name: cluster-vars}\n",
			want:       map[string]string{"domain": "example.com", "env": "staging", "escaped": "${cluster_domain}", "token": ""},
		},
		{
			name:       "a reference that does not exist fails and applies nothing",
			configMaps: map[string]map[string]string{"cluster-vars": {"cluster_domain": "example.com"}},
			postBuild:  "    substituteFrom:\n      - {kind: ConfigMap, name: cluster-vars}\n      - {kind: Secret, name: absent}\n",
			wantErr:    []string{"postBuild.substituteFrom[1]: Secret ", "/absent not found", "optional: true"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStory(t)
			ns := "substitute-from-" + string(rune('a'+i))
			s.useFolder(ns, "vars", "  postBuild:\n"+tt.postBuild, substituted)
			cs := kubernetes.NewForConfigOrDie(env.Config)
			for name, data := range tt.configMaps {
				if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			for name, data := range tt.secrets {
				if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.reconcile()
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("the reconcile succeeded")
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				s.assertNothingApplied(ns, "out", "literal")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "out", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.Data); diff != "" {
				t.Errorf("substituted data (-want +got):\n%s", diff)
			}
			literal, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "literal", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := literal.Data["raw"]; got != "${cluster_domain}" {
				t.Errorf("an object with substitution disabled got %q", got)
			}
		})
	}
}
