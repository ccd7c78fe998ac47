package gitrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-gitops/sluice/internal/gittest"
)

func serve(t *testing.T) (*gittest.Server, string) {
	t.Helper()
	srv, err := gittest.Start("x-access-token", "t0ken")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	if _, err := srv.Seed("config.git", "main", filepath.Join("..", "..", "examples", "task-tool-cluster-config"), nil); err != nil {
		t.Fatal(err)
	}
	return srv, srv.URL("config.git")
}

func TestCloneCommitPush(t *testing.T) {
	ctx := context.Background()
	srv, url := serve(t)
	repo, err := New(url, Credentials{Password: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	co, err := repo.Clone(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	dir := co.Dir
	defer co.Close()
	if head, _ := srv.Head("config.git", "main"); co.Head != head {
		t.Fatalf("clone head %s, server %s", co.Head, head)
	}
	if _, err := os.Stat(filepath.Join(dir, "app", "overlays", "prod", "kustomization.yaml")); err != nil {
		t.Fatal(err)
	}
	if sha, err := co.CommitAll("nothing", Signature{Name: "bot", Email: "bot@example.com"}); err != nil || sha != "" {
		t.Fatalf("commit of a clean tree = %q, %v", sha, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "NEW.md"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sha, err := co.CommitAll("add NEW.md", Signature{Name: "bot", Email: "bot@example.com"})
	if err != nil || sha == "" {
		t.Fatalf("commit = %q, %v", sha, err)
	}
	if err := co.Push(ctx, "main"); err != nil {
		t.Fatalf("push from a shallow clone: %v", err)
	}
	if head, _ := repo.Head(ctx, "main"); head != sha {
		t.Fatalf("remote head %s, want %s", head, sha)
	}
	if err := co.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the clone folder was left behind: %v", err)
	}
}

func TestPushRejectedWhenRemoteMoved(t *testing.T) {
	ctx := context.Background()
	srv, url := serve(t)
	repo, _ := New(url, Credentials{Password: "t0ken"})
	co, err := repo.Clone(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	theirs, err := srv.Commit("config.git", "main", "someone else", func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "THEIRS"), []byte("x\n"), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(co.Dir, "MINE"), []byte("y\n"), 0o644)
	if _, err := co.CommitAll("mine", Signature{Name: "bot", Email: "bot@example.com"}); err != nil {
		t.Fatal(err)
	}
	err = co.Push(ctx, "main")
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("push over a moved branch: %v, want ErrRejected", err)
	}
	if head, _ := srv.Head("config.git", "main"); head != theirs {
		t.Fatalf("their commit was overwritten: head %s, theirs %s", head, theirs)
	}
}

func TestAuthErrors(t *testing.T) {
	ctx := context.Background()
	_, url := serve(t)
	tests := []struct {
		name    string
		url     string
		creds   Credentials
		wantErr string
	}{
		{name: "wrong token", url: url, creds: Credentials{Password: "nope"}, wantErr: "cloning branch main"},
		{name: "ssh without key", url: "ssh://git@github.com/o/r", wantErr: "SSH key"},
		{name: "ssh without known_hosts", url: "git@github.com:o/r.git", creds: Credentials{SSHKey: []byte("k")}, wantErr: "known_hosts is required"},
		{name: "key for https", url: url, creds: Credentials{SSHKey: []byte("k")}, wantErr: "not an SSH URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, err := New(tt.url, tt.creds)
			if err == nil {
				_, err = repo.Clone(ctx, "main")
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "nope") {
				t.Error("error shows the token")
			}
		})
	}
	if s := (Credentials{Password: "secret"}).String(); strings.Contains(s, "secret") {
		t.Errorf("String() = %q shows the token", s)
	}
}
