package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"k8s.io/apimachinery/pkg/labels"

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
	tags := map[fluxconfig.Ref][]registry.Tagged{}
	var errs []error
	for _, p := range policies {
		img, skipped, err := r.resolveOne(ctx, cfg, p, tags)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("ImagePolicy %s: %w", p.Ref, err))
		case skipped == "":
			out[p.Ref.String()] = img
		}
	}
	return out, errors.Join(errs...)
}

func (r *Resolver) resolveOne(ctx context.Context, cfg *fluxconfig.Config, p fluxconfig.ImagePolicy, cache map[fluxconfig.Ref][]registry.Tagged) (img setters.Image, skipped string, err error) {
	if p.Suspend {
		slog.InfoContext(ctx, "image policy skipped: suspended", "policy", p.Ref.String())
		return setters.Image{}, "suspended", nil
	}
	repo, ok := FindRepository(cfg, p.ImageRepositoryRef)
	if !ok {
		return setters.Image{}, "", fmt.Errorf("its ImageRepository %s is not defined", p.ImageRepositoryRef)
	}
	if err := accessAllowed(p, repo); err != nil {
		return setters.Image{}, "", err
	}
	log := slog.With("policy", p.Ref.String(), "imageRepository", repo.Ref.String(), "image", repo.Image)
	if repo.Suspend {
		log.InfoContext(ctx, "image policy skipped: its ImageRepository is suspended")
		return setters.Image{}, "its ImageRepository " + repo.Ref.String() + " is suspended", nil
	}
	ecrRepo, err := registry.ParseECRRepository(repo.Image)
	if err != nil {
		log.WarnContext(ctx, "image policy skipped: Sluice reads tags from Amazon ECR private registries only", "reason", err.Error())
		return setters.Image{}, "Sluice reads tags from Amazon ECR private registries only: " + err.Error(), nil
	}
	pol, err := policy.New(Spec(p))
	if err != nil {
		return setters.Image{}, "", err
	}
	excl, err := policy.NewExclusions(repo.ExclusionList)
	if err != nil {
		return setters.Image{}, "", fmt.Errorf("ImageRepository %s: %w", repo.Ref, err)
	}
	listed, ok := cache[repo.Ref]
	if !ok {
		if listed, err = r.lister(ecrRepo.Region).Images(ctx, ecrRepo.AccountID, ecrRepo.Name); err != nil {
			return setters.Image{}, "", err
		}
		cache[repo.Ref] = listed
	}
	all := make([]string, len(listed))
	for i, img := range listed {
		all[i] = img.Tag
	}
	tag, err := pol.Latest(excl.Apply(all))
	if errors.Is(err, policy.ErrNoMatch) {
		log.InfoContext(ctx, "image policy selects no tag", "tags", len(all), "reason", err.Error())
		return setters.Image{}, err.Error(), nil
	}
	if err != nil {
		return setters.Image{}, "", err
	}
	img = setters.Image{Name: ecrRepo.String(), Tag: tag}
	if p.DigestReflection == fluxconfig.ReflectIfNotPresent || p.DigestReflection == fluxconfig.ReflectAlways {
		// ListImages lists each tag with the digest of the manifest it
		// points at, which is what Flux's HEAD request on the tag reads.
		for _, l := range listed {
			if l.Tag == tag {
				img.Digest = l.Digest
			}
		}
		if img.Digest == "" {
			// A policy that asks for digests never loses them.
			return setters.Image{}, "", fmt.Errorf("digestReflectionPolicy %s: ECR listed no digest for tag %s of %s", p.DigestReflection, tag, ecrRepo)
		}
	}
	return img, "", nil
}

// Policy resolves one ImagePolicy of cfg as Resolve does, against ECR now,
// and when it selects no image says why in skipped (suspended, no tag
// qualifies, ...): what `sluice get images policy` shows.
func (r *Resolver) Policy(ctx context.Context, cfg *fluxconfig.Config, p fluxconfig.ImagePolicy) (img setters.Image, skipped string, err error) {
	return r.resolveOne(ctx, cfg, p, map[fluxconfig.Ref][]registry.Tagged{})
}

// Scan returns the tags the ImageRepository holds in ECR now, less its
// exclusionList: the tags its policies choose from, as Flux's image
// reflector stores them after a scan.
func (r *Resolver) Scan(ctx context.Context, repo fluxconfig.ImageRepository) ([]string, error) {
	ecrRepo, err := registry.ParseECRRepository(repo.Image)
	if err != nil {
		return nil, fmt.Errorf("Sluice reads tags from Amazon ECR private registries only: %w", err)
	}
	excl, err := policy.NewExclusions(repo.ExclusionList)
	if err != nil {
		return nil, err
	}
	tags, err := r.lister(ecrRepo.Region).Tags(ctx, ecrRepo.AccountID, ecrRepo.Name)
	if err != nil {
		return nil, err
	}
	return excl.Apply(tags), nil
}

// namespaceNameLabel is the label the API server puts on every namespace,
// holding its name: the one label of a namespace that Sluice, which reads
// Git and not the cluster, knows.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// accessAllowed applies Flux's ACL on a cross-namespace imageRepositoryRef:
// the ImageRepository's spec.accessFrom must select the policy's namespace.
// Flux matches the selectors against the namespace's labels in the cluster;
// Sluice matches them against the labels it can know from Git alone,
// kubernetes.io/metadata.name, so that an empty selector admits every
// namespace, one on that label admits the namespaces it names, and one on
// any other label admits none (Sluice cannot tell that it would match).
func accessAllowed(p fluxconfig.ImagePolicy, repo fluxconfig.ImageRepository) error {
	if p.Namespace == repo.Namespace {
		return nil
	}
	if repo.AccessFrom == nil {
		return fmt.Errorf("ImageRepository %s cannot be used from namespace %s: it has no spec.accessFrom", repo.Ref, p.Namespace)
	}
	known := labels.Set{namespaceNameLabel: p.Namespace}
	for _, match := range repo.AccessFrom {
		if labels.SelectorFromSet(match).Matches(known) {
			return nil
		}
	}
	return fmt.Errorf("ImageRepository %s cannot be used from namespace %s: no spec.accessFrom.namespaceSelectors matches it "+
		"(Sluice reads no namespace labels from the cluster; it matches matchLabels against %s=<namespace>)", repo.Ref, p.Namespace, namespaceNameLabel)
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
