package imageupdate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-gitops/sluice/internal/gittest"
)

// TestPushBranchTenUpdates is Flux's push branch on a real Git server: the
// first update creates the branch from the checkout branch, every later one
// builds on it (so that a pull request can be opened from it), and the
// checkout branch is never written.
func TestPushBranchTenUpdates(t *testing.T) {
	w := newWorld(t, func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-automation.yaml"),
			"    push:\n      branch: main", "    push:\n      branch: image-updates")
	})
	h := w.handler(token)
	// The policy's range is 1.1.x: each push of 1.1.<i> is a newer tag.
	main := w.head()
	var last string
	for i := 1; i <= 10; i++ {
		tag := fmt.Sprintf("1.1.%d", i)
		w.push(taskService, tag)
		res := invoke(t, h, ecrEvent(t, ActionPush, taskService, tag, nil))
		head, err := w.git.Head(repoName, "image-updates")
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		if res.Commit == nil || *res.Commit != head {
			t.Fatalf("update %d: result commit %v, push branch head %s", i, res.Commit, head)
		}
		c, err := w.git.LastCommit(repoName, "image-updates")
		if err != nil {
			t.Fatal(err)
		}
		parent := main
		if last != "" {
			parent = last
		}
		if len(c.ParentHashes) != 1 || c.ParentHashes[0].String() != parent {
			t.Fatalf("update %d: commit %s has parents %v, want %s", i, head, c.ParentHashes, parent)
		}
		f, err := c.File(overlay)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.Contents()
		if !strings.Contains(got, "newTag: "+tag+" "+tagMarker) {
			t.Fatalf("update %d: %s on the push branch does not hold %s:\n%s", i, overlay, tag, got)
		}
		last = head
		if w.head() != main {
			t.Fatalf("update %d wrote the checkout branch", i)
		}
	}
	// The same event again: the push branch holds the tag already.
	res := invoke(t, h, ecrEvent(t, ActionPush, taskService, "1.1.10", nil))
	if head, _ := w.git.Head(repoName, "image-updates"); res.Commit != nil || head != last {
		t.Errorf("a repeated event committed: result %v, head %s, want %s", res.Commit, head, last)
	}
}

// TestAutomationScopeAndValues: an automation updates only the policies of
// its namespace that its policySelector selects, and its
// messageTemplateValues reach the template as .Values.
func TestAutomationScopeAndValues(t *testing.T) {
	const webMarker = `newTag: 1.0.0 # {"$imagepolicy": "flux-system:task-web:tag"}`
	w := newWorld(t, func(dir string) error {
		auto := filepath.Join(dir, "clusters/prod/task-tool-automation.yaml")
		if err := gittest.ReplaceInFile(auto, "      messageTemplate: '{{range .Updated.Images}}{{println .}}{{end}}'",
			"      messageTemplate: '{{ .Values.env }}: {{range .Updated.Images}}{{.}}{{end}}'\n      messageTemplateValues:\n        env: production"); err != nil {
			return err
		}
		if err := gittest.ReplaceInFile(auto, "  update:", "  policySelector:\n    matchLabels:\n      automated: \"yes\"\n  update:"); err != nil {
			return err
		}
		if err := gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-service-policy.yaml"), "  namespace: flux-system",
			"  namespace: flux-system\n  labels:\n    automated: \"yes\""); err != nil {
			return err
		}
		// task-web has a policy and a marker, but no label the selector wants.
		web := "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata: {name: task-web, namespace: flux-system}\n" +
			"spec: {image: " + imageHost + "/mamezou-tech/task-web}\n---\n" +
			"apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata: {name: task-web, namespace: flux-system}\n" +
			"spec: {imageRepositoryRef: {name: task-web}, policy: {semver: {range: 1.x}}}\n"
		if err := os.WriteFile(filepath.Join(dir, "clusters/prod/task-web.yaml"), []byte(web), 0o644); err != nil {
			return err
		}
		return gittest.ReplaceInFile(filepath.Join(dir, overlay), "mamezou-tech/task-web\n    newTag: 1.0.0", "mamezou-tech/task-web\n    "+webMarker)
	})
	h := w.handler(token)
	seed := w.head()
	w.push("mamezou-tech/task-web", "1.5.0")
	res := invoke(t, h, ecrEvent(t, ActionPush, "mamezou-tech/task-web", "1.5.0", nil))
	if res.Commit != nil || w.head() != seed {
		t.Fatalf("a policy the policySelector does not select was committed: %+v", res)
	}
	if got := w.file(overlay); !strings.Contains(got, webMarker) {
		t.Errorf("task-web's marker changed:\n%s", got)
	}
	w.push(taskService, "1.1.0")
	res = invoke(t, h, ecrEvent(t, ActionPush, taskService, "1.1.0", nil))
	if res.Commit == nil {
		t.Fatal("the selected policy was not committed")
	}
	if c := w.history()[0]; c.Message != "production: "+imageHost+"/"+taskService+":1.1.0" {
		t.Errorf("commit message %q, want the template with .Values.env", c.Message)
	}
}

// TestUpdatePathSymlinkRefused: an update path that a symbolic link in the
// repository leads out of the clone is refused; the file it points at is
// never written.
func TestUpdatePathSymlinkRefused(t *testing.T) {
	outside := t.TempDir()
	target := filepath.Join(outside, "values.yaml")
	const values = "image: x:1.0.0 # {\"$imagepolicy\": \"flux-system:task-service:tag\"}\n"
	if err := os.WriteFile(target, []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, func(dir string) error {
		if err := os.Symlink(outside, filepath.Join(dir, "linked")); err != nil {
			return err
		}
		return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-automation.yaml"), "path: ./app/overlays/prod", "path: ./linked")
	})
	h := w.handler(token)
	seed := w.head()
	w.push(taskService, "1.1.0")
	_, err := h.Handle(t.Context(), ecrEvent(t, ActionPush, taskService, "1.1.0", nil))
	if err == nil || !strings.Contains(err.Error(), `ImageUpdateAutomation flux-system/task-tool: spec.update.path "./linked"`) {
		t.Errorf("error %v, want the update path refused", err)
	}
	if b, _ := os.ReadFile(target); string(b) != values {
		t.Errorf("the file outside the clone was written:\n%s", b)
	}
	if w.head() != seed {
		t.Error("committed")
	}
}
