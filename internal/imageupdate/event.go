package imageupdate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/lambdarun"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// What an ECR "Image Action" event says.
const (
	ecrSource     = "aws.ecr"
	ecrDetailType = "ECR Image Action"
	// ActionPush and ActionDelete are the action types of ECR Image Action
	// events.
	ActionPush   = "PUSH"
	ActionDelete = "DELETE"
	// ResultSuccess and ResultFailure are their results.
	ResultSuccess = "SUCCESS"
	ResultFailure = "FAILURE"
)

var (
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// InvalidEventError means the function was invoked with something it does
// not handle: neither an ECR Image Action event, an SQS event from the image
// queue, nor a re-evaluate request; or one of those with a field missing or
// wrong. Retrying it cannot help.
type InvalidEventError struct{ Err error }

func (e *InvalidEventError) Error() string { return "invalid image-update event: " + e.Err.Error() }

func (e *InvalidEventError) Unwrap() error { return e.Err }

// ImageAction is an ECR Image Action event: a tag pushed to, or deleted from,
// a repository of the registry of Account in Region.
type ImageAction struct {
	ID         string
	Account    string
	Region     string
	Repository string
	Action     string // ActionPush or ActionDelete
	Result     string // ResultSuccess or ResultFailure
	// Tag is the tag pushed or deleted; an image pushed by digest has none.
	Tag    string
	Digest string
}

// String names the action for logs: PUSH 111122223333/ap-northeast-1/repo:tag.
func (a ImageAction) String() string {
	s := a.Action + " " + a.Account + "/" + a.Region + "/" + a.Repository
	if a.Tag != "" {
		s += ":" + a.Tag
	}
	return s
}

// Request is what one event asks: to bring the policies of the repository an
// image action touched up to date, or to re-evaluate the policies named.
type Request struct {
	// Image is the ECR event; nil for a re-evaluate request.
	Image *ImageAction
	// Reevaluate is the re-evaluate request; nil for an ECR event.
	Reevaluate *queue.Reevaluate
}

// String describes the request for logs.
func (r Request) String() string {
	if r.Image != nil {
		return "ECR " + r.Image.String()
	}
	return fmt.Sprintf("re-evaluate (%s) %v", r.Reevaluate.Reason, r.Reevaluate.Policies)
}

// ecrDetail is the detail of an ECR Image Action event. Media types are sent
// with pushes.
type ecrDetail struct {
	Result            string `json:"result"`
	RepositoryName    string `json:"repository-name"`
	ImageDigest       string `json:"image-digest"`
	ActionType        string `json:"action-type"`
	ImageTag          string `json:"image-tag"`
	ManifestMediaType string `json:"manifest-media-type"`
	ArtifactMediaType string `json:"artifact-media-type"`
}

// DecodeImageAction decodes an EventBridge event, as EventBridge invokes a
// function with it or sends it to an SQS target, and checks that it is a
// well-formed ECR Image Action. The envelope is decoded strictly: its fields
// are EventBridge's, fixed. The detail is checked field by field instead,
// because ECR adds fields to it over time (the media types came later), and
// an event of tomorrow must not fail today's function.
func DecodeImageAction(raw []byte) (ImageAction, error) {
	var ev events.CloudWatchEvent
	if err := lambdarun.DecodeEvent(raw, &ev); err != nil {
		return ImageAction{}, fmt.Errorf("decoding EventBridge event: %w", err)
	}
	if ev.Source != ecrSource || ev.DetailType != ecrDetailType {
		return ImageAction{}, fmt.Errorf("source %q and detail-type %q: want %q and %q", ev.Source, ev.DetailType, ecrSource, ecrDetailType)
	}
	var errs []error
	if ev.ID == "" {
		errs = append(errs, errors.New("id is empty"))
	}
	if !accountID.MatchString(ev.AccountID) {
		errs = append(errs, fmt.Errorf("account %q is not a 12-digit AWS account id", ev.AccountID))
	}
	if !awsRegion.MatchString(ev.Region) {
		errs = append(errs, fmt.Errorf("region %q is not an AWS region", ev.Region))
	}
	var d ecrDetail
	if len(bytes.TrimSpace(ev.Detail)) == 0 || bytes.Equal(bytes.TrimSpace(ev.Detail), []byte("null")) {
		errs = append(errs, errors.New("detail is missing"))
	} else if err := json.Unmarshal(ev.Detail, &d); err != nil {
		errs = append(errs, fmt.Errorf("decoding detail: %w", err))
	} else {
		errs = append(errs, d.check())
	}
	if err := errors.Join(errs...); err != nil {
		return ImageAction{}, fmt.Errorf("ECR Image Action event %s: %w", ev.ID, err)
	}
	return ImageAction{
		ID: ev.ID, Account: ev.AccountID, Region: ev.Region, Repository: d.RepositoryName,
		Action: d.ActionType, Result: d.Result, Tag: d.ImageTag, Digest: d.ImageDigest,
	}, nil
}

func (d ecrDetail) check() error {
	var errs []error
	if d.RepositoryName == "" {
		errs = append(errs, errors.New("detail.repository-name is empty"))
	}
	if d.ActionType != ActionPush && d.ActionType != ActionDelete {
		errs = append(errs, fmt.Errorf("detail.action-type %q is not %s or %s", d.ActionType, ActionPush, ActionDelete))
	}
	if d.Result != ResultSuccess && d.Result != ResultFailure {
		errs = append(errs, fmt.Errorf("detail.result %q is not %s or %s", d.Result, ResultSuccess, ResultFailure))
	}
	return errors.Join(errs...)
}

// DecodeMessage decodes the body of an image queue message: an EventBridge
// event as EventBridge sends it to an SQS target, or a re-evaluate request
// (DESIGN.md, "Image message").
func DecodeMessage(body []byte) (Request, error) {
	keys, err := objectKeys(body)
	if err != nil {
		return Request{}, err
	}
	switch {
	case keys["detail-type"] || keys["source"]:
		a, err := DecodeImageAction(body)
		if err != nil {
			return Request{}, err
		}
		return Request{Image: &a}, nil
	case keys["reason"]:
		m, err := queue.DecodeReevaluate(body)
		if err != nil {
			return Request{}, err
		}
		for _, p := range m.Policies {
			if ns, name, ok := strings.Cut(p, "/"); !ok || ns == "" || name == "" || strings.Contains(name, "/") {
				return Request{}, fmt.Errorf("invalid re-evaluate message: policy %q is not <namespace>/<name>", p)
			}
		}
		return Request{Reevaluate: &m}, nil
	}
	return Request{}, errors.New("neither an EventBridge event (source, detail-type) nor a re-evaluate request (reason)")
}

// objectKeys returns the top-level keys of a JSON object, to tell the
// shapes apart before decoding one strictly.
func objectKeys(raw []byte) (map[string]bool, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if probe == nil {
		return nil, errors.New("not a JSON object: null")
	}
	keys := make(map[string]bool, len(probe))
	for k := range probe {
		keys[k] = true
	}
	return keys, nil
}
