package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Commit is one commit of a branch's history.
type Commit struct {
	Hash        string
	AuthorName  string
	AuthorEmail string
	When        time.Time
	Message     string
}

// Log returns the last depth commits of branch, newest first, fetched into
// memory (no working tree): enough history to find what an automation last
// committed without cloning the repository whole.
func (r *Repo) Log(ctx context.Context, branch string, depth int) ([]Commit, error) {
	repo, err := gogit.CloneContext(ctx, memory.NewStorage(), nil, &gogit.CloneOptions{
		URL:           r.url,
		Auth:          r.auth,
		ReferenceName: plumbing.NewBranchReferenceName(branch),
		SingleBranch:  true,
		Depth:         depth,
		Tags:          gogit.NoTags,
		NoCheckout:    true,
	})
	if err != nil {
		return nil, fmt.Errorf("fetching the history of branch %s of %s: %w", branch, r.url, err)
	}
	head, err := repo.Head()
	if err != nil {
		return nil, fmt.Errorf("reading the head of branch %s of %s: %w", branch, r.url, err)
	}
	iter, err := repo.Log(&gogit.LogOptions{From: head.Hash(), Order: gogit.LogOrderCommitterTime})
	if err != nil {
		return nil, fmt.Errorf("reading the history of branch %s of %s: %w", branch, r.url, err)
	}
	defer iter.Close()
	var out []Commit
	for len(out) < depth {
		c, err := iter.Next()
		// A shallow history ends at a commit whose parents were not fetched.
		if errors.Is(err, io.EOF) || errors.Is(err, plumbing.ErrObjectNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the history of branch %s of %s: %w", branch, r.url, err)
		}
		out = append(out, commitOf(c))
	}
	return out, nil
}

func commitOf(c *object.Commit) Commit {
	return Commit{Hash: c.Hash.String(), AuthorName: c.Author.Name, AuthorEmail: c.Author.Email, When: c.Author.When, Message: c.Message}
}
