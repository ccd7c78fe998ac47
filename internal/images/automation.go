package images

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// Automation is an ImageUpdateAutomation that commits to the config branch,
// with its branches and update path resolved.
type Automation struct {
	fluxconfig.ImageUpdateAutomation
	// PushBranch is spec.git.push.branch, or the checkout branch when unset.
	PushBranch string
	// Path is spec.update.path, cleaned: slash-separated, relative to the
	// repository root, "." for all of it.
	Path string
}

// Automations returns the ImageUpdateAutomations of cfg that check out branch
// of the repository at url (the same repository in any URL form, repoid), in
// the order they were read. The others are left out with a log line: they
// are suspended, or they update another repository or branch, which the
// function serving that one handles. An automation that does check out this
// branch but cannot be carried out (its update path leaves the repository) is
// an error naming it; the usable ones are returned with it.
func Automations(ctx context.Context, cfg *fluxconfig.Config, url, branch string) ([]Automation, error) {
	var (
		out  []Automation
		errs []error
	)
	for _, a := range cfg.ImageUpdateAutomations {
		log := slog.With("automation", a.Ref.String())
		if a.Suspend {
			log.InfoContext(ctx, "image update automation skipped: suspended")
			continue
		}
		checkout, reason := checkoutBranch(cfg, a, url, branch)
		if reason != "" {
			log.InfoContext(ctx, "image update automation skipped: "+reason)
			continue
		}
		if checkout != branch {
			log.InfoContext(ctx, "image update automation skipped: it checks out another branch", "checkoutBranch", checkout, "branch", branch)
			continue
		}
		p, err := updatePath(a.UpdatePath)
		if err != nil {
			errs = append(errs, fmt.Errorf("ImageUpdateAutomation %s: %w", a.Ref, err))
			continue
		}
		push := a.PushBranch
		if push == "" {
			push = checkout
		}
		out = append(out, Automation{ImageUpdateAutomation: a, PushBranch: push, Path: p})
	}
	return out, errors.Join(errs...)
}

// checkoutBranch returns the branch a checks out of the repository at url,
// or why it does not check out a branch of that repository. A GitRepository
// of that repository that names no ref is served by the config branch's
// clone (DESIGN.md: the config repository's branch is SLUICE_GIT_BRANCH), so
// it checks out configBranch, not Flux's API default "master".
func checkoutBranch(cfg *fluxconfig.Config, a fluxconfig.ImageUpdateAutomation, url, configBranch string) (string, string) {
	var src *fluxconfig.GitRepository
	for i, g := range cfg.GitRepositories {
		if g.Ref == a.SourceRef.Ref {
			src = &cfg.GitRepositories[i]
			break
		}
	}
	switch {
	case src == nil:
		return "", fmt.Sprintf("its GitRepository %s is not defined", a.SourceRef.Ref)
	case !repoid.Same(src.URL, url):
		return "", fmt.Sprintf("its GitRepository %s is %s, not the config repository", src.Ref, src.URL)
	case a.CheckoutBranch != "":
		return a.CheckoutBranch, ""
	case src.Branch != "":
		return src.Branch, ""
	case src.Tag != "" || src.SemVer != "" || src.Commit != "" || src.RefName != "":
		// Flux refuses too: a commit needs a branch to go on.
		return "", fmt.Sprintf("neither it nor its GitRepository %s names a branch to commit to", src.Ref)
	}
	return configBranch, ""
}

// updatePath cleans spec.update.path, relative to the repository root as in
// Flux (a leading "/" included), and refuses one that leaves the repository:
// the setters must never read or write outside the clone.
func updatePath(p string) (string, error) {
	clean := path.Clean("./" + strings.TrimSpace(p))
	if !fs.ValidPath(clean) {
		return "", fmt.Errorf("spec.update.path %q is outside the repository", p)
	}
	return clean, nil
}
