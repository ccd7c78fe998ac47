package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/reconcile"
)

const opsRepo = "task-tool-cluster-config.git"

// opsInstall is the fixture's installation served by a real Git server,
// applying into a namespace of its own, with a local checkout of the
// config repository as a user (or a pull request's CI) has one.
type opsInstall struct {
	t       *testing.T
	srv     *gittest.Server
	repo    desired.Repository
	git     *gitrepo.Repo
	cluster *kube.Manager
	// ns is the Kustomization's targetNamespace.
	ns string
	// dir is a local checkout of the config branch.
	dir  string
	vars map[string]string
}

// dbSecret is a Secret the fixture gains, so that diffs show masking.
const dbSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
data:
  password: c2VjcmV0MQ==
`

func newOpsInstall(t *testing.T) *opsInstall {
	t.Helper()
	ctx := context.Background()
	suffix := make([]byte, 4)
	rand.Read(suffix)
	ns := "ops-" + hex.EncodeToString(suffix)
	if err := kubetest.CreateNamespace(ctx, env.Config, ns); err != nil {
		t.Fatal(err)
	}
	srv, err := gittest.Start("x-access-token", "t0ken")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	url := srv.URL(opsRepo)
	if _, err := srv.Seed(opsRepo, "main", filepath.Join(kubetest.RepoRoot(), "examples", "task-tool-cluster-config"), func(dir string) error {
		if err := gittest.SetGitRepositoryURL(dir, "clusters/prod", url); err != nil {
			return err
		}
		if err := gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "targetNamespace: prod", "targetNamespace: "+ns); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "app/overlays/prod/db-secret.yaml"), []byte(dbSecret), 0o644); err != nil {
			return err
		}
		return gittest.ReplaceInFile(filepath.Join(dir, "app/overlays/prod/kustomization.yaml"), "  - lets-encrypt-issuer.yaml", "  - lets-encrypt-issuer.yaml\n  - db-secret.yaml")
	}); err != nil {
		t.Fatal(err)
	}
	git, err := gitrepo.New(url, gitrepo.Credentials{Password: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	co, err := git.Clone(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { co.Close() })
	cluster, err := kube.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := env.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &opsInstall{
		t: t, srv: srv, git: git, cluster: cluster, ns: ns, dir: co.Dir,
		repo: desired.Repository{URL: url, Branch: "main", ConfigPath: "clusters/prod"},
		vars: map[string]string{
			"SLUICE_GIT_URL":     url,
			"SLUICE_GIT_TOKEN":   "t0ken",
			"SLUICE_CONFIG_PATH": "clusters/prod",
			"KUBECONFIG":         kc,
		},
	}
}

// owner is the fixture Kustomization's owner in this installation.
func (o *opsInstall) owner() kube.Owner {
	return desired.Owner(o.repo, fluxconfig.Ref{Namespace: "flux-system", Name: "task-tool"})
}

// reconcile runs the reconcile function's use case, as the Lambda would on
// a message, and fails the test unless everything was applied.
func (o *opsInstall) reconcile() *reconcile.Result {
	o.t.Helper()
	res, err := reconcile.New(o.repo, o.git, o.cluster, nil).Reconcile(context.Background(),
		queue.Reconcile{Repository: o.repo.ID(), Branch: "main", Reason: queue.ReasonManual})
	if err != nil {
		o.t.Fatalf("reconcile: %v", err)
	}
	return res
}

// sluice runs the command with the installation's environment.
func (o *opsInstall) sluice(args ...string) (stdout, stderr string, code int) {
	o.t.Helper()
	return run(o.t, o.vars, args...)
}
