package imageupdate

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/registry"
)

// policiesFor returns the ImagePolicies of cfg that req is about, logging
// why when there are none (or some named are gone).
func policiesFor(ctx context.Context, cfg *fluxconfig.Config, req Request) []fluxconfig.ImagePolicy {
	if req.Image != nil {
		return policiesOfAction(ctx, cfg, *req.Image)
	}
	if len(req.Reevaluate.Policies) == 0 {
		return cfg.ImagePolicies
	}
	var out []fluxconfig.ImagePolicy
	for _, p := range cfg.ImagePolicies {
		if slices.Contains(req.Reevaluate.Policies, p.Ref.String()) {
			out = append(out, p)
		}
	}
	if len(out) < len(req.Reevaluate.Policies) {
		var gone []string
		for _, name := range req.Reevaluate.Policies {
			if !slices.ContainsFunc(out, func(p fluxconfig.ImagePolicy) bool { return p.Ref.String() == name }) {
				gone = append(gone, name)
			}
		}
		// Drift asked before someone removed them: nothing to re-evaluate.
		slog.InfoContext(ctx, "re-evaluate request names ImagePolicies the config branch no longer defines; ignored", "policies", gone)
	}
	return out
}

// policiesOfAction returns the policies of the ImageRepositories that name
// the repository of a: the same repository name, in the registry of the
// event's account and region. An ImageRepository of another registry is not
// the one the event is about, even with the same repository name.
func policiesOfAction(ctx context.Context, cfg *fluxconfig.Config, a ImageAction) []fluxconfig.ImagePolicy {
	repos := map[fluxconfig.Ref]bool{}
	var elsewhere []string
	for _, r := range cfg.ImageRepositories {
		ecr, err := registry.ParseECRRepository(r.Image)
		if err != nil || ecr.Name != a.Repository {
			continue
		}
		if ecr.AccountID != a.Account || ecr.Region != a.Region {
			elsewhere = append(elsewhere, fmt.Sprintf("%s (account %s, region %s)", r.Ref, ecr.AccountID, ecr.Region))
			continue
		}
		repos[r.Ref] = true
	}
	log := slog.With("event", a.ID, "action", a.String())
	if len(repos) == 0 {
		if len(elsewhere) > 0 {
			log.InfoContext(ctx, "ECR event ignored: the ImageRepositories that name this repository are in another registry: "+strings.Join(elsewhere, ", "))
		} else {
			log.InfoContext(ctx, "ECR event ignored: no ImageRepository names this repository")
		}
		return nil
	}
	var out []fluxconfig.ImagePolicy
	for _, p := range cfg.ImagePolicies {
		if repos[p.ImageRepositoryRef] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		log.InfoContext(ctx, "ECR event ignored: no ImagePolicy refers to the ImageRepository of this repository")
	}
	return out
}
