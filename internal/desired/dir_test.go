package desired

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/gittest"
)

// A local checkout renders as the clone of the same commit does (the
// ownership labels included), is never memoised (its files change under one
// commit), and is left in place by Close.
func TestOpenDirRendersAsTheClone(t *testing.T) {
	ctx := context.Background()
	_, repo, git := serve(t)
	clone, err := Open(ctx, git, repo)
	if err != nil {
		t.Fatal(err)
	}
	defer clone.Close()
	want, err := clone.Render(ctx, clone.Config.Kustomizations[0], nil)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(clone.Dir())); err != nil {
		t.Fatal(err)
	}
	local, err := OpenDir(ctx, dir, repo)
	if err != nil {
		t.Fatal(err)
	}
	got, err := local.Render(ctx, local.Config.Kustomizations[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(objects(want), objects(got)); diff != "" {
		t.Errorf("local render differs from the clone's (-clone +local):\n%s", diff)
	}

	if err := gittest.ReplaceInFile(filepath.Join(dir, "app/overlays/prod/kustomization.yaml"), `newTag: 1.0.0`, `newTag: 9.9.9`); err != nil {
		t.Fatal(err)
	}
	edited, err := local.Render(ctx, local.Config.Kustomizations[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Equal(objects(got), objects(edited)) {
		t.Error("an edit of the local folder did not show in the next render: it was memoised")
	}
	if err := local.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, repo.ConfigPath)); err != nil {
		t.Errorf("Close removed the local folder: %v", err)
	}
}

func objects(objs []*unstructured.Unstructured) []map[string]any {
	out := make([]map[string]any, len(objs))
	for i, o := range objs {
		out[i] = o.Object
	}
	return out
}
