package imageupdate

import (
	"fmt"
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
