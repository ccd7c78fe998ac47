package imageupdate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/queue"
)

func TestDecodeMessage(t *testing.T) {
	const digest = "sha256:ccb87b2ba8031ebe918930371f1a3cff241276d95842bfc4ff29c993ec012fa4"
	push := ImageAction{ID: "4f5ec4d5-4de4-7aad-a046-56d5cfe1df0e", Account: account, Region: region, Repository: taskService,
		Action: ActionPush, Result: ResultSuccess, Tag: "1.1.1", Digest: digest}
	del := push
	del.ID, del.Action = "b2a9e0c7-61d3-3f0b-9c55-0e7d1a4f8b26", ActionDelete
	withDetail := func(edit func(d map[string]any)) []byte {
		return ecrEvent(t, ActionPush, taskService, "1.1.1", func(_, d map[string]any) { edit(d) })
	}
	withEnvelope := func(edit func(ev map[string]any)) []byte {
		return ecrEvent(t, ActionPush, taskService, "1.1.1", func(ev, _ map[string]any) { edit(ev) })
	}
	tests := []struct {
		name    string
		body    []byte
		want    Request
		wantErr string
	}{
		{name: "events/ecr-push.json", body: readEvent(t, "ecr-push.json"), want: Request{Image: &push}},
		{name: "events/ecr-delete.json", body: readEvent(t, "ecr-delete.json"), want: Request{Image: &del}},
		{name: "a failed push decodes: it is ignored later", body: withDetail(func(d map[string]any) { d["result"] = ResultFailure }),
			want: Request{Image: &ImageAction{ID: push.ID, Account: account, Region: region, Repository: taskService, Action: ActionPush, Result: ResultFailure, Tag: "1.1.1", Digest: digest}}},
		{name: "a push by digest has no tag", body: withDetail(func(d map[string]any) { delete(d, "image-tag") }),
			want: Request{Image: &ImageAction{ID: push.ID, Account: account, Region: region, Repository: taskService, Action: ActionPush, Result: ResultSuccess, Digest: digest}}},
		{name: "a detail field ECR adds tomorrow", body: withDetail(func(d map[string]any) { d["image-size"] = 123 }), want: Request{Image: &push}},
		{name: "re-evaluate from drift", body: []byte(`{"reason":"drift","policies":["flux-system/task-service"]}`),
			want: Request{Reevaluate: &queue.Reevaluate{Reason: queue.ReasonDrift, Policies: []string{"flux-system/task-service"}}}},
		{name: "re-evaluate everything", body: []byte(`{"reason":"manual","policies":[]}`),
			want: Request{Reevaluate: &queue.Reevaluate{Reason: queue.ReasonManual, Policies: []string{}}}},

		{name: "an envelope field EventBridge does not send", body: withEnvelope(func(ev map[string]any) { ev["replay-name"] = "x" }), wantErr: `unknown field "replay-name"`},
		{name: "wrong source", body: withEnvelope(func(ev map[string]any) { ev["source"] = "aws.s3" }), wantErr: `source "aws.s3"`},
		{name: "ECR scan event", body: withEnvelope(func(ev map[string]any) { ev["detail-type"] = "ECR Image Scan" }), wantErr: `detail-type "ECR Image Scan"`},
		{name: "no id", body: withEnvelope(func(ev map[string]any) { delete(ev, "id") }), wantErr: "id is empty"},
		{name: "bad account", body: withEnvelope(func(ev map[string]any) { ev["account"] = "1111" }), wantErr: `account "1111" is not a 12-digit AWS account id`},
		{name: "bad region", body: withEnvelope(func(ev map[string]any) { ev["region"] = "Tokyo" }), wantErr: `region "Tokyo" is not an AWS region`},
		{name: "no detail", body: withEnvelope(func(ev map[string]any) { delete(ev, "detail") }), wantErr: "detail is missing"},
		{name: "detail not an object", body: withEnvelope(func(ev map[string]any) { ev["detail"] = "PUSH" }), wantErr: "decoding detail"},
		{name: "every detail problem at once", body: withEnvelope(func(ev map[string]any) { ev["detail"] = map[string]any{"action-type": "PULL"} }),
			wantErr: "detail.repository-name is empty\ndetail.action-type \"PULL\" is not PUSH or DELETE\ndetail.result \"\" is not SUCCESS or FAILURE"},
		{name: "time not a time", body: withEnvelope(func(ev map[string]any) { ev["time"] = "yesterday" }), wantErr: "decoding EventBridge event"},
		{name: "re-evaluate with an unknown field", body: []byte(`{"reason":"drift","policies":[],"all":true}`), wantErr: `unknown field "all"`},
		{name: "re-evaluate with a bad policy name", body: []byte(`{"reason":"drift","policies":["task-service"]}`), wantErr: `policy "task-service" is not <namespace>/<name>`},
		{name: "neither", body: []byte(`{"repository":"x","branch":"main"}`), wantErr: "neither an EventBridge event"},
		{name: "not an object", body: []byte(`"PUSH"`), wantErr: "not a JSON object"},
		{name: "trailing data", body: append(readEvent(t, "ecr-push.json"), []byte(`{}`)...), wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeMessage(tt.body)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want it to say %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestString(t *testing.T) {
	req, err := DecodeMessage(readEvent(t, "ecr-push.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s := req.String(); s != "ECR PUSH 111122223333/ap-northeast-1/mamezou-tech/task-service:1.1.1" {
		t.Errorf("String() = %q", s)
	}
	re := Request{Reevaluate: &queue.Reevaluate{Reason: queue.ReasonDrift, Policies: []string{"flux-system/a"}}}
	if s := re.String(); s != "re-evaluate (drift) [flux-system/a]" {
		t.Errorf("String() = %q", s)
	}
}
