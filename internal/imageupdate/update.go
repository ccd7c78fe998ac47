package imageupdate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"time"

	"github.com/sluice-gitops/sluice/internal/commitmsg"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/setters"
)

// Git clones the config repository: its config branch, and the branch an
// automation's commits build on (its push branch once that exists).
type Git interface {
	Clone(ctx context.Context, branch string) (*gitrepo.Checkout, error)
	CloneForPush(ctx context.Context, push, base string) (*gitrepo.Checkout, error)
}

var _ Git = (*gitrepo.Repo)(nil)

// Images selects the images of policies from the registry as it is now.
type Images interface {
	Resolve(ctx context.Context, cfg *fluxconfig.Config, policies []fluxconfig.ImagePolicy) (map[string]setters.Image, error)
}

var _ Images = (*images.Resolver)(nil)

// Retry bounds how a rejected push (someone else pushed first) is retried:
// clone the new head, make the change again, push again; never force.
type Retry struct {
	// Attempts is how many times one automation's change is made and
	// pushed, the first time included.
	Attempts int
	// BaseDelay is the wait before the first retry; it doubles with each
	// retry up to MaxDelay, and a random half of it is taken off, so that
	// writers that collided do not collide again in step.
	BaseDelay, MaxDelay time.Duration
}

// DefaultRetry lets ten writers push to one branch at once and all land
// (the FIFO image queue makes even two rare): a push is rejected only when
// another writer landed after this one's clone, so each writer is rejected
// at most once per other writer, and n attempts always suffice for n
// writers. The waits add up to under ten seconds.
func DefaultRetry() Retry {
	return Retry{Attempts: 10, BaseDelay: 50 * time.Millisecond, MaxDelay: 2 * time.Second}
}

// delay is the wait before retry n (1-based).
func (r Retry) delay(n int) time.Duration {
	d := r.BaseDelay << min(n-1, 20)
	if d > r.MaxDelay || d <= 0 {
		d = r.MaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

// Result is what an image update did, the function's answer to a direct
// EventBridge event (DESIGN.md, "Results").
type Result struct {
	// Policies maps each ImagePolicy evaluated ("<ns>/<name>") to the tag it
	// selects now, changed or not.
	Policies map[string]string `json:"policies"`
	// Files are the files changed, relative to the repository root, sorted.
	Files []string `json:"files"`
	// Commit is the last commit pushed, nil when nothing changed.
	Commit *string `json:"commit"`
}

func newResult() *Result { return &Result{Policies: map[string]string{}, Files: []string{}} }

// Updater brings the config branch's setter markers up to date with the
// registry. It is safe for concurrent use.
type Updater struct {
	repo   Repository
	git    Git
	images Images
	// Retry is DefaultRetry unless changed before use.
	Retry Retry
	// Secrets reads the signing keys that automations name; nil fails an
	// automation with a signingKey, never commits unsigned.
	Secrets Secrets
	// Events, when set, receives each automation's commit or failure for
	// the config's Alerts.
	Events  Events
	nowFunc func() time.Time
}

// New returns the Updater of repo, cloning through git and selecting images
// through imgs.
func New(repo Repository, git Git, imgs Images) *Updater {
	return &Updater{repo: repo, git: git, images: imgs, Retry: DefaultRetry(), nowFunc: time.Now}
}

// Update handles one request on the branch head as it is now: it selects
// the images of the policies req is about, and for each ImageUpdateAutomation
// that commits to the config branch rewrites the markers under its update
// path, commits with its author and message template, and pushes. No change
// means no commit, so the same event twice commits once. A request about
// nothing Sluice manages (another repository or registry, a failed push)
// answers an empty Result. Errors are returned with the Result of what was
// done nonetheless.
func (u *Updater) Update(ctx context.Context, req Request) (*Result, error) {
	res := newResult()
	if req.Image == nil && req.Reevaluate == nil {
		return res, errors.New("image update: the request is neither an ECR event nor a re-evaluate request")
	}
	if a := req.Image; a != nil && a.Result != ResultSuccess {
		slog.InfoContext(ctx, "ECR event ignored: the action did not succeed", "event", a.ID, "action", a.String(), "result", a.Result)
		return res, nil
	}
	co, err := u.git.Clone(ctx, u.repo.Branch)
	if err != nil {
		return res, err
	}
	// co passes from automation to automation while unchanged; whoever
	// holds it last closes it.
	defer func() {
		if co != nil {
			co.Close()
		}
	}()
	revision := co.Head
	cfg, err := fluxconfig.Read(os.DirFS(co.Dir), u.repo.ConfigPath)
	if err == nil {
		err = errors.Join(cfg.ImageErrors...)
	}
	if err != nil {
		return res, fmt.Errorf("reading Flux objects from %s at %s: %w", u.repo.ConfigPath, revision, err)
	}
	policies := policiesFor(ctx, cfg, req)
	if len(policies) == 0 {
		return res, nil
	}
	imgs, resolveErr := u.images.Resolve(ctx, cfg, policies)
	res.Policies = images.Tags(imgs)
	autos, autoErr := images.Automations(ctx, cfg, u.repo.URL, u.repo.Branch)
	errs := []error{resolveErr, autoErr}
	for _, a := range autos {
		// Only the policies of its namespace that its policySelector selects.
		if mine := a.Images(cfg, imgs); len(mine) > 0 {
			sha, files, err := u.automate(ctx, &co, cfg, a, mine)
			u.emit(ctx, cfg, a, mine, sha, err)
			if err != nil {
				errs = append(errs, fmt.Errorf("ImageUpdateAutomation %s: %w", a.Ref, err))
				continue
			}
			if sha != "" {
				res.Commit = &sha
				res.Files = append(res.Files, files...)
			}
		}
	}
	slices.Sort(res.Files)
	res.Files = slices.Compact(res.Files)
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	if res.Commit == nil {
		slog.InfoContext(ctx, "image update: no change", "request", req.String(), "policies", res.Policies, "revision", revision)
	}
	return res, nil
}

// automate makes a's change and pushes it, retrying on a fresh clone when
// the push is rejected. *co is the clone of the config branch to start from
// (nil: clone one); it is handed back only while unchanged, for the next
// automation. An automation with a push branch of its own works in a clone
// of that branch (of the config branch until the push branch exists), as
// Flux does, so that each update builds on the last; the config branch is
// never written.
func (u *Updater) automate(ctx context.Context, co **gitrepo.Checkout, cfg *fluxconfig.Config, a images.Automation, imgs map[string]setters.Image) (string, []string, error) {
	if a.PushBranch != u.repo.Branch {
		var own *gitrepo.Checkout
		defer func() {
			if own != nil {
				own.Close()
			}
		}()
		co = &own
	}
	for attempt := 1; ; attempt++ {
		if *co == nil {
			c, err := u.git.CloneForPush(ctx, a.PushBranch, u.repo.Branch)
			if err != nil {
				return "", nil, err
			}
			*co = c
		}
		sha, files, err := u.apply(ctx, *co, cfg, a, imgs)
		if err == nil && sha == "" {
			return "", nil, nil
		}
		// The clone now holds a commit of a's: the next attempt, or the next
		// automation, starts from the remote branch again.
		(*co).Close()
		*co = nil
		if err == nil {
			slog.InfoContext(ctx, "image update pushed", "automation", a.Ref.String(), "commit", sha,
				"branch", a.PushBranch, "files", files, "attempt", attempt)
			return sha, files, nil
		}
		if !errors.Is(err, gitrepo.ErrRejected) {
			return "", nil, err
		}
		if attempt >= u.Retry.Attempts {
			return "", nil, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		wait := u.Retry.delay(attempt)
		slog.InfoContext(ctx, "image update push rejected: the branch moved; retrying on its new head",
			"automation", a.Ref.String(), "attempt", attempt, "wait", wait)
		if err := sleep(ctx, wait); err != nil {
			return "", nil, fmt.Errorf("waiting to retry a rejected push: %w", err)
		}
	}
}

// apply rewrites the setters under a's update path in co, commits and
// pushes. It returns the commit and the changed files, or "" when nothing
// changed.
func (u *Updater) apply(ctx context.Context, co *gitrepo.Checkout, cfg *fluxconfig.Config, a images.Automation, imgs map[string]setters.Image) (string, []string, error) {
	root, err := a.OpenPath(co.Dir)
	if err != nil {
		return "", nil, err
	}
	defer root.Close()
	// IfNotPresent digests are kept as the branch the commit builds on holds them.
	if imgs, err = images.KeepPresentDigests(root.FS(), cfg, imgs); err != nil {
		return "", nil, fmt.Errorf("reading the setters under %s: %w", a.Path, err)
	}
	changed, err := setters.Update(setters.Root(root), imgs)
	if err != nil {
		return "", nil, fmt.Errorf("updating the setters under %s: %w", a.Path, err)
	}
	for _, s := range changed.Skipped {
		slog.WarnContext(ctx, "file with image policy markers skipped", "automation", a.Ref.String(),
			"file", path.Join(a.Path, s.Path), "reason", s.Reason)
	}
	if len(changed.FileChanges) == 0 {
		return "", nil, nil
	}
	data := commitmsg.NewTemplateData(commitmsg.NamespacedName{Namespace: a.Namespace, Name: a.Name}, changed, a.MessageTemplateValues)
	msg, err := commitmsg.Render(a.MessageTemplate, data)
	if err != nil {
		return "", nil, err
	}
	var opts []gitrepo.CommitOption
	if a.SigningKey != nil {
		key, err := u.signingKey(ctx, a)
		if err != nil {
			return "", nil, err
		}
		opts = append(opts, gitrepo.SignWith(key))
	}
	sha, err := co.CommitAll(msg, gitrepo.Signature{Name: a.AuthorName, Email: a.AuthorEmail, When: u.nowFunc()}, opts...)
	if err != nil || sha == "" {
		return "", nil, err
	}
	if err := co.Push(ctx, a.PushBranch); err != nil {
		return "", nil, &pushError{err}
	}
	files := changed.Files()
	for i, f := range files {
		files[i] = path.Join(a.Path, f)
	}
	return sha, files, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
