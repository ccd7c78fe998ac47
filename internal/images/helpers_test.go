package images

import (
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
// clients for it, counting the clients made by region.
func ecrStandIn(t testing.TB) (*awstest.ECRServer, Clients, func() map[string]int) {
	t.Helper()
	srv := awstest.NewECRServer()
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	made := map[string]int{}
	clients := func(region string) registry.API {
		mu.Lock()
		made[region]++
		mu.Unlock()
		// Standard retries without backoff: on loopback the SDK sometimes
		// loses a connection reading a large page, which it retries.
		return ecr.New(ecr.Options{
			Region:       region,
			BaseEndpoint: aws.String(srv.URL()),
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDIMAGESTEST", "secret", ""),
			Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			}),
		})
	}
	counts := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range made {
			out[k] = v
		}
		return out
	}
	return srv, clients, counts
}

func ref(name string) fluxconfig.Ref { return fluxconfig.Ref{Namespace: "flux-system", Name: name} }

func imageRepo(name, image string, exclusions ...string) fluxconfig.ImageRepository {
	return fluxconfig.ImageRepository{Ref: ref(name), Image: image, ExclusionList: exclusions}
}

func semverPolicy(name, repo, rng string) fluxconfig.ImagePolicy {
	return fluxconfig.ImagePolicy{Ref: ref(name), ImageRepositoryRef: ref(repo), SemverRange: rng}
}
