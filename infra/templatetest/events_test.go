package templatetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/imageupdate"
	"github.com/sluice-gitops/sluice/internal/lambdarun"
	"github.com/sluice-gitops/sluice/internal/queue"
)

// Ways a sample event reaches its function.
const (
	viaURL      = "FunctionUrl" // a Function URL request
	viaQueue    = "SQS"         // an SQS event from the function's queue
	viaSchedule = "Schedule"    // an EventBridge scheduled event
	viaRule     = "ImageEventRule"
)

// samples lists every file of events/ with the function it is for and how it
// reaches it; viaRule events are what the ECR rule matches and puts, as the
// message body, on the image queue.
var samples = map[string]struct{ function, via string }{
	"github-push.json":          {"WebhookFunction", viaURL},
	"github-ping.json":          {"WebhookFunction", viaURL},
	"sqs-reconcile.json":        {"ReconcileFunction", viaQueue},
	"sqs-ecr-push.json":         {"ImageUpdateFunction", viaQueue},
	"sqs-image-reevaluate.json": {"ImageUpdateFunction", viaQueue},
	"ecr-push.json":             {"ImageUpdateFunction", viaRule},
	"ecr-delete.json":           {"ImageUpdateFunction", viaRule},
	"schedule.json":             {"DriftFunction", viaSchedule},
}

// TestSampleEvents decodes each sample strictly (lambdarun.DecodeEvent, as
// the handlers do) into the aws-lambda-go type its trigger delivers, checks
// that nothing is lost or renamed on the way (the type re-encoded holds the
// whole file), that the trigger is the one template.yaml wires to the
// function, and that the payload is one the function's own decoder accepts.
func TestSampleEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(samples)), names); diff != "" {
		t.Errorf("events/*.json vs this test's table (-table +files): add new samples to the table:\n%s", diff)
	}
	// The fixture's repository, as the samples' message groups name it.
	d := deploy(t, with(required, map[string]string{"GitUrl": "ssh://git@github.com/mamezou-tech/task-tool-cluster-config"}))
	for _, name := range names {
		s, ok := samples[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(repoRoot, "events", name))
			if err != nil {
				t.Fatal(err)
			}
			trigger := triggers[s.function]
			switch s.via {
			case viaURL:
				var ev events.LambdaFunctionURLRequest
				// Lambda sends these (payload format 2.0), aws-lambda-go
				// v1.55.1 has no field for them, and the webhook reads neither.
				roundTrip(t, raw, &ev, "/requestContext/routeKey", "/requestContext/stage")
				if trigger != viaURL || ev.Version != "2.0" || ev.RequestContext.HTTP.Method != "POST" {
					t.Errorf("a Function URL POST (payload 2.0) for %s, whose trigger is %s", s.function, trigger)
				}
			case viaQueue:
				var ev events.SQSEvent
				roundTrip(t, raw, &ev)
				checkQueueEvent(t, d, s.function, ev)
			case viaRule:
				var ev events.CloudWatchEvent
				roundTrip(t, raw, &ev)
				checkRuleMatches(t, d, ev)
				if _, err := imageupdate.DecodeMessage(raw); err != nil {
					t.Errorf("image-update refuses it as an image queue message: %v", err)
				}
			case viaSchedule:
				var ev events.CloudWatchEvent
				roundTrip(t, raw, &ev)
				checkScheduledEvent(t, d, s.function, ev)
			}
		})
	}
}

// roundTrip decodes raw strictly into v and checks that v, encoded again,
// holds every key and value of raw: a field that matched only
// case-insensitively, or that the type drops, is reported. The keys at
// unmodelled (paths of object keys) must be in raw, and are left out: they
// are what AWS sends and the type has no field for.
func roundTrip(t *testing.T, raw []byte, v any, unmodelled ...string) {
	t.Helper()
	var orig any
	if err := json.Unmarshal(raw, &orig); err != nil {
		t.Fatal(err)
	}
	for _, path := range unmodelled {
		parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
		parent, _ := orig.(map[string]any)
		for _, p := range parts[:len(parts)-1] {
			parent, _ = parent[p].(map[string]any)
		}
		if _, ok := parent[parts[len(parts)-1]]; !ok {
			t.Fatalf("%s is not in the sample: drop it from the unmodelled fields", path)
		}
		delete(parent, parts[len(parts)-1])
	}
	raw, err := json.Marshal(orig)
	if err != nil {
		t.Fatal(err)
	}
	if err := lambdarun.DecodeEvent(raw, v); err != nil {
		t.Fatalf("decoding strictly into %T: %v", v, err)
	}
	back, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var again any
	if err := json.Unmarshal(back, &again); err != nil {
		t.Fatal(err)
	}
	if path, ok := holds(again, orig, ""); !ok {
		t.Errorf("%s is lost or renamed when decoded into %T", path, v)
	}
}

// holds reports whether got holds every key and value of want, and if not,
// where it differs first.
func holds(got, want any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path, false
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			gv, ok := g[k]
			if !ok {
				return path + "/" + k, false
			}
			if p, ok := holds(gv, w[k], path+"/"+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path, false
		}
		for i := range w {
			if p, ok := holds(g[i], w[i], fmt.Sprintf("%s/%d", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	}
	return path, cmp.Equal(got, want)
}

// checkQueueEvent checks that an SQS sample comes from the queue the
// template wires to fn, in the message group the template's senders use, and
// carries a body fn's decoder accepts.
func checkQueueEvent(t *testing.T, d *deployment, fn string, ev events.SQSEvent) {
	t.Helper()
	q, ok := strings.CutPrefix(triggers[fn], viaQueue+" ")
	if !ok {
		t.Fatalf("%s is not triggered by a queue, but by %s", fn, triggers[fn])
	}
	group := fmt.Sprint(d.outputs["MessageGroupId"])
	if len(ev.Records) == 0 {
		t.Fatal("no records")
	}
	for _, rec := range ev.Records {
		// The region is the sample's own; the queue's name is the template's.
		_, name, _ := strings.Cut(strings.TrimPrefix(rec.EventSourceARN, "arn:aws:sqs:"), ":"+account+":")
		if want := d.must(t, q, "QueueName"); rec.EventSource != "aws:sqs" || name != want {
			t.Errorf("record from %s %s, want the queue %s", rec.EventSource, rec.EventSourceARN, want)
		}
		if got := rec.Attributes["MessageGroupId"]; got != group {
			t.Errorf("message group %q, want %q", got, group)
		}
		var err error
		switch fn {
		case "ReconcileFunction":
			_, err = queue.DecodeReconcile([]byte(rec.Body))
		case "ImageUpdateFunction":
			_, err = imageupdate.DecodeMessage([]byte(rec.Body))
		default:
			err = fmt.Errorf("no body decoder known for %s", fn)
		}
		if err != nil {
			t.Errorf("%s refuses the body: %v", fn, err)
		}
	}
}

// checkRuleMatches checks that the ECR rule's pattern matches ev, so the
// sample is an event the image queue receives.
func checkRuleMatches(t *testing.T, d *deployment, ev events.CloudWatchEvent) {
	t.Helper()
	var detail map[string]any
	if err := json.Unmarshal(ev.Detail, &detail); err != nil {
		t.Fatal(err)
	}
	pattern := d.tpl.GetAllEventsRuleResources()["ImageEventRule"].EventPattern.(map[string]any)
	fields := map[string]any{"source": ev.Source, "detail-type": ev.DetailType}
	allowedBy := map[string]any{"source": pattern["source"], "detail-type": pattern["detail-type"]}
	for k, v := range pattern["detail"].(map[string]any) {
		fields["detail/"+k] = detail[k]
		allowedBy["detail/"+k] = v
	}
	for field, v := range fields {
		if allowed, _ := allowedBy[field].([]any); !slices.Contains(allowed, v) {
			t.Errorf("%s %v is not one of the rule's %v", field, v, allowed)
		}
	}
}

// checkScheduledEvent checks what the drift handler checks (source,
// detail-type, id), and that the rule it names is the one SAM makes for fn's
// Schedule event (physical name <stack>-<function><event>-<suffix>).
func checkScheduledEvent(t *testing.T, d *deployment, fn string, ev events.CloudWatchEvent) {
	t.Helper()
	var event string
	for name, e := range d.props(t, fn)["Events"].(map[string]any) {
		if e.(map[string]any)["Type"] == viaSchedule {
			event = name
		}
	}
	if triggers[fn] != viaSchedule || event == "" {
		t.Fatalf("%s is triggered by %s, not a schedule", fn, triggers[fn])
	}
	if ev.Source != "aws.events" || ev.DetailType != "Scheduled Event" || ev.ID == "" || string(ev.Detail) != "{}" {
		t.Errorf("source %q, detail-type %q, id %q, detail %s: not a scheduled event", ev.Source, ev.DetailType, ev.ID, ev.Detail)
	}
	prefix := "arn:aws:events:" + ev.Region + ":" + ev.AccountID + ":rule/" + stackName + "-" + fn + event + "-"
	if len(ev.Resources) != 1 || !strings.HasPrefix(ev.Resources[0], prefix) {
		t.Errorf("resources %v, want the schedule rule %s...", ev.Resources, prefix)
	}
}
