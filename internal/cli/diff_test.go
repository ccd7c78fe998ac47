package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sluice-gitops/sluice/internal/gittest"
)

// `sluice diff` exits 0 when the cluster holds what the local checkout
// renders, 1 when applying it would change something (objects to create, a
// hand edit to undo, an object to prune), and 2 when it cannot tell.
func TestDiffExitCodes(t *testing.T) {
	ctx := context.Background()
	o := newOpsInstall(t)
	cs := kubernetes.NewForConfigOrDie(env.Config)
	diff := func(args ...string) (string, string, int) {
		return o.sluice(append([]string{"diff", "kustomization", "task-tool", "--path", o.dir}, args...)...)
	}

	stdout, stderr, code := diff()
	if code != exitDiffFound || !strings.Contains(stdout, "► Deployment/"+o.ns+"/prod-task-service created") {
		t.Fatalf("before any apply: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}

	o.reconcile()
	if stdout, stderr, code := diff(); code != exitDiffNone || stdout != "" {
		t.Fatalf("after the apply: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}

	t.Run("hand edit, Secret values masked", func(t *testing.T) {
		sec, err := cs.CoreV1().Secrets(o.ns).Get(ctx, "prod-db", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sec.Data["password"] = []byte("hunter2")
		if _, err := cs.CoreV1().Secrets(o.ns).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := diff()
		if code != exitDiffFound {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		for _, want := range []string{"► Secret/" + o.ns + "/prod-db drifted", "@@ /data/password @@", "-'*** (before)'", "+'*** (after)'"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, stdout)
			}
		}
		for _, secret := range []string{"hunter2", "aHVudGVyMg==", "c2VjcmV0MQ==", "secret1"} {
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("a Secret value (%s) reached the output:\n%s", secret, stdout)
			}
		}
		if strings.Contains(stdout, "prod-task-service") {
			t.Errorf("objects in sync were reported:\n%s", stdout)
		}
		o.reconcile()
	})

	t.Run("hand edit of a field shows both values", func(t *testing.T) {
		svc, err := cs.CoreV1().Services(o.ns).Get(ctx, "prod-task-web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		svc.Labels["env"] = "staging"
		if _, err := cs.CoreV1().Services(o.ns).Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		stdout, _, code := diff()
		want := "► Service/" + o.ns + "/prod-task-web drifted\n" +
			"--- Service/" + o.ns + "/prod-task-web (cluster)\n" +
			"+++ Service/" + o.ns + "/prod-task-web (local)\n" +
			"@@ /metadata/labels/env @@\n-staging\n+prod\n"
		if code != exitDiffFound || stdout != want {
			t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, stdout, want)
		}
		o.reconcile()
	})

	t.Run("an object the checkout no longer has would be pruned", func(t *testing.T) {
		if err := gittest.ReplaceInFile(filepath.Join(o.dir, "app/overlays/prod/kustomization.yaml"), "  - db-secret.yaml\n", ""); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := diff()
		if code != exitDiffFound || stdout != "► Secret/"+o.ns+"/prod-db deleted\n" {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
		}
	})

	t.Run("errors exit 2", func(t *testing.T) {
		for name, args := range map[string][]string{
			"missing kustomization": {"diff", "kustomization", "nope", "--path", o.dir},
			"no name":               {"diff", "kustomization", "--path", o.dir},
			"broken checkout":       {"diff", "kustomization", "task-tool", "--path", filepath.Join(o.dir, "absent")},
		} {
			stdout, stderr, code := o.sluice(args...)
			if code != exitDiffFailed || stdout != "" || !strings.HasPrefix(stderr, "✗") {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and an error", name, code, stdout, stderr, exitDiffFailed)
			}
		}
	})
}
