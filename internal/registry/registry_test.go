package registry

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/awstest"
)

const repo = "mamezou-tech/task-service"

// newClient is the real ECR client pointed at the stand-in, with the SDK's
// standard retries but no backoff: on loopback the SDK sometimes loses a
// connection while reading a large page, which it retries as it would
// against ECR.
func newClient(srv *awstest.ECRServer) *ecr.Client {
	return ecr.New(ecr.Options{
		Region:       "ap-northeast-1",
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDREGISTRYTEST", "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	})
}

func TestTags(t *testing.T) {
	tests := []struct {
		name      string
		push      int      // tags pushed as 0.<i/100>.<i%100>
		deleted   []string // tags deleted afterwards
		wantCalls int
	}{
		{name: "seed", push: 2, wantCalls: 1},
		{name: "empty repository", push: 0, wantCalls: 1},
		{name: "2500 tags across pages", push: 2500, wantCalls: 3},
		{name: "deleted tags gone", push: 1001, deleted: []string{"0.0.0", "0.10.0"}, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := awstest.NewECRServer()
			t.Cleanup(srv.Close)
			srv.CreateRepository(awstest.ECRAccountID, repo)
			var want []string
			for i := range tt.push {
				tag := fmt.Sprintf("0.%d.%d", i/100, i%100)
				srv.PushTag(awstest.ECRAccountID, repo, tag)
				if !slices.Contains(tt.deleted, tag) {
					want = append(want, tag)
				}
			}
			for _, tag := range tt.deleted {
				srv.DeleteTag(awstest.ECRAccountID, repo, tag)
			}
			got, err := New(newClient(srv)).Tags(context.Background(), awstest.ECRAccountID, repo)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Tags (-want +got):\n%s", diff)
			}
			// Up to two retried pages (see newClient) add to the calls.
			if n := srv.Requests("ListImages"); n < tt.wantCalls || n > tt.wantCalls+2 {
				t.Errorf("ListImages called %d times, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestTagsErrors(t *testing.T) {
	srv := awstest.NewECRServer()
	t.Cleanup(srv.Close)
	srv.PushTag(awstest.ECRAccountID, repo, "1.0.0")
	l := New(newClient(srv))

	_, err := l.Tags(context.Background(), awstest.ECRAccountID, "mamezou-tech/missing")
	var notFound *types.RepositoryNotFoundException
	want := "ECR repository not found: listing tags of 'mamezou-tech/missing' in registry 111122223333: "
	if !errors.Is(err, ErrRepositoryNotFound) || !errors.As(err, &notFound) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("unknown repository: %v; want ErrRepositoryNotFound starting %q", err, want)
	}

	_, err = l.Tags(context.Background(), "444455556666", repo)
	if !errors.Is(err, ErrRepositoryNotFound) {
		t.Errorf("repository of another registry: %v; want ErrRepositoryNotFound", err)
	}

	srv.Close()
	_, err = l.Tags(context.Background(), awstest.ECRAccountID, repo)
	if err == nil || errors.Is(err, ErrRepositoryNotFound) || !strings.HasPrefix(err.Error(), "failed to list tags of ECR repository 'mamezou-tech/task-service' in registry 111122223333: ") {
		t.Errorf("registry down: %v", err)
	}
}

// TestTagsFromEnvironment builds the client the way the functions do, from
// the default config, reaching the stand-in through AWS_ENDPOINT_URL_ECR.
func TestTagsFromEnvironment(t *testing.T) {
	srv := awstest.NewECRServer()
	t.Cleanup(srv.Close)
	srv.PushTag(awstest.ECRAccountID, repo, "1.0.0")
	srv.PushTag(awstest.ECRAccountID, repo, "1.1.0")
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_ECR": srv.URL(), "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
	} {
		t.Setenv(k, v)
	}
	ref, err := ParseECRRepository("111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(ref.Region))
	if err != nil {
		t.Fatal(err)
	}
	got, err := New(ecr.NewFromConfig(cfg)).Tags(context.Background(), ref.AccountID, ref.Name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.0.0", "1.1.0"}, got); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}
}

func TestParseECRRepository(t *testing.T) {
	tests := []struct {
		image   string
		want    ECRRepository
		wantErr string
	}{
		{image: "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service",
			want: ECRRepository{Host: "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com", AccountID: "111122223333", Region: "ap-northeast-1", Name: "mamezou-tech/task-service"}},
		{image: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app",
			want: ECRRepository{Host: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", AccountID: "123456789012", Region: "cn-north-1", Name: "app"}},
		{image: "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/team/app",
			want: ECRRepository{Host: "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", AccountID: "123456789012", Region: "us-gov-west-1", Name: "team/app"}},
		{image: "123456789012.dkr-ecr.eu-west-1.on.aws/app",
			want: ECRRepository{Host: "123456789012.dkr-ecr.eu-west-1.on.aws", AccountID: "123456789012", Region: "eu-west-1", Name: "app"}},
		{image: "123456789012.DKR.ECR.us-east-1.AMAZONAWS.COM/app",
			want: ECRRepository{Host: "123456789012.dkr.ecr.us-east-1.amazonaws.com", AccountID: "123456789012", Region: "us-east-1", Name: "app"}},
		{image: "ghcr.io/acme/app", wantErr: "is not in an Amazon ECR private registry"},
		{image: "public.ecr.aws/acme/app", wantErr: "is not in an Amazon ECR private registry"},
		{image: "12345.dkr.ecr.us-east-1.amazonaws.com/app", wantErr: "is not in an Amazon ECR private registry"},
		{image: "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/app", wantErr: "is not in an Amazon ECR private registry"},
		{image: "123456789012.dkr.ecr.us-east-1.amazonaws.com", wantErr: "is not <account>.dkr.ecr.<region>.amazonaws.com/<repository>"},
		{image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0.0", wantErr: "names a tag or digest"},
		{image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abc", wantErr: "names a tag or digest"},
		{image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/App", wantErr: `"App" is not a valid ECR repository name`},
		{image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/a//b", wantErr: "is not a valid ECR repository name"},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			got, err := ParseECRRepository(tt.image)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseECRRepository error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.String() != strings.ToLower(tt.image) {
				t.Errorf("String() = %q", got.String())
			}
		})
	}
}
