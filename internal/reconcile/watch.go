package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// NewRevisionError cancels a health wait: the branch moved to Head while the
// wait was running, so waiting on the old revision's rollout helps nobody
// (Flux's CancelHealthCheckOnNewRevision; kustomize-controller#701).
type NewRevisionError struct{ Head string }

func (e *NewRevisionError) Error() string {
	return fmt.Sprintf("health check cancelled: the branch moved to %s", e.Head)
}

// headWatch asks for the branch head (one ls-remote) every poll while any
// health check waits, and cancels the waits when it moved.
type headWatch struct {
	git      Git
	branch   string
	revision string
	poll     time.Duration

	parent context.Context
	once   sync.Once
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{}

	mu   sync.Mutex
	head string
}

func newHeadWatch(parent context.Context, git Git, branch, revision string, poll time.Duration) *headWatch {
	return &headWatch{git: git, branch: branch, revision: revision, poll: poll, parent: parent}
}

// waitContext is the context health waits run under; the first call starts
// the polling.
func (w *headWatch) waitContext() context.Context {
	w.once.Do(func() {
		w.ctx, w.cancel = context.WithCancelCause(w.parent)
		w.done = make(chan struct{})
		go w.run()
	})
	return w.ctx
}

func (w *headWatch) run() {
	defer close(w.done)
	if w.poll <= 0 {
		return
	}
	t := time.NewTicker(w.poll)
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
		head, err := w.git.Head(w.ctx, w.branch)
		if err != nil {
			if w.ctx.Err() == nil {
				// A failed look is no reason to stop a rollout's wait.
				slog.WarnContext(w.ctx, "asking for the branch head during a health check", "error", err)
			}
			continue
		}
		if head != w.revision {
			w.mu.Lock()
			w.head = head
			w.mu.Unlock()
			w.cancel(&NewRevisionError{Head: head})
			return
		}
	}
}

// moved is the new head that cancelled the waits, or "".
func (w *headWatch) moved() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.head
}

func (w *headWatch) stop() {
	if w.cancel == nil {
		return
	}
	w.cancel(nil)
	<-w.done
}
