package imageupdate

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/setters"
)

// errNoGit is what the fuzzed handler's Git answers: the decoder is under
// test, and a request that reaches Git shows it was accepted.
var errNoGit = errors.New("no Git in the fuzz test")

type noGit struct{}

func (noGit) Clone(context.Context, string) (*gitrepo.Checkout, error) { return nil, errNoGit }
func (noGit) CloneForPush(context.Context, string, string) (*gitrepo.Checkout, error) {
	return nil, errNoGit
}

type noImages struct{}

func (noImages) Resolve(context.Context, *fluxconfig.Config, []fluxconfig.ImagePolicy) (map[string]setters.Image, error) {
	return nil, errors.New("unreachable: Git fails first")
}

// FuzzHandle feeds the handler arbitrary events, direct and as SQS message
// bodies. Whatever the input: no panic; a direct event is either refused as
// an *InvalidEventError or accepted (and then reaches Git, or is ignored);
// an SQS batch always answers a partial batch response naming only its own
// records.
func FuzzHandle(f *testing.F) {
	for _, name := range []string{"ecr-push.json", "ecr-delete.json", "sqs-ecr-push.json", "sqs-image-reevaluate.json"} {
		f.Add(string(readEvent(f, name)))
	}
	f.Add(`{"reason":"drift","policies":["a/b"]}`)
	f.Add(`{"reason":"manual","policies":null}`)
	f.Add(`{"source":"aws.ecr","detail-type":"ECR Image Action","detail":null}`)
	f.Add(`{"Records":[{"messageId":"m","eventSource":"aws:sqs","body":"{\"reason\":\"drift\"}"}]}`)
	f.Add(`{"Records":null}`)
	f.Add(`[]`)
	quietLogs(f)
	h := NewHandler(New(Repository{URL: "https://github.com/o/r", Branch: "main", ConfigPath: "clusters/prod"}, noGit{}, noImages{}))
	f.Fuzz(func(t *testing.T, event string) {
		ctx := context.Background()
		out, err := h.Handle(ctx, json.RawMessage(event))
		var inv *InvalidEventError
		switch {
		case errors.As(err, &inv):
			if out != nil {
				t.Fatalf("an invalid event answered %v", out)
			}
		case err != nil:
			if !errors.Is(err, errNoGit) {
				t.Fatalf("unexpected error %v", err)
			}
			if _, derr := DecodeMessage([]byte(event)); derr != nil {
				t.Fatalf("an event DecodeMessage refuses (%v) reached Git", derr)
			}
		default:
			switch v := out.(type) {
			case events.SQSEventResponse:
				var ev events.SQSEvent
				if json.Unmarshal([]byte(event), &ev) != nil {
					t.Fatalf("answered a batch response to a non-SQS event")
				}
				ids := map[string]bool{}
				for _, r := range ev.Records {
					ids[r.MessageId] = true
				}
				for _, f := range v.BatchItemFailures {
					if !ids[f.ItemIdentifier] {
						t.Fatalf("failure %q names no record", f.ItemIdentifier)
					}
				}
			case *Result:
				if v.Commit != nil || len(v.Files) != 0 {
					t.Fatalf("a result with changes but no Git: %+v", v)
				}
			default:
				t.Fatalf("answer of type %T", out)
			}
		}
	})
}
