package gitrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestPushRejectedFromShallowHistory covers what a shallow clone of a
// branch with history meets: go-git cannot walk back from the remote's new
// head, which it does not have, so only asking the remote tells a moved
// branch from a failure. Racing pushes, where the server refuses the ref
// update itself, must all be told apart the same way.
func TestPushRejectedFromShallowHistory(t *testing.T) {
	ctx := context.Background()
	srv, url := serve(t)
	// A second commit, so that the clone's commit has a parent it lacks.
	if _, err := srv.Commit("config.git", "main", "history", func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "HISTORY"), []byte("1\n"), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	repo, _ := New(url, Credentials{Password: "t0ken"})

	// The remote moved before the push: go-git says "object not found".
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
	if err := os.WriteFile(filepath.Join(co.Dir, "MINE"), []byte("y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := co.CommitAll("mine", Signature{Name: "bot", Email: "bot@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := co.Push(ctx, "main"); !errors.Is(err, ErrRejected) {
		t.Fatalf("push over a moved branch from a shallow clone: %v, want ErrRejected", err)
	}
	if head, _ := srv.Head("config.git", "main"); head != theirs {
		t.Fatalf("their commit was overwritten: head %s, theirs %s", head, theirs)
	}

	// Writers racing: the server refuses all but one ref update.
	const writers = 5
	cos := make([]*Checkout, writers)
	for i := range cos {
		co, err := repo.Clone(ctx, "main")
		if err != nil {
			t.Fatal(err)
		}
		defer co.Close()
		if err := os.WriteFile(filepath.Join(co.Dir, "WRITER"), []byte{byte('a' + i), '\n'}, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := co.CommitAll("writer", Signature{Name: "bot", Email: "bot@example.com"}); err != nil {
			t.Fatal(err)
		}
		cos[i] = co
	}
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i, co := range cos {
		wg.Go(func() { errs[i] = co.Push(ctx, "main") })
	}
	wg.Wait()
	head, _ := srv.Head("config.git", "main")
	landed := 0
	for i, err := range errs {
		switch {
		case err == nil:
			landed++
			if cos[i].Head != head {
				t.Errorf("writer %d pushed %s without error, but the head is %s", i, cos[i].Head, head)
			}
		case !errors.Is(err, ErrRejected):
			t.Errorf("writer %d: %v, want ErrRejected", i, err)
		}
	}
	if landed != 1 {
		t.Errorf("%d pushes landed, want exactly 1", landed)
	}
}
