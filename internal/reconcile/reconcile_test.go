package reconcile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// The API server starts without the Issuer CRD: the story's first step is
// that applying the fixture before it exists fails clearly.
var env *kubetest.Env

func TestMain(m *testing.M) { kubetest.Main(m, kubetest.Options{}, &env) }

var fixtureObjects = []string{
	"ConfigMap/prod/prod-task-reporter-config-fgmgm275tm",
	"ConfigMap/prod/prod-task-service-config-hb5m86c942",
	"CronJob/prod/prod-task-reporter",
	"Deployment/prod/prod-task-service",
	"Deployment/prod/prod-task-web",
	"Ingress/prod/prod-app-ingress",
	"Issuer/prod/prod-letsencrypt-issuer",
	"Service/prod/prod-task-service",
	"Service/prod/prod-task-web",
}

type story struct {
	t       *testing.T
	srv     *gittest.Server
	repo    desired.Repository
	rec     *Reconciler
	cluster *kube.Manager
}

func newStory(t *testing.T) *story {
	t.Helper()
	srv, err := gittest.Start("x-access-token", "t0ken")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	url := srv.URL("task-tool-cluster-config.git")
	if _, err := srv.Seed("task-tool-cluster-config.git", "main", filepath.Join(kubetest.RepoRoot(), "examples", "task-tool-cluster-config"), func(dir string) error {
		return gittest.SetGitRepositoryURL(dir, "clusters/prod", url)
	}); err != nil {
		t.Fatal(err)
	}
	git, err := gitrepo.New(url, gitrepo.Credentials{Password: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := kube.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	repo := desired.Repository{URL: url, Branch: "main", ConfigPath: "clusters/prod"}
	return &story{t: t, srv: srv, repo: repo, cluster: cluster, rec: New(repo, git, cluster, nil)}
}

// owner is the fixture Kustomization's inventory owner in s's installation.
func (s *story) owner() kube.Owner {
	return desired.Owner(s.repo, fluxconfig.Ref{Namespace: "flux-system", Name: "task-tool"})
}

func (s *story) reconcile() (*Result, error) {
	return s.rec.Reconcile(context.Background(), queue.Reconcile{Repository: s.repo.ID(), Branch: "main", Reason: queue.ReasonPush})
}

func (s *story) commit(msg string, edit func(dir string) error) string {
	sha, err := s.srv.Commit("task-tool-cluster-config.git", "main", msg, edit)
	if err != nil {
		s.t.Fatal(err)
	}
	return sha
}

func (s *story) inventory() []string {
	inv, err := s.cluster.Inventory(context.Background(), s.owner())
	if err != nil || inv == nil {
		s.t.Fatalf("inventory: %v, %v", inv, err)
	}
	var ids []string
	for _, e := range inv.Entries {
		o, err := e.Object()
		if err != nil {
			s.t.Fatal(err)
		}
		ids = append(ids, kube.ObjectID(o))
	}
	sort.Strings(ids)
	return ids
}

func ids(changes []kube.Change, action kube.Action) []string {
	var out []string
	for _, c := range changes {
		if c.Action == action {
			out = append(out, c.ID)
		}
	}
	sort.Strings(out)
	return out
}

// TestFixtureStory is the seed's first half on a real API server and Git
// server: the tutorial's prod overlay lands, a pushed commit bumps its image,
// a commit that removes task-web prunes exactly its objects.
func TestFixtureStory(t *testing.T) {
	ctx := context.Background()
	s := newStory(t)
	if err := kubetest.CreateNamespace(ctx, env.Config, "prod"); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(env.Config)

	t.Run("before the Issuer CRD exists nothing is applied", func(t *testing.T) {
		_, err := s.reconcile()
		var rerr *Error
		if !errors.As(err, &rerr) || !strings.Contains(err.Error(), "Issuer") {
			t.Fatalf("error = %v, want a reconcile error naming the Issuer", err)
		}
		list, err := cs.AppsV1().Deployments("prod").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 0 {
			t.Errorf("%d Deployments applied although the Issuer's stage failed its dry-run", len(list.Items))
		}
	})

	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: kubetest.FixtureCRDs()}); err != nil {
		t.Fatal(err)
	}

	t.Run("initial push applies the 9 objects", func(t *testing.T) {
		res, err := s.reconcile()
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Kustomizations) != 1 || res.Kustomizations[0].Outcome != Applied {
			t.Fatalf("result = %+v", res)
		}
		if diff := cmp.Diff(fixtureObjects, ids(res.Kustomizations[0].Changes, kube.Created)); diff != "" {
			t.Errorf("created (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(fixtureObjects, s.inventory()); diff != "" {
			t.Errorf("inventory (-want +got):\n%s", diff)
		}
		d, err := cs.AppsV1().Deployments("prod").Get(ctx, "prod-task-service", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if img := d.Spec.Template.Spec.Containers[0].Image; img != "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service:1.0.0" {
			t.Errorf("image = %s", img)
		}
	})

	t.Run("a commit bumps task-service to 1.1.0", func(t *testing.T) {
		sha := s.commit("Bump task-service to 1.1.0", func(dir string) error {
			return gittest.ReplaceInFile(filepath.Join(dir, "app/overlays/prod/kustomization.yaml"), "newTag: 1.0.0 # {\"$imagepolicy\"", "newTag: 1.1.0 # {\"$imagepolicy\"")
		})
		res, err := s.reconcile()
		if err != nil {
			t.Fatal(err)
		}
		if res.Revision != sha {
			t.Errorf("revision %s, want the pushed %s", res.Revision, sha)
		}
		if diff := cmp.Diff([]string{"Deployment/prod/prod-task-service"}, ids(res.Kustomizations[0].Changes, kube.Configured)); diff != "" {
			t.Errorf("configured (-want +got):\n%s", diff)
		}
		d, err := cs.AppsV1().Deployments("prod").Get(ctx, "prod-task-service", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(img, "/mamezou-tech/task-service:1.1.0") {
			t.Errorf("image = %s", img)
		}
	})

	t.Run("a second reconcile at the same commit changes nothing", func(t *testing.T) {
		res, err := s.reconcile()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(fixtureObjects, ids(res.Kustomizations[0].Changes, kube.Unchanged)); diff != "" {
			t.Errorf("unchanged (-want +got):\n%s", diff)
		}
	})

	t.Run("a commit removing task-web prunes exactly its objects", func(t *testing.T) {
		s.commit("Remove task-web", func(dir string) error {
			return gittest.ReplaceInFile(filepath.Join(dir, "app/overlays/prod/kustomization.yaml"), "  - task-web/deployment.yaml\n  - task-web/service.yaml\n", "")
		})
		res, err := s.reconcile()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Deployment/prod/prod-task-web", "Service/prod/prod-task-web"}
		if diff := cmp.Diff(want, ids(res.Kustomizations[0].Changes, kube.Deleted)); diff != "" {
			t.Errorf("deleted (-want +got):\n%s", diff)
		}
		if _, err := cs.AppsV1().Deployments("prod").Get(ctx, "prod-task-web", metav1.GetOptions{}); err == nil {
			t.Error("prod-task-web still exists")
		}
		if got := s.inventory(); len(got) != 7 {
			t.Errorf("inventory = %v", got)
		}
	})

	t.Run("dependsOn: a failed dependency blocks its dependent", func(t *testing.T) {
		s.commit("Add dependent Kustomizations", func(dir string) error {
			ks := func(name, path, dep string) string {
				out := "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: " + name + ", namespace: flux-system}\n" +
					"spec:\n  interval: 10m\n  path: " + path + "\n  prune: true\n  sourceRef: {kind: GitRepository, name: task-tool}\n  targetNamespace: prod\n"
				if dep != "" {
					out += "  dependsOn: [{name: " + dep + "}]\n"
				}
				return out
			}
			return errors.Join(
				os.WriteFile(filepath.Join(dir, "clusters/prod/broken.yaml"), []byte(ks("broken", "./does/not/exist", "")), 0o644),
				os.WriteFile(filepath.Join(dir, "clusters/prod/after-broken.yaml"), []byte(ks("after-broken", "./app/base", "broken")), 0o644),
			)
		})
		res, err := s.reconcile()
		var rerr *Error
		if !errors.As(err, &rerr) {
			t.Fatalf("error = %v, want *Error", err)
		}
		got := map[string]string{}
		for _, k := range res.Kustomizations {
			got[k.Name] = k.Outcome + ": " + k.Reason
		}
		if !strings.HasPrefix(got["flux-system/broken"], "failed: ") || !strings.Contains(got["flux-system/broken"], "does/not/exist") {
			t.Errorf("broken = %q", got["flux-system/broken"])
		}
		if got["flux-system/after-broken"] != "failed: not applied: its dependency flux-system/broken failed" {
			t.Errorf("after-broken = %q", got["flux-system/after-broken"])
		}
		if !strings.HasPrefix(got["flux-system/task-tool"], "applied") {
			t.Errorf("the independent task-tool = %q", got["flux-system/task-tool"])
		}
	})

	t.Run("a removed Kustomization has its objects pruned and inventory deleted", func(t *testing.T) {
		// The folder then defines no Kustomization: on purpose here.
		s.rec.AllowEmpty = true
		s.commit("Remove the task-tool Kustomization", func(dir string) error {
			return errors.Join(
				os.Remove(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml")),
				os.Remove(filepath.Join(dir, "clusters/prod/broken.yaml")),
				os.Remove(filepath.Join(dir, "clusters/prod/after-broken.yaml")),
			)
		})
		res, err := s.reconcile()
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Removed) != 1 || res.Removed[0].Name != "flux-system/task-tool" || len(ids(res.Removed[0].Changes, kube.Deleted)) != 7 {
			t.Fatalf("removed = %+v", res.Removed)
		}
		inv, err := s.cluster.Inventory(ctx, s.owner())
		if err != nil {
			t.Fatal(err)
		}
		if inv != nil {
			t.Errorf("inventory left behind: %+v", inv)
		}
		list, err := cs.AppsV1().Deployments("prod").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 0 {
			t.Errorf("%d Deployments left", len(list.Items))
		}
	})
}

func TestEmptyRenderIsRefused(t *testing.T) {
	ctx := context.Background()
	s := newStory(t)
	ns := "empty-render"
	if err := kubetest.CreateNamespace(ctx, env.Config, ns); err != nil {
		t.Fatal(err)
	}
	s.commit("Point the Kustomization at a ConfigMap", func(dir string) error {
		return errors.Join(
			os.MkdirAll(filepath.Join(dir, "solo"), 0o755),
			os.WriteFile(filepath.Join(dir, "solo/cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: solo}\ndata: {a: b}\n"), 0o644),
			gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "path: ./app/overlays/prod", "path: ./solo"),
			gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "targetNamespace: prod", "targetNamespace: "+ns),
			gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "name: task-tool\n  namespace", "name: solo\n  namespace"),
		)
	})
	if _, err := s.reconcile(); err != nil {
		t.Fatal(err)
	}
	s.commit("Empty the folder", func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "solo/cm.yaml"), []byte("# nothing here any more\n"), 0o644)
	})
	_, err := s.reconcile()
	if err == nil || !strings.Contains(err.Error(), "yields no objects") {
		t.Fatalf("error = %v, want the empty render refused", err)
	}
	cs := kubernetes.NewForConfigOrDie(env.Config)
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "solo", metav1.GetOptions{}); err != nil {
		t.Errorf("the ConfigMap was pruned: %v", err)
	}
}
