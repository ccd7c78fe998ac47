package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/reconcile"
)

// fixtureRepo serves the fixture config repository from a real Git server,
// its objects targeted at namespace (fresh, so that no other test's
// installation owns them), and returns a user's environment for it.
func fixtureRepo(t *testing.T, namespace string) (*gittest.Server, map[string]string, configrepo.Repository, string) {
	t.Helper()
	srv, err := gittest.Start("x-access-token", "t0ken")
	must(t, err)
	t.Cleanup(srv.Stop)
	url := srv.URL("config.git")
	head, err := srv.Seed("config.git", "main", filepath.Join(kubetest.RepoRoot(), "examples", "task-tool-cluster-config"), func(dir string) error {
		if err := gittest.SetGitRepositoryURL(dir, "clusters/prod", url); err != nil {
			return err
		}
		return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "targetNamespace: prod", "targetNamespace: "+namespace)
	})
	must(t, err)
	must(t, kubetest.CreateNamespace(context.Background(), env.Config, namespace))
	vars, repo := installation(t, url)
	vars["SLUICE_GIT_TOKEN"] = "t0ken"
	return srv, vars, repo, head
}

// reconcileFixture applies the branch head with the reconcile function's code.
func reconcileFixture(t *testing.T, repo configrepo.Repository) {
	t.Helper()
	git, err := gitrepo.New(repo.URL, gitrepo.Credentials{Password: "t0ken"})
	must(t, err)
	res, err := reconcile.New(repo, git, manager(t), nil).Reconcile(context.Background(), queue.Reconcile{Repository: repo.ID(), Branch: "main", Reason: queue.ReasonManual})
	must(t, err)
	if failed := res.Failed(); len(failed) > 0 {
		t.Fatalf("reconcile failed: %+v", failed)
	}
}

func TestGetSourcesGitAndAll(t *testing.T) {
	srv, vars, repo, head := fixtureRepo(t, "cli-sources")
	ctx := context.Background()
	m := manager(t)
	ks := owner(repo, "flux-system", "task-tool")
	rev := "main@sha1:" + head

	out, stderr, code := run(t, vars, "get", "sources", "git")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	wantOutput(t, "before any reconcile", ""+
		"NAME        REVISION                                             SUSPENDED   READY     MESSAGE\n"+
		"task-tool   "+rev+"   False       Unknown   revision "+rev+" not yet applied by flux-system/task-tool; applied by 0 of 1 Kustomizations\n", out)

	reconcileFixture(t, repo)
	// What `get` shows of a reconcile is recorded here as reconcile records
	// it, so that the tables do not depend on its wording.
	must(t, m.RecordAttempt(ctx, ks, attempt(head, metav1.ConditionTrue, kube.ReasonSucceeded, "Applied revision: "+rev)))
	must(t, m.RecordApplied(ctx, ks, head, at))
	// get all ends with the image automation's tables, computed from ECR now.
	withECR(t, "1.0.0", "1.1.0")
	old := now
	now = func() time.Time { return time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { now = old })
	out, stderr, code = run(t, vars, "get", "all")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	wantOutput(t, "get all", ""+
		"NAME                      REVISION                                             SUSPENDED   READY   MESSAGE\n"+
		"gitrepository/task-tool   "+rev+"   False       True    revision "+rev+" applied by 1 of 1 Kustomizations\n"+
		"\n"+
		"NAME                      REVISION                                             SUSPENDED   READY   MESSAGE\n"+
		"kustomization/task-tool   "+rev+"   False       True    Applied revision: "+rev+"\n"+
		"\n"+
		"NAME                           LAST SCAN              SUSPENDED   READY   MESSAGE\n"+
		"imagerepository/task-service   2026-12-01T03:00:00Z   False       True    successful scan: found 2 tags\n"+
		"\n"+
		"NAME                       LATEST IMAGE                                                                        READY   MESSAGE\n"+
		"imagepolicy/task-service   111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service:1.1.0   True    Latest image tag for '111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service' resolved to 1.1.0\n"+
		"\n"+
		"NAME                              LAST RUN   SUSPENDED   READY   MESSAGE\n"+
		"imageupdateautomation/task-tool              False       True    no commit by fluxcdbot <fluxcdbot@users.noreply.github.com> in the last 1 commits of main\n", out)

	// A push whose apply fails: the source says so, naming the culprit.
	next, err := srv.Commit("config.git", "main", "break it", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "path: ./app/overlays/prod", "path: ./app/overlays/missing")
	})
	must(t, err)
	must(t, m.RecordAttempt(ctx, ks, attempt(next, metav1.ConditionFalse, kube.ReasonBuildFailed, "kustomization path not found")))
	out, _, _ = run(t, vars, "get", "sources", "git")
	nextRev := "main@sha1:" + next
	wantOutput(t, "after a failed push", ""+
		"NAME        REVISION                                             SUSPENDED   READY   MESSAGE\n"+
		"task-tool   "+nextRev+"   False       False   revision "+nextRev+" failed in flux-system/task-tool; applied by 0 of 1 Kustomizations\n", out)

	// The tree of what the reconcile really applied.
	out, stderr, code = run(t, vars, "tree", "ks", "task-tool")
	if code != exitOK {
		t.Fatalf("tree: exit %d, stderr %q", code, stderr)
	}
	wantOutput(t, "tree", `Kustomization/flux-system/task-tool
├── ConfigMap/cli-sources/prod-task-reporter-config-fgmgm275tm
├── ConfigMap/cli-sources/prod-task-service-config-hb5m86c942
├── Service/cli-sources/prod-task-service
├── Service/cli-sources/prod-task-web
├── Deployment/cli-sources/prod-task-service
├── Deployment/cli-sources/prod-task-web
├── CronJob/cli-sources/prod-task-reporter
├── Issuer/cli-sources/prod-letsencrypt-issuer
└── Ingress/cli-sources/prod-app-ingress
`, out)

	delete(vars, "SLUICE_GIT_TOKEN")
	if _, stderr, code := run(t, vars, "get", "sources", "git"); code != exitFail || !strings.Contains(stderr, "config repository") {
		t.Errorf("without credentials: exit %d, stderr %q", code, stderr)
	}
}
