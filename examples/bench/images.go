package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/imageupdate"
)

// The fixture's ImageRepository: task-service in ECR, whose ImagePolicy
// (semver 1.1.x) picks pushedTag over the 1.0.0 in Git.
const (
	registryID = "111122223333"
	ecrRegion  = "ap-northeast-1"
	imageRepo  = "mamezou-tech/task-service"
	pushedTag  = "1.1.1"
)

// imageRows times an ECR push event → the image-update function commits the
// tag the policy now selects and pushes it, each run on a fresh copy of the
// fixture's config repository: through the handler in this process (warm:
// the ECR client kept, as a Lambda container keeps it) and through the
// binary (cold). Each run must push a commit that is the branch's new head.
func (b *bench) imageRows(ctx context.Context) ([]row, error) {
	const work = "ECR event → commit pushed"
	if _, ok := b.bins["image-update"]; !ok {
		return []row{{work: work, missing: "not measured: " + b.whyNot("image-update")}}, nil
	}
	ecr := awstest.NewECRServer()
	defer ecr.Close()
	ecr.CreateRepository(registryID, imageRepo)
	for _, tag := range []string{"1.0.0", "1.1.0", pushedTag, "1.2.0"} {
		ecr.PushTag(registryID, imageRepo, tag)
	}
	event, err := json.Marshal(ecrPush(pushedTag))
	if err != nil {
		return nil, err
	}
	file := filepath.Join(b.work, "events", "ecr-push.json")
	if err := writeFile(file, string(event)); err != nil {
		return nil, err
	}
	resolver := images.NewResolver(images.ECRClients(aws.Config{
		Region: ecrRegion, BaseEndpoint: aws.String(ecr.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSLUICEBENCH", "bench", ""),
	}))
	b.logf("  ECR event → commit pushed (%d runs each way)", b.opts.runs)
	var inProcess, binary result
	for i := 0; i <= b.opts.runs; i++ { // run 0 warms the handler up
		cr, err := b.newRepo(b.fixture(), b.name("img"))
		if err != nil {
			return nil, err
		}
		h := imageupdate.NewHandler(imageupdate.New(imageupdate.Repository{URL: cr.url, Branch: branch, ConfigPath: cr.repo.ConfigPath}, cr.git, resolver))
		var out any
		d, err := timed(func() (err error) {
			out, err = h.Handle(ctx, event)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("image update of %s: %w", cr.url, err)
		}
		res, ok := out.(*imageupdate.Result)
		if !ok {
			return nil, fmt.Errorf("image update of %s answered %T, want *imageupdate.Result", cr.url, out)
		}
		if err := b.expectPushed(cr, res); err != nil {
			return nil, err
		}
		if i > 0 {
			inProcess.add(d)
		}
	}
	for range b.opts.runs {
		cr, err := b.newRepo(b.fixture(), b.name("img-bin"))
		if err != nil {
			return nil, err
		}
		p, err := b.runFunction(ctx, "image-update", file, map[string]string{
			"SLUICE_GIT_URL": cr.url, "SLUICE_CONFIG_PATH": cr.repo.ConfigPath, "AWS_ENDPOINT_URL_ECR": ecr.URL(), "AWS_REGION": ecrRegion,
		})
		if err != nil {
			return nil, err
		}
		var res imageupdate.Result
		if p.code != 0 || json.Unmarshal(p.stdout, &res) != nil {
			return nil, fmt.Errorf("image-update binary exited %d: %s %s", p.code, p.stdout, p.tail())
		}
		if err := b.expectPushed(cr, &res); err != nil {
			return nil, err
		}
		binary.addProc(p)
	}
	return []row{
		{work: work + ": handler in process (warm), ECR stand-in", sluice: &inProcess},
		{work: work + ": image-update function binary, cold (exec → exit)", sluice: &binary},
	}, nil
}

// expectPushed checks that res names a commit and that it is the head of the
// branch on the Git server now.
func (b *bench) expectPushed(cr *configRepo, res *imageupdate.Result) error {
	if res.Commit == nil {
		return fmt.Errorf("image update of %s committed nothing: %+v", cr.url, res)
	}
	head, err := b.git.Head("bench/"+cr.ns+".git", branch)
	if err != nil {
		return err
	}
	if head != *res.Commit {
		return fmt.Errorf("image update of %s answered commit %s, but the branch is at %s", cr.url, *res.Commit, head)
	}
	return nil
}

// ecrPush is the EventBridge event of a successful push of tag to the
// fixture's ECR repository, as EventBridge invokes a function with it.
func ecrPush(tag string) events.CloudWatchEvent {
	detail, _ := json.Marshal(map[string]any{
		"result": "SUCCESS", "repository-name": imageRepo, "action-type": "PUSH", "image-tag": tag,
		"image-digest": "sha256:0f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a",
	})
	return events.CloudWatchEvent{
		Version: "0", ID: "bench-ecr-push-" + tag, DetailType: "ECR Image Action", Source: "aws.ecr",
		AccountID: registryID, Time: time.Now().UTC().Truncate(time.Second), Region: ecrRegion,
		Resources: []string{}, Detail: detail,
	}
}
