package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// ErrRejected is returned by Push when the remote branch moved since the
// clone (a non-fast-forward): fetch, re-apply and push again.
var ErrRejected = errors.New("push rejected: the branch moved on the remote")

// Repo is a remote repository with its credentials.
type Repo struct {
	url  string
	auth transport.AuthMethod
	// TempDir is where checkouts are made (os.TempDir() when empty).
	TempDir string
}

// New returns the repository at url, reached with creds, or with the
// credentials written into url (https://user:token@host/...), which are taken
// out of it so that no message ever shows them.
func New(url string, creds Credentials) (*Repo, error) {
	if url == "" {
		return nil, errors.New("repository URL is empty")
	}
	url, auth, err := takeCredentials(url, creds)
	if err != nil {
		return nil, err
	}
	if auth == nil {
		if auth, err = creds.method(url); err != nil {
			return nil, err
		}
	}
	return &Repo{url: url, auth: auth}, nil
}

// URL is the repository's URL, without any credentials written into it.
func (r *Repo) URL() string { return r.url }

// Checkout is a shallow clone of one branch in a temporary folder.
type Checkout struct {
	// Dir is the working tree.
	Dir string
	// Head is the commit checked out.
	Head   string
	Branch string
	// base is the commit cloned, which the remote branch held then.
	base   string
	repo   *gogit.Repository
	remote *Repo
}

// Clone clones branch at depth 1 into a new temporary folder. Close removes
// it: warm Lambda containers keep /tmp, so nothing may be left behind.
func (r *Repo) Clone(ctx context.Context, branch string) (*Checkout, error) {
	dir, err := os.MkdirTemp(r.TempDir, "sluice-clone-")
	if err != nil {
		return nil, fmt.Errorf("creating a folder for the clone: %w", err)
	}
	repo, err := gogit.PlainCloneContext(ctx, dir, false, &gogit.CloneOptions{
		URL:           r.url,
		Auth:          r.auth,
		ReferenceName: plumbing.NewBranchReferenceName(branch),
		SingleBranch:  true,
		Depth:         1,
		Tags:          gogit.NoTags,
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cloning branch %s of %s: %w", branch, r.url, err)
	}
	head, err := repo.Head()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("reading HEAD of the clone of %s: %w", r.url, err)
	}
	return &Checkout{Dir: dir, Head: head.Hash().String(), Branch: branch, base: head.Hash().String(), repo: repo, remote: r}, nil
}

// CloneForPush clones the branch that commits for branch push build on, as
// Flux's image automation does: push itself when the remote has it, so that
// each update goes on top of the last one; else base, whose head the new
// push branch starts from. Push(ctx, push) then creates or advances it.
func (r *Repo) CloneForPush(ctx context.Context, push, base string) (*Checkout, error) {
	if push == base {
		return r.Clone(ctx, base)
	}
	_, exists, err := r.lookup(ctx, push)
	if err != nil {
		return nil, err
	}
	if exists {
		return r.Clone(ctx, push)
	}
	return r.Clone(ctx, base)
}

// Head returns the commit branch points at on the remote, without cloning.
func (r *Repo) Head(ctx context.Context, branch string) (string, error) {
	head, ok, err := r.lookup(ctx, branch)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("branch %s not found in %s", branch, r.url)
	}
	return head, nil
}

// lookup returns the commit branch points at on the remote, and whether the
// remote has that branch.
func (r *Repo) lookup(ctx context.Context, branch string) (string, bool, error) {
	rem := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{r.url}})
	refs, err := rem.ListContext(ctx, &gogit.ListOptions{Auth: r.auth})
	if err != nil {
		return "", false, fmt.Errorf("listing refs of %s: %w", r.url, err)
	}
	want := plumbing.NewBranchReferenceName(branch)
	for _, ref := range refs {
		if ref.Name() == want {
			return ref.Hash().String(), true, nil
		}
	}
	return "", false, nil
}

// Close removes the working tree.
func (c *Checkout) Close() error { return os.RemoveAll(c.Dir) }

// Signature is a commit author.
type Signature struct {
	Name, Email string
	When        time.Time
}

// CommitAll commits every change in the working tree with message and
// author, as opts say (SignWith). It returns the new commit, or "" when
// nothing changed.
func (c *Checkout) CommitAll(message string, author Signature, opts ...CommitOption) (string, error) {
	var o commitOptions
	for _, opt := range opts {
		opt(&o)
	}
	wt, err := c.repo.Worktree()
	if err != nil {
		return "", err
	}
	st, err := wt.Status()
	if err != nil {
		return "", fmt.Errorf("reading the working tree status: %w", err)
	}
	if st.IsClean() {
		return "", nil
	}
	if err := wt.AddWithOptions(&gogit.AddOptions{All: true}); err != nil {
		return "", fmt.Errorf("staging changes: %w", err)
	}
	when := author.When
	if when.IsZero() {
		when = time.Now()
	}
	h, err := wt.Commit(message, &gogit.CommitOptions{
		Author:  &object.Signature{Name: author.Name, Email: author.Email, When: when},
		SignKey: o.signKey,
	})
	if err != nil {
		return "", fmt.Errorf("committing: %w", err)
	}
	c.Head = h.String()
	return c.Head, nil
}

// Push pushes the checkout's HEAD to branch on the remote, never forcing:
// to the branch cloned, it must still be where the clone found it; to
// another branch, that branch must not exist yet (CloneForPush clones a
// push branch that does). A remote that moved meanwhile gives ErrRejected.
func (c *Checkout) Push(ctx context.Context, branch string) error {
	spec := config.RefSpec(fmt.Sprintf("%s:refs/heads/%s", plumbing.NewBranchReferenceName(c.Branch), branch))
	err := c.repo.PushContext(ctx, &gogit.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}, Auth: c.remote.auth})
	switch {
	case err == nil, errors.Is(err, gogit.NoErrAlreadyUpToDate):
		return nil
	case errors.Is(err, gogit.ErrNonFastForwardUpdate), isRejected(err):
		return fmt.Errorf("pushing to %s of %s: %w", branch, c.remote.url, ErrRejected)
	}
	// What the remote branch held when the clone was made: the commit
	// cloned, or nothing for a branch this push creates.
	expected := ""
	if branch == c.Branch {
		expected = c.base
	}
	switch head, _, herr := c.remote.lookup(ctx, branch); {
	case herr != nil, head == expected:
		// The branch did not move (or cannot be read): a real failure.
	case head == c.Head:
		// The push landed; only its answer was lost.
		return nil
	default:
		// The branch moved (or someone else created it), but the error did
		// not say so: a shallow clone cannot prove a non-fast-forward once
		// the remote holds commits it lacks (go-git fails with "object not
		// found" walking history it does not have), and a push racing
		// another fails the server's ref update with a bare protocol error.
		return fmt.Errorf("pushing to %s of %s: %w (%v)", branch, c.remote.url, ErrRejected, err)
	}
	return fmt.Errorf("pushing to %s of %s: %w", branch, c.remote.url, err)
}

func isRejected(err error) bool {
	s := err.Error()
	return strings.Contains(s, "non-fast-forward") || strings.Contains(s, "fetch first")
}
