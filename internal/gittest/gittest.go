// Package gittest serves Git repositories over smart HTTP on loopback, with
// basic auth, for tests and the demo, and makes commits in them the way a
// person pushing to GitHub would.
package gittest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/fluxcd/pkg/gittestserver"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// Server is a Git smart-HTTP server on loopback.
type Server struct {
	srv        *gittestserver.GitServer
	User, Pass string
}

// Start starts a server whose repositories need the basic-auth user and pass.
func Start(user, pass string) (*Server, error) {
	srv, err := gittestserver.NewTempGitServer()
	if err != nil {
		return nil, fmt.Errorf("creating git server: %w", err)
	}
	srv.Auth(user, pass)
	if err := srv.StartHTTP(); err != nil {
		return nil, fmt.Errorf("starting git server: %w", err)
	}
	return &Server{srv: srv, User: user, Pass: pass}, nil
}

// Stop stops the server and removes its repositories.
func (s *Server) Stop() {
	s.srv.StopHTTP()
	os.RemoveAll(s.srv.Root())
}

// URL is the clone URL of repo (without credentials).
func (s *Server) URL(repo string) string { return s.srv.HTTPAddress() + "/" + repo }

// Auth is the basic auth the server expects.
func (s *Server) Auth() *githttp.BasicAuth {
	return &githttp.BasicAuth{Username: s.User, Password: s.Pass}
}

// Seed creates repo with one commit on branch holding the files of dir after
// edit (nil for none) has run on a copy of them, and points the bare
// repository's HEAD at branch. It returns the commit.
func (s *Server) Seed(repo, branch, dir string, edit func(worktree string) error) (string, error) {
	bare := filepath.Join(s.srv.Root(), repo)
	r, err := gogit.PlainInit(bare, true)
	if err != nil {
		return "", fmt.Errorf("creating bare repository %s: %w", repo, err)
	}
	// A bare repository's HEAD names master; clients that follow HEAD would
	// find nothing.
	if err := r.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(branch))); err != nil {
		return "", fmt.Errorf("setting HEAD of %s: %w", repo, err)
	}
	work, err := os.MkdirTemp("", "gittest-seed-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	if err := os.CopyFS(work, os.DirFS(dir)); err != nil {
		return "", fmt.Errorf("copying %s: %w", dir, err)
	}
	wr, err := gogit.PlainInitWithOptions(work, &gogit.PlainInitOptions{
		InitOptions: gogit.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
	})
	if err != nil {
		return "", err
	}
	if _, err := wr.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{s.URL(repo)}}); err != nil {
		return "", err
	}
	return s.commitAndPush(wr, work, branch, "Initial commit", edit)
}

// Commit clones branch of repo, runs edit on the working tree, and commits and
// pushes every change as a person would. It returns the new commit.
func (s *Server) Commit(repo, branch, message string, edit func(worktree string) error) (string, error) {
	work, err := os.MkdirTemp("", "gittest-commit-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	r, err := gogit.PlainClone(work, false, &gogit.CloneOptions{
		URL: s.URL(repo), Auth: s.Auth(), ReferenceName: plumbing.NewBranchReferenceName(branch), SingleBranch: true,
	})
	if err != nil {
		return "", fmt.Errorf("cloning %s: %w", repo, err)
	}
	return s.commitAndPush(r, work, branch, message, edit)
}

func (s *Server) commitAndPush(r *gogit.Repository, work, branch, message string, edit func(string) error) (string, error) {
	if edit != nil {
		if err := edit(work); err != nil {
			return "", fmt.Errorf("editing the working tree: %w", err)
		}
	}
	wt, err := r.Worktree()
	if err != nil {
		return "", err
	}
	if err := wt.AddWithOptions(&gogit.AddOptions{All: true}); err != nil {
		return "", fmt.Errorf("staging: %w", err)
	}
	h, err := wt.Commit(message, &gogit.CommitOptions{
		All:    true,
		Author: &object.Signature{Name: "Demo User", Email: "demo@example.com", When: time.Now()},
	})
	if err != nil {
		return "", fmt.Errorf("committing: %w", err)
	}
	ref := config.RefSpec("refs/heads/" + branch + ":refs/heads/" + branch)
	if err := r.Push(&gogit.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{ref}, Auth: s.Auth()}); err != nil {
		return "", fmt.Errorf("pushing %s: %w", branch, err)
	}
	return h.String(), nil
}

// Head returns the commit branch of repo points at.
func (s *Server) Head(repo, branch string) (string, error) {
	c, err := s.LastCommit(repo, branch)
	if err != nil {
		return "", err
	}
	return c.Hash.String(), nil
}

// LastCommit returns the commit branch of repo points at.
func (s *Server) LastCommit(repo, branch string) (*object.Commit, error) {
	r, err := gogit.PlainOpen(filepath.Join(s.srv.Root(), repo))
	if err != nil {
		return nil, err
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return nil, fmt.Errorf("reading %s of %s: %w", branch, repo, err)
	}
	return r.CommitObject(ref.Hash())
}

// gitRepositoryURL matches the url line of a Flux GitRepository's spec.
var gitRepositoryURL = regexp.MustCompile(`(?m)^(\s+url:\s*).*$`)

// SetGitRepositoryURL rewrites spec.url of every GitRepository in the YAML
// files under dir/configPath to url, so the fixture's GitRepository names the
// repository where a test or the demo serves it.
func SetGitRepositoryURL(dir, configPath, url string) error {
	found := false
	root := filepath.Join(dir, configPath)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !regexp.MustCompile(`(?m)^kind:\s*GitRepository\s*$`).Match(b) {
			return nil
		}
		found = true
		return os.WriteFile(path, gitRepositoryURL.ReplaceAll(b, []byte("${1}"+url)), 0o644)
	})
	if err != nil {
		return err
	}
	if !found {
		return errors.New("no GitRepository under " + root)
	}
	return nil
}

// ReplaceInFile replaces the first old in the file at path with new, as a
// person editing a file before a commit would; a file without old is an
// error, so an edit that no longer applies fails loudly.
func ReplaceInFile(path, old, new string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), old) {
		return fmt.Errorf("%s does not contain %q", path, old)
	}
	return os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

// Branch creates branch to of repo at the commit branch from points at, as a
// push of a new branch would.
func (s *Server) Branch(repo, from, to string) error {
	r, err := gogit.PlainOpen(filepath.Join(s.srv.Root(), repo))
	if err != nil {
		return fmt.Errorf("opening %s: %w", repo, err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName(from), true)
	if err != nil {
		return fmt.Errorf("reading branch %s of %s: %w", from, repo, err)
	}
	return r.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(to), ref.Hash()))
}
