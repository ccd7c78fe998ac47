package awstest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const ecrTestRepo = "mamezou-tech/task-service"

// newECRTest starts the stand-in and a real SDK client pointed at it. The
// client keeps the SDK's standard retries, without their backoff: on
// loopback the SDK sometimes loses a connection while reading a large
// response (it closes the request body as net/http makes its final read of
// it, which tears the connection down), an error it retries as it would
// against ECR. The stand-in's error answers are not retryable, so they are
// still seen once.
func newECRTest(t *testing.T) (*ECRServer, *ecr.Client) {
	t.Helper()
	srv := NewECRServer()
	t.Cleanup(srv.Close)
	srv.SetClock(func() time.Time { return time.Date(2026, 3, 12, 10, 15, 30, 500e6, time.UTC) })
	return srv, ecr.New(ecr.Options{
		Region:       "ap-northeast-1",
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDECRTEST", "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	})
}

// listAll reads every ListImages page of maxResults and returns the tags in
// order and the number of pages.
func listAll(t *testing.T, c *ecr.Client, registryID string, maxResults int32) ([]string, int) {
	t.Helper()
	in := &ecr.ListImagesInput{RegistryId: aws.String(registryID), RepositoryName: aws.String(ecrTestRepo),
		Filter: &ecrtypes.ListImagesFilter{TagStatus: ecrtypes.TagStatusTagged}, MaxResults: aws.Int32(maxResults)}
	var tags []string
	pages := 0
	for p := ecr.NewListImagesPaginator(c, in); p.HasMorePages(); {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListImages page %d: %v", pages+1, err)
		}
		pages++
		for _, id := range out.ImageIds {
			if !strings.HasPrefix(aws.ToString(id.ImageDigest), "sha256:") {
				t.Errorf("image %v has no sha256 digest", id)
			}
			tags = append(tags, aws.ToString(id.ImageTag))
		}
	}
	return tags, pages
}

func TestECRListImagesPaging(t *testing.T) {
	tests := []struct {
		name       string
		tags       int
		maxResults int32
		wantPages  int
	}{
		{name: "one page", tags: 3, maxResults: 100, wantPages: 1},
		{name: "exact pages", tags: 200, maxResults: 100, wantPages: 2},
		{name: "2500 tags by 1000", tags: 2500, maxResults: 1000, wantPages: 3},
		{name: "2500 tags by 7", tags: 2500, maxResults: 7, wantPages: 358},
		{name: "empty repository", tags: 0, maxResults: 10, wantPages: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newECRTest(t)
			srv.CreateRepository(ECRAccountID, ecrTestRepo)
			var want []string
			for i := range tt.tags {
				tag := fmt.Sprintf("1.%d.%d", i/100, i%100)
				srv.PushTag(ECRAccountID, ecrTestRepo, tag)
				want = append(want, tag)
			}
			got, pages := listAll(t, c, ECRAccountID, tt.maxResults)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			// A retried page is one more request (see newECRTest).
			if n := srv.Requests("ListImages"); pages != tt.wantPages || n < pages {
				t.Errorf("pages = %d, requests = %d, want %d pages", pages, n, tt.wantPages)
			}
		})
	}
}

func TestECRPushAndDelete(t *testing.T) {
	srv, c := newECRTest(t)
	d1 := srv.PushTag(ECRAccountID, ecrTestRepo, "1.0.0")
	if again := srv.PushTag(ECRAccountID, ecrTestRepo, "1.0.0"); again != d1 {
		t.Errorf("pushing 1.0.0 again gave digest %s, want %s", again, d1)
	}
	srv.PushTag(ECRAccountID, ecrTestRepo, "1.1.0")
	srv.PushTag("444455556666", ecrTestRepo, "9.9.9") // another registry, same name
	if !srv.DeleteTag(ECRAccountID, ecrTestRepo, "1.0.0") || srv.DeleteTag(ECRAccountID, ecrTestRepo, "1.0.0") {
		t.Error("DeleteTag did not report the tag existing exactly once")
	}
	srv.PushTag(ECRAccountID, ecrTestRepo, "1.1.1")
	got, _ := listAll(t, c, ECRAccountID, 100)
	if diff := cmp.Diff([]string{"1.1.0", "1.1.1"}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	// Without a registry id, the caller's account is listed.
	out, err := c.ListImages(context.Background(), &ecr.ListImagesInput{RepositoryName: aws.String(ecrTestRepo)})
	if err != nil || len(out.ImageIds) != 2 {
		t.Errorf("ListImages without registry id = %v, %v; want 2 images", out, err)
	}
}

func TestECRDescribeImages(t *testing.T) {
	srv, c := newECRTest(t)
	digest := srv.PushTag(ECRAccountID, ecrTestRepo, "1.0.0")
	srv.PushTag(ECRAccountID, ecrTestRepo, "1.1.0")
	srv.PushTag(ECRAccountID, ecrTestRepo, "1.1.1")
	ctx := context.Background()

	out, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(ecrTestRepo), MaxResults: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ImageDetails) != 2 || out.NextToken == nil {
		t.Fatalf("first page = %d images, next %v; want 2 and a token", len(out.ImageDetails), out.NextToken)
	}
	d := out.ImageDetails[0]
	wantPushed := time.Date(2026, 3, 12, 10, 15, 30, 500e6, time.UTC)
	if aws.ToString(d.ImageDigest) != digest || !cmp.Equal(d.ImageTags, []string{"1.0.0"}) ||
		aws.ToString(d.RegistryId) != ECRAccountID || aws.ToString(d.RepositoryName) != ecrTestRepo || !aws.ToTime(d.ImagePushedAt).Equal(wantPushed) {
		t.Errorf("detail = %+v", d)
	}
	out, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(ecrTestRepo), MaxResults: aws.Int32(2), NextToken: out.NextToken})
	if err != nil || len(out.ImageDetails) != 1 || out.NextToken != nil {
		t.Fatalf("second page = %v, %v; want the last image", out, err)
	}

	named, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(ecrTestRepo),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("1.1.1")}}})
	if err != nil || len(named.ImageDetails) != 1 || named.ImageDetails[0].ImageTags[0] != "1.1.1" {
		t.Fatalf("DescribeImages by tag = %v, %v", named, err)
	}
	_, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(ecrTestRepo),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("9.9.9")}}})
	var notFound *ecrtypes.ImageNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("DescribeImages of a missing tag = %v, want ImageNotFoundException", err)
	}
}

func TestECRErrors(t *testing.T) {
	srv, c := newECRTest(t)
	srv.PushTag(ECRAccountID, ecrTestRepo, "1.0.0")
	ctx := context.Background()
	tests := []struct {
		name     string
		in       *ecr.ListImagesInput
		wantCode string
		wantMsg  string
	}{
		{name: "unknown repository", in: &ecr.ListImagesInput{RepositoryName: aws.String("nope/missing")},
			wantCode: "RepositoryNotFoundException", wantMsg: "The repository with name 'nope/missing' does not exist in the registry with id '111122223333'"},
		{name: "other registry", in: &ecr.ListImagesInput{RegistryId: aws.String("444455556666"), RepositoryName: aws.String(ecrTestRepo)},
			wantCode: "RepositoryNotFoundException", wantMsg: "in the registry with id '444455556666'"},
		{name: "maxResults too large", in: &ecr.ListImagesInput{RepositoryName: aws.String(ecrTestRepo), MaxResults: aws.Int32(1001)},
			wantCode: "InvalidParameterException", wantMsg: "'maxResults' failed to satisfy constraint"},
		{name: "foreign token", in: &ecr.ListImagesInput{RepositoryName: aws.String(ecrTestRepo), NextToken: aws.String("bm9wZQ")},
			wantCode: "InvalidParameterException", wantMsg: "Invalid NextToken"},
		{name: "bad tag status", in: &ecr.ListImagesInput{RepositoryName: aws.String(ecrTestRepo), Filter: &ecrtypes.ListImagesFilter{TagStatus: "SOME"}},
			wantCode: "InvalidParameterException", wantMsg: "filter.tagStatus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ListImages(ctx, tt.in)
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode || !strings.Contains(apiErr.ErrorMessage(), tt.wantMsg) {
				t.Fatalf("ListImages error = %v; want %s containing %q", err, tt.wantCode, tt.wantMsg)
			}
		})
	}
	var notFound *ecrtypes.RepositoryNotFoundException
	if _, err := c.ListImages(ctx, tests[0].in); !errors.As(err, &notFound) {
		t.Errorf("unknown repository error %T is not the modelled RepositoryNotFoundException", err)
	}
}

func TestECRRefusesUnsigned(t *testing.T) {
	srv, _ := newECRTest(t)
	req, _ := http.NewRequest(http.MethodPost, srv.URL(), strings.NewReader(`{"repositoryName":"a/b"}`))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.ListImages")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned request: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}
