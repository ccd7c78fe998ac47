package images

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/setters"
)

// Behind returns, sorted, the ImagePolicies ("<ns>/<name>") whose image, as
// selected from the registry now, differs from what a setter marker holds in
// dir: a checkout of branch of the repository at url, whose Flux objects are
// cfg. They are the policies an image update would change now, under the
// update paths of the automations that commit to that branch; a policy no
// such automation's markers name is never behind. Nothing under dir is
// written. Resolution errors are returned joined, with the policies found
// behind among the others.
func (r *Resolver) Behind(ctx context.Context, dir string, cfg *fluxconfig.Config, url, branch string) ([]string, error) {
	autos, autoErr := Automations(ctx, cfg, url, branch)
	if len(autos) == 0 {
		return nil, autoErr
	}
	imgs, resolveErr := r.Resolve(ctx, cfg, cfg.ImagePolicies)
	errs := []error{autoErr, resolveErr}
	behind := map[string]bool{}
	for _, a := range autos {
		res, err := wouldChange(dir, cfg, a, imgs)
		if err != nil {
			errs = append(errs, fmt.Errorf("ImageUpdateAutomation %s: reading the setters under %s: %w", a.Ref, a.Path, err))
			continue
		}
		for p := range res.Images {
			behind[p] = true
		}
	}
	return slices.Sorted(maps.Keys(behind)), errors.Join(errs...)
}

// wouldChange is what Update would change under a's update path in dir.
func wouldChange(dir string, cfg *fluxconfig.Config, a Automation, imgs map[string]setters.Image) (setters.Result, error) {
	root, err := a.OpenPath(dir)
	if err != nil {
		return setters.Result{}, err
	}
	defer root.Close()
	mine, err := KeepPresentDigests(root.FS(), cfg, a.Images(cfg, imgs))
	if err != nil {
		return setters.Result{}, err
	}
	return setters.Update(dryRun{root.FS()}, mine)
}

// dryRun is a tree that setters.Update reads but never writes: it reports
// what would change, and the checkout stays as Git holds it.
type dryRun struct{ fs.FS }

// WriteFile discards data.
func (dryRun) WriteFile(string, []byte) error { return nil }
