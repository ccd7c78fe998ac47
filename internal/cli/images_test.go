package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/imageupdate"
	"github.com/sluice-gitops/sluice/internal/queue"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	taskServiceRepo  = "mamezou-tech/task-service"
	taskServiceImage = "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/" + taskServiceRepo
)

// runGet runs the command line with `get images` reachable: under the
// `get` of the root when it has one, else under a `get` added here.
func runGet(t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := &App{IO: IO{In: &bytes.Buffer{}, Out: &out, Err: &errOut}, lookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	root := newRootCmd(app)
	if c, _, err := root.Find([]string{"get", "images"}); err != nil || c.Name() != "images" {
		get, _, err := root.Find([]string{"get"})
		if err != nil || get == root {
			get = &cobra.Command{Use: "get"}
			root.AddCommand(get)
		}
		get.AddCommand(newGetImagesCmd(app))
	}
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(&errOut, "✗", err)
		return out.String(), errOut.String(), exitFail
	}
	return out.String(), errOut.String(), exitOK
}

// withECR serves the fixture's image repository from the ECR stand-in,
// through the real SDK client.
func withECR(t *testing.T, tags ...string) *awstest.ECRServer {
	t.Helper()
	srv := awstest.NewECRServer()
	t.Cleanup(srv.Close)
	for _, tag := range tags {
		srv.PushTag("111122223333", taskServiceRepo, tag)
	}
	t.Setenv("AWS_ENDPOINT_URL_ECR", srv.URL())
	t.Setenv("AWS_REGION", "ap-northeast-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSLUICECLI")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return srv
}

// The three image tables are computed now: tags from ECR, the policy's
// pick by the image-update function's code, the automation's last commit
// from Git history; they follow ECR and Git as they change.
func TestGetImages(t *testing.T) {
	ctx := context.Background()
	o := newOpsInstall(t)
	ecr := withECR(t, "1.0.0", "1.1.0", "1.1.1", "1.2.0")
	old := now
	now = func() time.Time { return time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { now = old })

	stdout, stderr, code := runGet(t, o.vars, "get", "images", "update")
	if code != 0 || !strings.Contains(stdout, "no commit by fluxcdbot <fluxcdbot@users.noreply.github.com> in the last 1 commits of main") {
		t.Fatalf("before any automation commit: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}

	// The image-update function commits the policy's pick as the automation.
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	upd := imageupdate.New(o.repo, o.git, images.NewResolver(images.ECRClients(awsCfg)))
	if _, err := upd.Update(ctx, imageupdate.Request{Reevaluate: &queue.Reevaluate{Reason: queue.ReasonManual, Policies: []string{}}}); err != nil {
		t.Fatal(err)
	}
	commit, err := o.srv.LastCommit(opsRepo, "main")
	if err != nil {
		t.Fatal(err)
	}
	// A person's commit after it is not the automation's.
	if _, err := o.srv.Commit(opsRepo, "main", "docs", func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("notes\n"), 0o644)
	}); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code = runGet(t, o.vars, "get", "images", "all")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	golden(t, "images-all.golden", stdout, strings.NewReplacer(
		commit.Author.When.UTC().Format(time.RFC3339), "{{LAST_RUN}}",
		commit.Hash.String()[:7], "{{COMMIT}}",
	))

	// Deleting the newest allowed tag moves the policy to the next, now.
	ecr.DeleteTag("111122223333", taskServiceRepo, "1.1.1")
	stdout, _, _ = runGet(t, o.vars, "get", "image", "policy", "-o", "json")
	var rows []ImagePolicyStatus
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if len(rows) != 1 || rows[0].LatestImage != taskServiceImage+":1.1.0" || !rows[0].Ready {
		t.Errorf("after deleting 1.1.1: %+v", rows)
	}

	// Another namespace holds none of them; -A names the namespace.
	if stdout, _, _ := runGet(t, o.vars, "get", "images", "repository", "-n", "other"); stdout != "NAME   LAST SCAN   SUSPENDED   READY   MESSAGE\n" {
		t.Errorf("-n other:\n%s", stdout)
	}
	if stdout, _, _ := runGet(t, o.vars, "get", "images", "repository", "-A"); !strings.HasPrefix(stdout, "NAMESPACE     NAME           LAST SCAN") ||
		!strings.Contains(stdout, "flux-system   task-service   2026-12-01T03:00:00Z   False       True    successful scan: found 3 tags") {
		t.Errorf("-A:\n%s", stdout)
	}
}

// A policy that selects nothing, and an ECR failure, are READY False with
// the reason, and the command still prints the table.
func TestGetImagesNotReady(t *testing.T) {
	o := newOpsInstall(t)
	withECR(t, "2.0.0")
	stdout, stderr, code := runGet(t, o.vars, "get", "images", "policy")
	if code != 0 || !strings.Contains(stdout, "False   no tag matches the policy: none of 1 tags is a version in range") {
		t.Errorf("no qualifying tag: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	t.Setenv("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	stdout, _, code = runGet(t, o.vars, "get", "images", "repository")
	if code != 0 || !strings.Contains(stdout, "task-service               False       False   failed to list tags of ECR repository") {
		t.Errorf("ECR unreachable: exit %d, stdout:\n%s", code, stdout)
	}
}

// golden compares got, with the variable parts replaced, with
// testdata/name (rewritten with -update).
func golden(t *testing.T, name, got string, vary *strings.Replacer) {
	t.Helper()
	path := filepath.Join("testdata", name)
	got = vary.Replace(got)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}
