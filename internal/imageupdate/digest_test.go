package imageupdate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-gitops/sluice/internal/gittest"
)

// TestDigestReflection is Flux's digestReflectionPolicy on a real Git
// server and the ECR stand-in: Never leaves digests out, IfNotPresent pins
// the digest first seen for a tag until the tag changes, Always follows a
// re-pushed tag to its new digest. Digests go into :digest markers and
// full-image markers (name:tag@sha256:...).
func TestDigestReflection(t *testing.T) {
	const (
		full   = "app/overlays/prod/image.yaml"
		image  = imageHost + "/" + taskService
		digest = `    digest: "" # {"$imagepolicy": "flux-system:task-service:digest"}`
	)
	type step struct {
		content string // what is pushed as 1.1.<n>'s manifest; "" for none
		tag     string
		commits bool
		want    string // the tag, or tag@digest-of-content, Git holds
	}
	tests := []struct {
		policy string
		steps  []step
	}{
		{policy: "Never", steps: []step{
			{content: "a", tag: "1.1.0", commits: true, want: "1.1.0"},
			{content: "b", tag: "1.1.0", want: "1.1.0"},
		}},
		{policy: "IfNotPresent", steps: []step{
			{content: "a", tag: "1.1.0", commits: true, want: "1.1.0@a"},
			{content: "b", tag: "1.1.0", want: "1.1.0@a"},
			{content: "c", tag: "1.1.1", commits: true, want: "1.1.1@c"},
		}},
		{policy: "Always", steps: []step{
			{content: "a", tag: "1.1.0", commits: true, want: "1.1.0@a"},
			{content: "b", tag: "1.1.0", commits: true, want: "1.1.0@b"},
			{content: "b", tag: "1.1.0", want: "1.1.0@b"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			w := newWorld(t, func(dir string) error {
				if err := gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-service-policy.yaml"), "      range: 1.1.x",
					"      range: 1.1.x\n  digestReflectionPolicy: "+tt.policy); err != nil {
					return err
				}
				if err := gittest.ReplaceInFile(filepath.Join(dir, overlay), "    newTag: 1.0.0 "+tagMarker, "    newTag: 1.0.0 "+tagMarker+"\n"+digest); err != nil {
					return err
				}
				cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: image, namespace: prod}\ndata:\n  image: " + image + ":1.0.0 # {\"$imagepolicy\": \"flux-system:task-service\"}\n"
				return os.WriteFile(filepath.Join(dir, full), []byte(cm), 0o644)
			})
			h := w.handler(token)
			digests := map[string]string{}
			for i, s := range tt.steps {
				digests[s.content] = w.ecr.PushImage(account, taskService, s.tag, s.content)
				before := w.head()
				res := invoke(t, h, ecrEvent(t, ActionPush, taskService, s.tag, nil))
				if committed := w.head() != before; committed != s.commits || (res.Commit != nil) != s.commits {
					t.Fatalf("step %d: committed %v (result %v), want %v", i, committed, res.Commit, s.commits)
				}
				tag, content, _ := strings.Cut(s.want, "@")
				wantRef, wantDigest := image+":"+tag, ""
				if content != "" {
					wantDigest = digests[content]
					wantRef += "@" + wantDigest
				}
				if got := w.file(full); !strings.Contains(got, "image: "+wantRef+" #") {
					t.Errorf("step %d: full-image marker, want %s:\n%s", i, wantRef, got)
				}
				wantLine := `    digest: "" #`
				if wantDigest != "" {
					wantLine = `    digest: "` + wantDigest + `" #`
				}
				if got := w.file(overlay); !strings.Contains(got, "newTag: "+tag+" "+tagMarker) || !strings.Contains(got, wantLine) {
					t.Errorf("step %d: overlay, want tag %s and %q:\n%s", i, tag, wantLine, got)
				}
			}
		})
	}
}
