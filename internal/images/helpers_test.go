package images

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/registry"
)

const (
	account     = awstest.ECRAccountID
	region      = "ap-northeast-1"
	host        = account + ".dkr.ecr." + region + ".amazonaws.com"
	taskService = "mamezou-tech/task-service"
)

// ecrStandIn starts the ECR stand-in and returns Clients that make real SDK
// clients for it, and what those clients did.
func ecrStandIn(t testing.TB) (*awstest.ECRServer, Clients, *clientCounts) {
	t.Helper()
	srv := awstest.NewECRServer()
	t.Cleanup(srv.Close)
	counts := &clientCounts{made: map[string]int{}}
	clients := func(region string) registry.API {
		counts.mu.Lock()
		counts.made[region]++
		counts.mu.Unlock()
		// Standard retries without backoff: on loopback the SDK sometimes
		// loses a connection reading a large page, which it retries.
		c := ecr.New(ecr.Options{
			Region:       region,
			BaseEndpoint: aws.String(srv.URL()),
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDIMAGESTEST", "secret", ""),
			Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			}),
		})
		return countingECR{API: c, counts: counts}
	}
	return srv, clients, counts
}

// clientCounts records the clients made by region and the ListImages calls
// that returned a page. Counted at the client, a call the SDK retried is one
// call; the stand-in would count each attempt.
type clientCounts struct {
	mu        sync.Mutex
	made      map[string]int
	listCalls int
}

// Made returns the clients made by region.
func (c *clientCounts) Made() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.made)
}

// ListImages returns how many ListImages calls returned a page.
func (c *clientCounts) ListImages() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listCalls
}

type countingECR struct {
	registry.API
	counts *clientCounts
}

func (c countingECR) ListImages(ctx context.Context, in *ecr.ListImagesInput, optFns ...func(*ecr.Options)) (*ecr.ListImagesOutput, error) {
	out, err := c.API.ListImages(ctx, in, optFns...)
	if err == nil {
		c.counts.mu.Lock()
		c.counts.listCalls++
		c.counts.mu.Unlock()
	}
	return out, err
}

func ref(name string) fluxconfig.Ref { return fluxconfig.Ref{Namespace: "flux-system", Name: name} }

func imageRepo(name, image string, exclusions ...string) fluxconfig.ImageRepository {
	return fluxconfig.ImageRepository{Ref: ref(name), Image: image, ExclusionList: exclusions}
}

func semverPolicy(name, repo, rng string) fluxconfig.ImagePolicy {
	return fluxconfig.ImagePolicy{Ref: ref(name), ImageRepositoryRef: ref(repo), SemverRange: rng}
}

// withAccess gives r spec.accessFrom with one namespaceSelector per match.
func withAccess(r fluxconfig.ImageRepository, matches ...map[string]string) fluxconfig.ImageRepository {
	r.AccessFrom = append([]map[string]string{}, matches...)
	return r
}
