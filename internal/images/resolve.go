package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/policy"
	"github.com/sluice-gitops/sluice/internal/registry"
	"github.com/sluice-gitops/sluice/internal/setters"
)

// Clients returns the ECR API of a region. ImageRepositories may name
// registries in any region, and ECR is called in the registry's own region.
type Clients func(region string) registry.API

// ECRClients makes the real ECR clients from cfg, which honours
// AWS_ENDPOINT_URL_ECR like any SDK client.
func ECRClients(cfg aws.Config) Clients {
	return func(region string) registry.API {
		return ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.Region = region })
	}
}

// Resolver selects the image each ImagePolicy allows from the tags its
// ImageRepository holds in ECR now. It is safe for concurrent use, and meant
// to live as long as the function's container: the ECR client of a region is
// made on first use and kept, so warm invocations reuse its connections.
type Resolver struct {
	clients Clients

	mu      sync.Mutex
	listers map[string]*registry.Lister // by region
}

// NewResolver returns a Resolver that reaches ECR through clients.
func NewResolver(clients Clients) *Resolver {
	return &Resolver{clients: clients, listers: map[string]*registry.Lister{}}
}

func (r *Resolver) lister(region string) *registry.Lister {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.listers[region]
	if !ok {
		l = registry.New(r.clients(region))
		r.listers[region] = l
	}
	return l
}

// Resolve returns the image each of policies selects, keyed "<ns>/<name>",
// from the tags its ImageRepository in cfg holds in ECR now (every page, less
// the exclusionList), so that the answer depends on the registry and not on
// the event that asked. A policy is left out, with a log line, when no tag
// qualifies, when its ImageRepository is suspended, or when that repository
// is not in an ECR private registry. Every other failure (a policy or
// exclusion pattern that does not compile, a missing ImageRepository, ECR
// failing) is an error naming the policy; they are joined, and the images of
// the other policies are returned with them, so that one broken policy does
// not hold the others back.
func (r *Resolver) Resolve(ctx context.Context, cfg *fluxconfig.Config, policies []fluxconfig.ImagePolicy) (map[string]setters.Image, error) {
	out := make(map[string]setters.Image, len(policies))
	// Policies of one repository share its listing: one ListImages walk.
	tags := map[fluxconfig.Ref][]string{}
	var errs []error
	for _, p := range policies {
		img, ok, err := r.resolveOne(ctx, cfg, p, tags)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("ImagePolicy %s: %w", p.Ref, err))
		case ok:
			out[p.Ref.String()] = img
		}
	}
	return out, errors.Join(errs...)
}

func (r *Resolver) resolveOne(ctx context.Context, cfg *fluxconfig.Config, p fluxconfig.ImagePolicy, cache map[fluxconfig.Ref][]string) (setters.Image, bool, error) {
	repo, ok := FindRepository(cfg, p.ImageRepositoryRef)
	if !ok {
		return setters.Image{}, false, fmt.Errorf("its ImageRepository %s is not defined", p.ImageRepositoryRef)
	}
	log := slog.With("policy", p.Ref.String(), "imageRepository", repo.Ref.String(), "image", repo.Image)
	if repo.Suspend {
		log.InfoContext(ctx, "image policy skipped: its ImageRepository is suspended")
		return setters.Image{}, false, nil
	}
	ecrRepo, err := registry.ParseECRRepository(repo.Image)
	if err != nil {
		log.WarnContext(ctx, "image policy skipped: Sluice reads tags from Amazon ECR private registries only", "reason", err.Error())
		return setters.Image{}, false, nil
	}
	pol, err := policy.New(Spec(p))
	if err != nil {
		return setters.Image{}, false, err
	}
	excl, err := policy.NewExclusions(repo.ExclusionList)
	if err != nil {
		return setters.Image{}, false, fmt.Errorf("ImageRepository %s: %w", repo.Ref, err)
	}
	all, listed := cache[repo.Ref]
	if !listed {
		if all, err = r.lister(ecrRepo.Region).Tags(ctx, ecrRepo.AccountID, ecrRepo.Name); err != nil {
			return setters.Image{}, false, err
		}
		cache[repo.Ref] = all
	}
	tag, err := pol.Latest(excl.Apply(all))
	if errors.Is(err, policy.ErrNoMatch) {
		log.InfoContext(ctx, "image policy selects no tag", "tags", len(all), "reason", err.Error())
		return setters.Image{}, false, nil
	}
	if err != nil {
		return setters.Image{}, false, err
	}
	return setters.Image{Name: ecrRepo.String(), Tag: tag}, true, nil
}

// Spec converts an ImagePolicy's choice of policy and tag filter.
func Spec(p fluxconfig.ImagePolicy) policy.Spec {
	return policy.Spec{
		SemverRange:   p.SemverRange,
		Alphabetical:  policy.Order(p.Alphabetical),
		Numerical:     policy.Order(p.Numerical),
		FilterPattern: p.FilterPattern,
		FilterExtract: p.FilterExtract,
	}
}

// FindRepository returns the ImageRepository ref names in cfg.
func FindRepository(cfg *fluxconfig.Config, ref fluxconfig.Ref) (fluxconfig.ImageRepository, bool) {
	for _, r := range cfg.ImageRepositories {
		if r.Ref == ref {
			return r, true
		}
	}
	return fluxconfig.ImageRepository{}, false
}

// Tags returns the tag of each image, keyed like images: the "policies" of
// the image-update function's result.
func Tags(images map[string]setters.Image) map[string]string {
	out := make(map[string]string, len(images))
	for k, img := range images {
		out[k] = img.Tag
	}
	return out
}
