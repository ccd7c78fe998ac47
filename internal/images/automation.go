package images

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/repoid"
	"github.com/sluice-gitops/sluice/internal/setters"
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
		if err == nil {
			err = refuseUnsupported(a)
		}
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
	case len(src.Refusals) > 0:
		return "", fmt.Sprintf("its GitRepository %s is refused: %s", src.Ref, strings.Join(src.Refusals, "; "))
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

// refuseUnsupported stops an automation that asks for what Sluice does not
// do yet: committing unsigned where an SSH-signed commit was asked for, or
// pushing without the refspec or options asked for, would differ from Flux
// in what lands in the repository.
func refuseUnsupported(a fluxconfig.ImageUpdateAutomation) error {
	var errs []error
	if k := a.SigningKey; k != nil && k.Type != "gpg" {
		errs = append(errs, fmt.Errorf("spec.git.commit.signingKey type %s (secret %s) is not supported by Sluice yet (OpenPGP, type gpg, is); the automation is stopped rather than commit unsigned", k.Type, k.SecretRef))
	}
	if a.PushRefspec != "" {
		errs = append(errs, fmt.Errorf("spec.git.push.refspec %q is not supported by Sluice yet; the automation is stopped rather than push without it", a.PushRefspec))
	}
	if len(a.PushOptions) > 0 {
		errs = append(errs, errors.New("spec.git.push.options is not supported by Sluice yet; the automation is stopped rather than push without them"))
	}
	return errors.Join(errs...)
}

// Selects reports whether the automation updates the markers of policy p:
// as in Flux, only the ImagePolicies of its own namespace that its
// policySelector selects (all of them without one).
func (a Automation) Selects(p fluxconfig.ImagePolicy) bool {
	if p.Namespace != a.Namespace {
		return false
	}
	if a.PolicySelector == nil {
		return true
	}
	sel, err := metav1.LabelSelectorAsSelector(a.PolicySelector)
	// fluxconfig.Read refused an invalid selector; none selects nothing.
	return err == nil && sel.Matches(labels.Set(p.Labels))
}

// Images returns the images of imgs (keyed "<ns>/<name>") whose policies a
// selects in cfg.
func (a Automation) Images(cfg *fluxconfig.Config, imgs map[string]setters.Image) map[string]setters.Image {
	out := make(map[string]setters.Image, len(imgs))
	for _, p := range cfg.ImagePolicies {
		if img, ok := imgs[p.Ref.String()]; ok && a.Selects(p) {
			out[p.Ref.String()] = img
		}
	}
	return out
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

// OpenPath opens a's update path in dir, a checkout, as a root that reads
// and writes cannot leave: a symbolic link on the way that points outside
// the checkout is an error naming the path (Flux joins the path securely,
// so that it never leaves the clone either).
func (a Automation) OpenPath(dir string) (*os.Root, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the checkout: %w", err)
	}
	defer root.Close()
	sub, err := root.OpenRoot(filepath.FromSlash(a.Path))
	if err != nil {
		return nil, fmt.Errorf("spec.update.path %q: %w", a.UpdatePath, err)
	}
	return sub, nil
}

// KeepPresentDigests returns imgs with, for each policy of cfg whose
// digestReflectionPolicy is IfNotPresent, the digest that fsys (the update
// path) holds already for the same image and tag, as Flux keeps the digest
// in the policy's status while the tag stays; a tag re-pushed under another
// digest therefore stays pinned until the tag changes. The other policies'
// images are as given.
func KeepPresentDigests(fsys fs.FS, cfg *fluxconfig.Config, imgs map[string]setters.Image) (map[string]setters.Image, error) {
	var keep []string
	for _, p := range cfg.ImagePolicies {
		if _, ok := imgs[p.Ref.String()]; ok && p.DigestReflection == fluxconfig.ReflectIfNotPresent {
			keep = append(keep, p.Ref.String())
		}
	}
	if len(keep) == 0 {
		return imgs, nil
	}
	cur, err := setters.Current(fsys)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(imgs)
	for _, k := range keep {
		img, now := out[k], cur[k]
		if now.Digest != "" && now.Tag == img.Tag && (now.Name == "" || now.Name == img.Name) {
			img.Digest = now.Digest
			out[k] = img
		}
	}
	return out, nil
}
