// Package kubetest starts a real kube-apiserver and etcd (built from source by
// tools/envtest) for tests, the demo and benchmarks.
package kubetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Options change how the API server is started.
type Options struct {
	// Flags are extra kube-apiserver flags (name without dashes → value).
	Flags map[string]string
	// CRDFiles are CustomResourceDefinition manifests installed at start.
	CRDFiles []string
}

// Env is a running API server.
type Env struct {
	// Config reaches the API server as a cluster administrator.
	Config *rest.Config
	env    *envtest.Environment
}

// RepoRoot is the root of the Sluice source tree this package was built from.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// AssetsDir returns the folder that holds kube-apiserver and etcd:
// KUBEBUILDER_ASSETS when set, else the cache folder tools/envtest/build.sh
// builds into (building them first when missing, which takes minutes).
func AssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	script := filepath.Join(RepoRoot(), "tools", "envtest", "build.sh")
	cmd := exec.Command("bash", script)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building kube-apiserver and etcd with %s: %w", script, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1], nil
}

// Start starts etcd and kube-apiserver and waits until the API serves.
func Start(opts Options) (*Env, error) {
	dir, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	// envtest logs through controller-runtime's logger, which complains with a
	// stack trace when nobody set one.
	ctrllog.SetLogger(logr.Discard())
	env := &envtest.Environment{
		BinaryAssetsDirectory:    dir,
		CRDInstallOptions:        envtest.CRDInstallOptions{Paths: opts.CRDFiles, ErrorIfPathMissing: true},
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	api := env.ControlPlane.GetAPIServer().Configure()
	// 1,000-object overlays hold hundreds of Services; envtest's default /24
	// runs out of cluster IPs.
	api.Set("service-cluster-ip-range", "10.96.0.0/16")
	for k, v := range opts.Flags {
		api.Set(k, v)
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", dir, err)
	}
	// Tests apply hundreds of objects: client-go's default 5 QPS would dominate.
	cfg.QPS, cfg.Burst = 500, 1000
	return &Env{Config: cfg, env: env}, nil
}

// Stop stops the API server and etcd and removes their data.
func (e *Env) Stop() error {
	if e == nil || e.env == nil {
		return nil
	}
	return e.env.Stop()
}

// Kubeconfig writes a kubeconfig for a cluster administrator into dir and
// returns its path, for binaries and kubectl.
func (e *Env) Kubeconfig(dir string) (string, error) {
	user, err := e.env.ControlPlane.AddUser(envtest.User{Name: "sluice-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("adding an admin user: %w", err)
	}
	b, err := user.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("writing kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("writing kubeconfig: %w", err)
	}
	return path, nil
}

// Main starts the API server, runs the package's tests with *env set, stops
// the server and exits: call it from TestMain.
func Main(m *testing.M, opts Options, env **Env) {
	e, err := Start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*env = e
	code := m.Run()
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the API server:", err)
	}
	os.Exit(code)
}

// CreateNamespace creates the namespace name if it does not exist yet.
// envtest never finishes deleting namespaces, so tests use fresh names.
func CreateNamespace(ctx context.Context, cfg *rest.Config, name string) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// FixtureCRDs are the CRDs the example config repository needs (cert-manager's Issuer).
func FixtureCRDs() []string {
	return []string{filepath.Join(RepoRoot(), "examples", "crds", "cert-manager-issuer.yaml")}
}
