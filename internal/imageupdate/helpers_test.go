package imageupdate

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/registry"
)

const (
	account     = awstest.ECRAccountID
	region      = "ap-northeast-1"
	imageHost   = account + ".dkr.ecr." + region + ".amazonaws.com"
	taskService = "mamezou-tech/task-service"
	overlay     = "app/overlays/prod/kustomization.yaml"
	repoName    = "task-tool-cluster-config.git"
	token       = "t0ken"
	tagMarker   = `# {"$imagepolicy": "flux-system:task-service:tag"}`
	nameLine    = `    newName: 111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service # {"$imagepolicy": "flux-system:task-service:name"}`
)

var (
	fixture   = filepath.Join("..", "..", "examples", "task-tool-cluster-config")
	eventsDir = filepath.Join("..", "..", "events")
)

// world is the seed's setting: the fixture served by a real Git server
// (its GitRepository pointing there), and the ECR stand-in reached through
// the real SDK client.
type world struct {
	t   testing.TB
	git *gittest.Server
	ecr *awstest.ECRServer
	url string
}

// newWorld seeds the fixture, after edit (nil for none) on the copy.
func newWorld(t testing.TB, edit func(dir string) error) *world {
	t.Helper()
	srv, err := gittest.Start("x-access-token", token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	w := &world{t: t, git: srv, url: srv.URL(repoName), ecr: awstest.NewECRServer()}
	t.Cleanup(w.ecr.Close)
	if _, err := srv.Seed(repoName, "main", fixture, func(dir string) error {
		if err := gittest.SetGitRepositoryURL(dir, "clusters/prod", w.url); err != nil {
			return err
		}
		if edit != nil {
			return edit(dir)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return w
}

// clients makes real ECR clients for the stand-in, with standard retries
// but no backoff: on loopback the SDK now and then loses a connection
// reading a page, which it retries as it would against ECR.
func (w *world) clients() images.Clients {
	return func(region string) registry.API {
		return ecr.New(ecr.Options{
			Region:       region,
			BaseEndpoint: aws.String(w.ecr.URL()),
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDIMAGEUPDATETEST", "secret", ""),
			Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			}),
		})
	}
}

// handler is the function's handler as main builds it, with password as
// the Git token.
func (w *world) handler(password string) *Handler {
	w.t.Helper()
	repo, err := gitrepo.New(w.url, gitrepo.Credentials{Password: password})
	if err != nil {
		w.t.Fatal(err)
	}
	u := New(Repository{URL: w.url, Branch: "main", ConfigPath: "clusters/prod"}, repo, images.NewResolver(w.clients()))
	return NewHandler(u)
}

func (w *world) push(repo string, tags ...string) {
	for _, tag := range tags {
		w.ecr.PushTag(account, repo, tag)
	}
}

func (w *world) head() string {
	w.t.Helper()
	h, err := w.git.Head(repoName, "main")
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

// commit is a commit of the branch as the tests inspect it.
type commit struct {
	SHA, Author, Email, Message string
	Files                       []string
}

// history returns the commits of main, newest first, from a full clone.
func (w *world) history() []commit {
	w.t.Helper()
	r := w.clone()
	it, err := r.Log(&gogit.LogOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []commit
	err = it.ForEach(func(c *object.Commit) error {
		stats, err := c.Stats()
		if err != nil {
			return err
		}
		cm := commit{SHA: c.Hash.String(), Author: c.Author.Name, Email: c.Author.Email, Message: c.Message}
		for _, s := range stats {
			cm.Files = append(cm.Files, s.Name)
		}
		out = append(out, cm)
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// file returns a file of main's head.
func (w *world) file(name string) string {
	w.t.Helper()
	r := w.clone()
	ref, err := r.Head()
	if err != nil {
		w.t.Fatal(err)
	}
	c, err := r.CommitObject(ref.Hash())
	if err != nil {
		w.t.Fatal(err)
	}
	f, err := c.File(name)
	if err != nil {
		w.t.Fatal(err)
	}
	s, err := f.Contents()
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) clone() *gogit.Repository {
	w.t.Helper()
	dir := w.t.TempDir()
	r, err := gogit.PlainClone(dir, false, &gogit.CloneOptions{URL: w.url, Auth: w.git.Auth(), ReferenceName: plumbing.NewBranchReferenceName("main"), SingleBranch: true})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// ecrEvent is events/ecr-push.json with the fields of detail and the
// envelope's account and region replaced as given.
func ecrEvent(t testing.TB, action, repo, tag string, edit func(ev, detail map[string]any)) json.RawMessage {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, "ecr-push.json"), &ev); err != nil {
		t.Fatal(err)
	}
	d := ev["detail"].(map[string]any)
	d["action-type"], d["repository-name"], d["image-tag"] = action, repo, tag
	if action == ActionDelete {
		delete(d, "manifest-media-type")
		delete(d, "artifact-media-type")
	}
	if edit != nil {
		edit(ev, d)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invoke runs the handler on a direct event and returns its Result.
func invoke(t testing.TB, h *Handler, ev json.RawMessage) *Result {
	t.Helper()
	out, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	res, ok := out.(*Result)
	if !ok {
		t.Fatalf("Handle answered %T, want *Result", out)
	}
	return res
}

// captureLogs sends slog's default logger to a buffer until the test ends.
func captureLogs(t *testing.T) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return buf
}

// quietLogs discards logs, for benchmarks and fuzzing.
func quietLogs(t testing.TB) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) contains(s string) bool { return strings.Contains(b.String(), s) }
