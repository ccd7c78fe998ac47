package imageupdate

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkEventToCommit measures the seed's step on the fixture, warm (one
// handler for every iteration, as a warm Lambda container keeps it): an ECR
// push event in, the registry listed, the branch cloned shallowly from the
// real Git server, the marker rewritten, the commit pushed. Each iteration
// pushes a new 1.1.x tag first, so each one really commits. "no-change"
// is the same event handled again: clone and list, nothing to commit.
func BenchmarkEventToCommit(b *testing.B) {
	quietLogs(b)
	w := newWorld(b, nil)
	h := w.handler(token)
	w.push(taskService, "1.0.0", "1.1.0")
	ctx := context.Background()
	b.Run("commit", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			tag := fmt.Sprintf("1.1.%d", i+1)
			b.StopTimer()
			w.push(taskService, tag)
			ev := ecrEvent(b, ActionPush, taskService, tag, nil)
			b.StartTimer()
			out, err := h.Handle(ctx, ev)
			if err != nil {
				b.Fatal(err)
			}
			if res := out.(*Result); res.Commit == nil || res.Policies["flux-system/task-service"] != tag {
				b.Fatalf("no commit of %s: %+v", tag, res)
			}
		}
	})
	b.Run("no-change", func(b *testing.B) {
		ev := readEvent(b, "ecr-push.json")
		for b.Loop() {
			out, err := h.Handle(ctx, ev)
			if err != nil {
				b.Fatal(err)
			}
			if res := out.(*Result); res.Commit != nil {
				b.Fatalf("a commit for an unchanged registry: %+v", res)
			}
		}
	})
}
