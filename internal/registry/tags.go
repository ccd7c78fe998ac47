package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// ErrRepositoryNotFound is wrapped by Tags when the repository does not exist,
// so that callers can tell a misnamed repository from a failing registry.
var ErrRepositoryNotFound = errors.New("ECR repository not found")

// pageSize is the largest page ECR serves, so that 2,500 tags take 3 calls.
const pageSize = 1000

// API is the part of the ECR client the Lister calls; *ecr.Client has it.
type API interface {
	ListImages(ctx context.Context, in *ecr.ListImagesInput, optFns ...func(*ecr.Options)) (*ecr.ListImagesOutput, error)
}

var _ API = (*ecr.Client)(nil)

// Lister lists the tags of ECR repositories.
type Lister struct {
	api API
}

// New returns a Lister that calls api, an ECR client for the registry's region.
func New(api API) *Lister {
	return &Lister{api: api}
}

// Tags returns every tag of the repository in the registry registryID (empty:
// the caller's account), reading every page of ListImages; untagged images
// are left out. The order is the registry's.
func (l *Lister) Tags(ctx context.Context, registryID, repository string) ([]string, error) {
	imgs, err := l.Images(ctx, registryID, repository)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, img := range imgs {
		tags = append(tags, img.Tag)
	}
	return tags, nil
}

// Tagged is a tag and the digest of the manifest it points at: what Flux
// reads with a HEAD request on the tag, and ECR's ListImages lists.
type Tagged struct {
	Tag, Digest string
}

// Images returns every tag of the repository with its digest, as Tags does.
func (l *Lister) Images(ctx context.Context, registryID, repository string) ([]Tagged, error) {
	in := &ecr.ListImagesInput{
		RepositoryName: aws.String(repository),
		Filter:         &types.ListImagesFilter{TagStatus: types.TagStatusTagged},
		MaxResults:     aws.Int32(pageSize),
	}
	if registryID != "" {
		in.RegistryId = aws.String(registryID)
	}
	var imgs []Tagged
	seen := make(map[string]bool)
	pages := ecr.NewListImagesPaginator(l.api, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, listError(registryID, repository, err)
		}
		for _, id := range out.ImageIds {
			// ListImages lists a tag once per image; seen guards against a
			// tag moving between pages while they are read.
			if t := aws.ToString(id.ImageTag); t != "" && !seen[t] {
				seen[t] = true
				imgs = append(imgs, Tagged{Tag: t, Digest: aws.ToString(id.ImageDigest)})
			}
		}
	}
	return imgs, nil
}

func listError(registryID, repository string, err error) error {
	if registryID == "" {
		registryID = "of the caller's account"
	}
	var notFound *types.RepositoryNotFoundException
	if errors.As(err, &notFound) {
		return fmt.Errorf("%w: listing tags of '%s' in registry %s: %w", ErrRepositoryNotFound, repository, registryID, err)
	}
	return fmt.Errorf("failed to list tags of ECR repository '%s' in registry %s: %w", repository, registryID, err)
}
