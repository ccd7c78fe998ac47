package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/kube"
)

var (
	kubeconfigOnce sync.Once
	kubeconfigPath string
	kubeconfigErr  error
)

// adminKubeconfig is a kubeconfig of the test API server's administrator,
// written once for the package.
func adminKubeconfig(t *testing.T) string {
	t.Helper()
	kubeconfigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-cli-")
		if err != nil {
			kubeconfigErr = err
			return
		}
		kubeconfigPath, kubeconfigErr = env.Kubeconfig(dir)
	})
	if kubeconfigErr != nil {
		t.Fatal(kubeconfigErr)
	}
	return kubeconfigPath
}

// installation is the environment of a user of the installation whose
// config repository is url (each test its own, so that none sees another's
// statuses), reaching the test API server through a kubeconfig.
func installation(t *testing.T, url string) (map[string]string, configrepo.Repository) {
	t.Helper()
	vars := map[string]string{
		"SLUICE_GIT_URL":     url,
		"SLUICE_GIT_BRANCH":  "main",
		"SLUICE_CONFIG_PATH": "clusters/prod",
		"KUBECONFIG":         adminKubeconfig(t),
	}
	return vars, configrepo.Repository{URL: url, Branch: "main", ConfigPath: "clusters/prod"}
}

func manager(t *testing.T) *kube.Manager {
	t.Helper()
	m, err := kube.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func owner(repo configrepo.Repository, ns, name string) kube.Owner {
	return kube.Owner{Installation: repo.Installation(), Namespace: ns, Name: name}
}

// runIn is run with stdin.
func runIn(t *testing.T, vars map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	code = Run(context.Background(), args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errOut}, lookup)
	return out.String(), errOut.String(), code
}

// wantOutput compares a whole printed output with its golden form.
func wantOutput(t *testing.T, what, want, got string) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s\ngot:\n%s", what, diff, got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// configMap is a ConfigMap as owner's Kustomization applies it.
func configMap(owner kube.Owner, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace(ns)
	u.SetName(name)
	kube.SetOwner([]*unstructured.Unstructured{u}, owner)
	return u
}

// create creates objs in the cluster, as a reconcile would have applied them.
func create(t *testing.T, objs ...*unstructured.Unstructured) {
	t.Helper()
	c, err := client.New(env.Config, client.Options{})
	must(t, err)
	for _, o := range objs {
		must(t, c.Create(context.Background(), o.DeepCopy()))
	}
}

// exists reports whether the object o names is in the cluster.
func exists(t *testing.T, o *unstructured.Unstructured) bool {
	t.Helper()
	c, err := client.New(env.Config, client.Options{})
	must(t, err)
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(o.GroupVersionKind())
	err = c.Get(context.Background(), client.ObjectKeyFromObject(o), got)
	if err != nil && !strings.Contains(err.Error(), "not found") {
		t.Fatal(err)
	}
	return err == nil && got.GetDeletionTimestamp() == nil
}

var (
	revA = strings.Repeat("a", 40)
	revB = strings.Repeat("b", 40)
	at   = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
)

func attempt(rev string, ready metav1.ConditionStatus, reason, msg string) kube.Attempt {
	return kube.Attempt{Revision: rev, At: at, Duration: 1500 * time.Millisecond, Ready: ready, Reason: reason, Message: msg}
}

func wantJSON[T any](t *testing.T, want, got T) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

// awsEnv points the real AWS SDK clients at the stand-ins' endpoints
// (AWS_ENDPOINT_URL_<SERVICE> to URL), with static credentials and no
// profile of the machine's.
func awsEnv(t *testing.T, endpoints map[string]string) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDSLUICECLI", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_REGION": "us-east-1",
	} {
		t.Setenv(k, v)
	}
	for service, url := range endpoints {
		t.Setenv("AWS_ENDPOINT_URL_"+service, url)
	}
}
