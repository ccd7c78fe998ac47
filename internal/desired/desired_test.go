package desired

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/render"
)

func serve(t *testing.T) (*gittest.Server, Repository, *gitrepo.Repo) {
	t.Helper()
	srv, err := gittest.Start("x-access-token", "t0ken")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	url := srv.URL("config.git")
	if _, err := srv.Seed("config.git", "main", filepath.Join("..", "..", "examples", "task-tool-cluster-config"), func(dir string) error {
		return gittest.SetGitRepositoryURL(dir, "clusters/prod", url)
	}); err != nil {
		t.Fatal(err)
	}
	git, err := gitrepo.New(url, gitrepo.Credentials{Password: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	return srv, Repository{URL: url, Branch: "main", ConfigPath: "clusters/prod"}, git
}

func TestRenderIsMemoisedPerRevision(t *testing.T) {
	ctx := context.Background()
	srv, repo, git := serve(t)
	snap, err := Open(ctx, git, repo)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	k := snap.Config.Kustomizations[0]
	first, err := snap.Render(ctx, k, nil)
	if err != nil || len(first) != 9 {
		t.Fatalf("render = %d objects, %v", len(first), err)
	}
	if got := first[0].GetLabels()["applyset.kubernetes.io/part-of"]; !strings.HasPrefix(got, "applyset-") {
		t.Errorf("objects are not labelled as ApplySet members: %v", first[0].GetLabels())
	}
	first[0].SetName("mutated-by-the-caller")

	// The first render may itself be a hit (another test may have rendered
	// this commit already); the second one must be.
	hits := renders.hitCount()
	again, err := snap.Render(ctx, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := renders.hitCount() - hits; got != 1 {
		t.Errorf("a second render at the same revision was answered from the memo %d times, want 1", got)
	}
	if again[0].GetName() == "mutated-by-the-caller" {
		t.Fatal("a caller's change leaked into the memo")
	}
	fresh, err := render.Build(snap.Dir(), RenderOptions(k))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fresh[3].Object["spec"], again[3].Object["spec"]); diff != "" {
		t.Errorf("memoised object differs from a fresh build (-fresh +memo):\n%s", diff)
	}

	// A new commit is a new revision: its change shows.
	if _, err := srv.Commit("config.git", "main", "bump", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "app/overlays/prod/kustomization.yaml"), `newTag: 1.0.0 # {"$imagepolicy"`, `newTag: 1.1.0 # {"$imagepolicy"`)
	}); err != nil {
		t.Fatal(err)
	}
	next, err := Open(ctx, git, repo)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	hits = renders.hitCount()
	objs, err := next.Render(ctx, next.Config.Kustomizations[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := renders.hitCount() - hits; got != 0 {
		t.Errorf("a render at a new revision was answered from the memo %d times, want a fresh build", got)
	}
	found := false
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == "prod-task-service" {
			containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			found = len(containers) > 0 && strings.HasSuffix(containers[0].(map[string]any)["image"].(string), ":1.1.0")
		}
	}
	if !found {
		t.Error("the new revision rendered the old image")
	}
}

func TestRenderRefusesOtherSources(t *testing.T) {
	ctx := context.Background()
	srv, repo, git := serve(t)
	if _, err := srv.Commit("config.git", "main", "other branch", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-source.yaml"), "branch: main", "branch: develop")
	}); err != nil {
		t.Fatal(err)
	}
	snap, err := Open(ctx, git, repo)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	_, err = snap.Render(ctx, snap.Config.Kustomizations[0], nil)
	if err == nil || !strings.Contains(err.Error(), "must follow branch main") {
		t.Fatalf("error = %v", err)
	}
}
