package imageupdate

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSeedWalkThrough is the tutorial's image automation on a real Git
// server and the ECR stand-in: each step is an EventBridge event as ECR
// sends it, and the tag always comes from the registry as it is then.
func TestSeedWalkThrough(t *testing.T) {
	w := newWorld(t, nil)
	h := w.handler(token)
	original, err := os.ReadFile(fixture + "/" + overlay)
	if err != nil {
		t.Fatal(err)
	}
	// withTag is the fixture's overlay with only the marked tag changed:
	// every other byte, the task-reporter and task-web tags among them,
	// stays.
	withTag := func(tag string) string {
		return strings.Replace(string(original), "newTag: 1.0.0 "+tagMarker, "newTag: "+tag+" "+tagMarker, 1)
	}
	const image = imageHost + "/" + taskService
	seed := w.head()
	w.push(taskService, "1.0.0", "1.1.0")

	steps := []struct {
		name    string
		before  func()
		event   []byte
		want    string // the tag in Git afterwards
		commits bool
	}{
		{name: "1.1.0 is already in the registry: 1.1.x selects it", event: ecrEvent(t, ActionPush, taskService, "1.1.0", nil), want: "1.1.0", commits: true},
		{name: "pushing 1.1.1 (events/ecr-push.json)", before: func() { w.push(taskService, "1.1.1") }, event: readEvent(t, "ecr-push.json"), want: "1.1.1", commits: true},
		{name: "the same event again", event: readEvent(t, "ecr-push.json"), want: "1.1.1"},
		{name: "pushing 2.0.0 is out of range", before: func() { w.push(taskService, "2.0.0") }, event: ecrEvent(t, ActionPush, taskService, "2.0.0", nil), want: "1.1.1"},
		{name: "pushing 1.2.0 is out of range", before: func() { w.push(taskService, "1.2.0") }, event: ecrEvent(t, ActionPush, taskService, "1.2.0", nil), want: "1.1.1"},
		{name: "the 1.1.0 event arriving late changes nothing", event: ecrEvent(t, ActionPush, taskService, "1.1.0", nil), want: "1.1.1"},
		{name: "deleting 1.1.1 (events/ecr-delete.json) moves back to 1.1.0", before: func() { w.ecr.DeleteTag(account, taskService, "1.1.1") }, event: readEvent(t, "ecr-delete.json"), want: "1.1.0", commits: true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before()
			}
			before := w.head()
			res := invoke(t, h, s.event)
			after := w.head()
			want := &Result{Policies: map[string]string{"flux-system/task-service": s.want}, Files: []string{}}
			if s.commits {
				want.Files = []string{overlay}
				want.Commit = &after
				if after == before {
					t.Fatal("no commit pushed")
				}
				c := w.history()[0]
				wantCommit := commit{SHA: after, Author: "fluxcdbot", Email: "fluxcdbot@users.noreply.github.com",
					Message: image + ":" + s.want + "\n", Files: []string{overlay}}
				if diff := cmp.Diff(wantCommit, c); diff != "" {
					t.Errorf("commit (-want +got):\n%s", diff)
				}
			} else if after != before {
				t.Errorf("head moved from %s to %s", before, after)
			}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			got := w.file(overlay)
			if diff := cmp.Diff(withTag(s.want), got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", overlay, diff)
			}
			if !strings.Contains(got, nameLine+"\n") {
				t.Errorf("the :name marker line changed:\n%s", got)
			}
		})
	}
	hist := w.history()
	if len(hist) != 4 || hist[len(hist)-1].SHA != seed {
		t.Errorf("%d commits on main, want the seed and 3 updates: %+v", len(hist), hist)
	}
	if c := hist[1]; c.Message != image+":1.1.1\n" {
		t.Errorf("the 1.1.1 commit's message is %q, want the seed template's %q", c.Message, image+":1.1.1\n")
	}
}

func TestEmptyRequest(t *testing.T) {
	u := New(Repository{URL: "https://github.com/o/r", Branch: "main", ConfigPath: "c"}, noGit{}, noImages{})
	if _, err := u.Update(t.Context(), Request{}); err == nil || !strings.Contains(err.Error(), "neither an ECR event nor a re-evaluate request") {
		t.Errorf("error %v for an empty request", err)
	}
}

// An image object Sluice cannot read fails the image update (reconciles go
// on without it), and nothing is committed.
func TestInvalidImageObjectFailsTheUpdate(t *testing.T) {
	w := newWorld(t, func(dir string) error {
		bad := "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata: {name: broken, namespace: flux-system}\nspec: {imageRepositoryRef: {name: task-service}}\n"
		return os.WriteFile(dir+"/clusters/prod/broken-policy.yaml", []byte(bad), 0o644)
	})
	w.push(taskService, "1.0.0", "1.1.0")
	before := w.head()
	_, err := w.handler(token).Handle(t.Context(), ecrEvent(t, ActionPush, taskService, "1.1.0", nil))
	if err == nil || !strings.Contains(err.Error(), "ImagePolicy/flux-system/broken") {
		t.Fatalf("error = %v, want the unreadable ImagePolicy named", err)
	}
	if w.head() != before {
		t.Error("a commit was pushed although an image object cannot be read")
	}
}
