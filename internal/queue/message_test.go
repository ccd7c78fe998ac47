package queue

import (
	"strings"
	"testing"
)

func TestGroupID(t *testing.T) {
	tests := []struct {
		name, repo, branch, want string
	}{
		{name: "plain", repo: "github.com/o/r", branch: "main", want: "github.com/o/r@main"},
		{name: "space replaced", repo: "github.com/o/r", branch: "a b", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GroupID(tt.repo, tt.branch)
			if tt.want != "" && got != tt.want {
				t.Errorf("GroupID = %q, want %q", got, tt.want)
			}
			if strings.ContainsAny(got, " \t\n") || len(got) > maxID {
				t.Errorf("GroupID = %q is not a valid SQS id", got)
			}
		})
	}
	long := strings.Repeat("x", 200)
	a, b := GroupID("github.com/o/"+long, "main"), GroupID("github.com/o/"+long, "dev")
	if len(a) != maxID || a == b {
		t.Errorf("long ids not bounded and distinct: %q %q", a, b)
	}
	if GroupID("github.com/o/r", "a b") == GroupID("github.com/o/r", "a_b") {
		t.Error("sanitised id collides with a branch that really has that name")
	}
}

func TestDecodeReconcile(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
	}{
		{name: "valid", body: `{"repository":"github.com/o/r","branch":"main","revision":"abc","reason":"push","kustomizations":[]}`},
		{name: "named", body: `{"repository":"github.com/o/r","branch":"main","revision":"abc","reason":"drift","kustomizations":["flux-system/task-tool"]}`},
		{name: "unknown field", body: `{"repository":"r","branch":"main","reason":"push","extra":1}`, wantErr: "unknown field"},
		{name: "missing fields", body: `{"reason":"push"}`, wantErr: "repository is empty"},
		{name: "bad reason", body: `{"repository":"r","branch":"main","reason":"later"}`, wantErr: "reason"},
		{name: "bad name", body: `{"repository":"r","branch":"main","reason":"push","kustomizations":["x"]}`, wantErr: "<namespace>/<name>"},
		{name: "not json", body: `hello`, wantErr: "decoding"},
		{name: "ecr event", body: `{"version":"0","source":"aws.ecr"}`, wantErr: "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeReconcile([]byte(tt.body))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// A manual request's id is a valid SQS id, distinct per request, so asking
// twice within the deduplication window queues twice.
func TestManualDedupID(t *testing.T) {
	sha := strings.Repeat("a", 40)
	a, b := ManualDedupID(sha, "1"), ManualDedupID(sha, "2")
	if a == b || !strings.HasPrefix(a, "manual-"+sha+"-") {
		t.Errorf("ids %q and %q", a, b)
	}
	if long := ManualDedupID(sha, strings.Repeat("x", 200)); len(long) > maxID {
		t.Errorf("id of %d characters", len(long))
	}
}
