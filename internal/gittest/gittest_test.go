package gittest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

func fixtureDir() string { return filepath.Join("..", "..", "examples", "task-tool-cluster-config") }

func TestServeFixture(t *testing.T) {
	srv, err := Start("sluice", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	url := srv.URL("task-tool.git")
	seeded, err := srv.Seed("task-tool.git", "main", fixtureDir(), func(dir string) error {
		return SetGitRepositoryURL(dir, "clusters/prod", url)
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("anonymous clone refused", func(t *testing.T) {
		_, err := gogit.Clone(memory.NewStorage(), nil, &gogit.CloneOptions{URL: url})
		if err == nil {
			t.Fatal("cloned without credentials")
		}
	})

	t.Run("clone sees refs/heads/main", func(t *testing.T) {
		r, err := gogit.Clone(memory.NewStorage(), nil, &gogit.CloneOptions{
			URL: url, Auth: srv.Auth(), ReferenceName: plumbing.NewBranchReferenceName("main"), Depth: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := r.Reference("refs/heads/main", true)
		if err != nil || ref.Hash().String() != seeded {
			t.Fatalf("refs/heads/main = %v, %v; want %s", ref, err, seeded)
		}
		head, _ := r.Head()
		if head.Name() != "refs/heads/main" {
			t.Errorf("HEAD = %s", head.Name())
		}
		commit, err := r.CommitObject(ref.Hash())
		if err != nil {
			t.Fatal(err)
		}
		f, err := commit.File("clusters/prod/task-tool-source.yaml")
		if err != nil {
			t.Fatal(err)
		}
		src, _ := f.Contents()
		if !strings.Contains(src, "url: "+url) {
			t.Errorf("GitRepository url not rewritten:\n%s", src)
		}
		if _, err := commit.File("app/base/task-service/.env"); err != nil {
			t.Errorf("the overlay's .env files are missing: %v", err)
		}
	})

	t.Run("commit moves the branch", func(t *testing.T) {
		sha, err := srv.Commit("task-tool.git", "main", "bump", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "NOTES"), []byte("x\n"), 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
		head, err := srv.Head("task-tool.git", "main")
		if err != nil || head != sha || sha == seeded {
			t.Fatalf("head = %s, %v; commit %s, seed %s", head, err, sha, seeded)
		}
	})
}
