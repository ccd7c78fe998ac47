package imageupdate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const racers = 10

// addRacers adds, to a copy of the fixture, ten ImageRepositories and
// ImagePolicies (race-0 … race-9) and their images, with setter markers, to
// the prod overlay's images list.
func addRacers(dir string) error {
	var objs, imgs strings.Builder
	for i := range racers {
		fmt.Fprintf(&objs, `---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: race-%[1]d
  namespace: flux-system
spec:
  image: %[2]s/mamezou-tech/race-%[1]d
  interval: 1m0s
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: race-%[1]d
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: race-%[1]d
  policy:
    semver:
      range: ">=1.0.0"
`, i, imageHost)
		fmt.Fprintf(&imgs, `  - name: race-%[1]d
    newName: %[2]s/mamezou-tech/race-%[1]d # {"$imagepolicy": "flux-system:race-%[1]d:name"}
    newTag: 1.0.0 # {"$imagepolicy": "flux-system:race-%[1]d:tag"}
`, i, imageHost)
	}
	if err := os.WriteFile(filepath.Join(dir, "clusters", "prod", "race.yaml"), []byte(objs.String()), 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, filepath.FromSlash(overlay)), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(imgs.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// TestConcurrentUpdates races ten image-update invocations, each for its own
// image, on one branch, as ten Lambda containers would if the FIFO group
// did not serialize them: every update lands in its own commit, none is
// lost, and no push is forced.
func TestConcurrentUpdates(t *testing.T) {
	w := newWorld(t, addRacers)
	for i := range racers {
		w.push(fmt.Sprintf("mamezou-tech/race-%d", i), "1.0.0", fmt.Sprintf("2.0.%d", i))
	}
	seed := w.head()
	logs := captureLogs(t)
	var wg sync.WaitGroup
	results := make([]*Result, racers)
	errs := make([]error, racers)
	start := make(chan struct{})
	for i := range racers {
		// A handler each: separate containers share nothing.
		h := w.handler(token)
		ev := ecrEvent(t, ActionPush, fmt.Sprintf("mamezou-tech/race-%d", i), fmt.Sprintf("2.0.%d", i), nil)
		wg.Go(func() {
			<-start
			out, err := h.Handle(context.Background(), ev)
			errs[i] = err
			results[i], _ = out.(*Result)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("invocation %d: %v", i, err)
		} else if results[i].Commit == nil {
			t.Errorf("invocation %d committed nothing: %+v", i, results[i])
		}
	}
	hist := w.history()
	if len(hist) != racers+1 || hist[racers].SHA != seed {
		t.Fatalf("%d commits after the seed, want %d", len(hist)-1, racers)
	}
	for _, c := range hist[:racers] {
		if c.Author != "fluxcdbot" || len(c.Files) != 1 || c.Files[0] != overlay {
			t.Errorf("commit %s by %s changes %v", c.SHA, c.Author, c.Files)
		}
	}
	file := w.file(overlay)
	for i := range racers {
		want := fmt.Sprintf(`newTag: 2.0.%[1]d # {"$imagepolicy": "flux-system:race-%[1]d:tag"}`, i)
		if !strings.Contains(file, want) {
			t.Errorf("lost update: %s does not hold %q", overlay, want)
		}
	}
	most := 0
	for _, m := range regexp.MustCompile(`image update pushed".* attempt=(\d+)`).FindAllStringSubmatch(logs.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		most = max(most, n)
	}
	t.Logf("%d pushes rejected and retried; the last writer landed at attempt %d of %d", strings.Count(logs.String(), "push rejected"), most, DefaultRetry().Attempts)
}
