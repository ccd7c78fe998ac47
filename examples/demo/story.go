package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/events"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1apply "k8s.io/client-go/applyconfigurations/apps/v1"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/drift"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
)

// story is the demo's run: the stage, what was printed, and the summary rows.
type story struct {
	*stage
	out  io.Writer
	rows [][4]string
}

// Run plays the tutorial and writes what happens to out. It fails, naming
// the step, as soon as a state the story expects is not reached.
func Run(ctx context.Context, out io.Writer, kubeconfig string) error {
	start := time.Now()
	fmt.Fprintln(out, "Sluice demo: the task-tool tutorial, run by Sluice's real function binaries.")
	fmt.Fprintln(out, "Real: the Kubernetes API server, the Git server, every line of Sluice. Stand-ins: GitHub's webhook")
	fmt.Fprintln(out, "delivery and statuses API, EventBridge, SQS and ECR (local servers speaking their protocols).")
	fmt.Fprintln(out)
	s, err := newStage(ctx, kubeconfig, func(f string, a ...any) { fmt.Fprintf(out, "  · "+f+"\n", a...) })
	if err != nil {
		return fmt.Errorf("setting up: %w", err)
	}
	defer s.close()
	st := &story{stage: s, out: out}
	fmt.Fprintln(out)
	steps := []struct {
		name string
		run  func(context.Context) (string, error)
	}{
		{"1. initial push → webhook → reconcile", st.initialPush},
		{"2. commit bumps task-service to 1.1.0", st.manualBump},
		{"3. ECR push of 1.1.1 (and 1.2.0) → image-update", st.imagePush},
		{"4. hand edit → drift finds and corrects it", st.driftCorrected},
		{"5. cleanup: sluice uninstall", st.uninstall},
	}
	for _, step := range steps {
		t0 := time.Now()
		fmt.Fprintf(out, "▶ %s\n", step.name)
		result, err := step.run(ctx)
		took := time.Since(t0).Round(time.Millisecond)
		if err != nil {
			st.rows = append(st.rows, [4]string{step.name, "FAILED", took.String(), err.Error()})
			st.summary()
			return fmt.Errorf("step %q: %w", step.name, err)
		}
		for _, ev := range st.alerts.fresh() {
			fmt.Fprintf(out, "  alert received: %s\n", ev)
		}
		fmt.Fprintf(out, "  ✔ %s (%s)\n\n", result, took)
		st.rows = append(st.rows, [4]string{step.name, "ok", took.String(), result})
	}
	st.summary()
	fmt.Fprintf(out, "\nThe whole story took %s.\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func (st *story) summary() {
	fmt.Fprintln(st.out, "Summary")
	w := tabwriter.NewWriter(st.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "step\tresult\ttime\twhat happened")
	for _, r := range st.rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r[0], r[1], r[2], r[3])
	}
	w.Flush()
}

func (st *story) say(f string, a ...any) { fmt.Fprintf(st.out, "  "+f+"\n", a...) }

// show runs the sluice command as the tutorial's reader ran flux, prints
// what it printed, and returns it.
func (st *story) show(ctx context.Context, args ...string) (string, error) {
	out, err := st.sluice(ctx, args...)
	if err != nil {
		return "", err
	}
	st.say("$ sluice %s", strings.Join(args, " "))
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		st.say("  %s", line)
	}
	return out, nil
}

// deliverPush plays GitHub's push webhook and Lambda's SQS poller: the webhook
// function queues a reconcile, and the reconcile function takes it.
func (st *story) deliverPush(ctx context.Context, before, sha string) error {
	var resp events.LambdaFunctionURLResponse
	if err := st.invoke(ctx, "webhook", pushDelivery(st.gitURL, before, sha), &resp); err != nil {
		return err
	}
	if resp.StatusCode != 202 {
		return fmt.Errorf("webhook answered %d %s, want 202", resp.StatusCode, resp.Body)
	}
	st.say("webhook: %d %s", resp.StatusCode, resp.Body)
	return st.runReconcile(ctx)
}

// runReconcile hands the queued reconcile messages to the reconcile function.
func (st *story) runReconcile(ctx context.Context) error {
	msgs := st.sqs.Take("sluice-reconcile.fifo")
	if len(msgs) == 0 {
		return errors.New("nothing was queued on the reconcile queue")
	}
	var resp events.SQSEventResponse
	if err := st.invoke(ctx, "reconcile", awstest.SQSEvent(msgs...), &resp); err != nil {
		return err
	}
	if len(resp.BatchItemFailures) > 0 {
		return fmt.Errorf("reconcile reported failed messages %v (run with SLUICE_DEMO_LOGS=1 to see its logs)", resp.BatchItemFailures)
	}
	st.say("reconcile: %d message(s) done; last commit status on GitHub: %s", len(msgs), st.github.last())
	return nil
}

func (st *story) image(ctx context.Context) (string, error) {
	d, err := st.cs.AppsV1().Deployments("prod").Get(ctx, "prod-task-service", metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return d.Spec.Template.Spec.Containers[0].Image, nil
}

func (st *story) expectImage(ctx context.Context, tag string) (string, error) {
	img, err := st.image(ctx)
	if err != nil {
		return "", err
	}
	if img != imageName+":"+tag {
		return "", fmt.Errorf("prod-task-service runs %s, want %s:%s", img, imageName, tag)
	}
	return img, nil
}

func (st *story) initialPush(ctx context.Context) (string, error) {
	head, err := st.git.Head(repoPath, branch)
	if err != nil {
		return "", err
	}
	if err := st.deliverPush(ctx, strings.Repeat("0", 40), head); err != nil {
		return "", err
	}
	ks, err := st.show(ctx, "get", "kustomizations")
	if err != nil {
		return "", err
	}
	if !strings.Contains(ks, "True") {
		return "", fmt.Errorf("sluice get kustomizations shows no Ready Kustomization:\n%s", ks)
	}
	tree, err := st.show(ctx, "tree", "kustomization", "task-tool")
	if err != nil {
		return "", err
	}
	if n := strings.Count(tree, "── "); n != 9 {
		return "", fmt.Errorf("the inventory holds %d objects, want the tutorial's 9:\n%s", n, tree)
	}
	img, err := st.expectImage(ctx, "1.0.0")
	if err != nil {
		return "", err
	}
	st.say("prod-task-service runs %s", img)
	return "9 objects applied; task-service 1.0.0", nil
}

func (st *story) manualBump(ctx context.Context) (string, error) {
	before, _ := st.git.Head(repoPath, branch)
	sha, err := st.git.Commit(repoPath, branch, "Update task-service to 1.1.0", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "app/overlays/prod/kustomization.yaml"), `newTag: 1.0.0 # {"$imagepolicy"`, `newTag: 1.1.0 # {"$imagepolicy"`)
	})
	if err != nil {
		return "", err
	}
	st.say("git push: %s Update task-service to 1.1.0", short(sha))
	if err := st.deliverPush(ctx, before, sha); err != nil {
		return "", err
	}
	img, err := st.expectImage(ctx, "1.1.0")
	if err != nil {
		return "", err
	}
	st.say("prod-task-service runs %s", img)
	if _, err := st.show(ctx, "get", "ks"); err != nil {
		return "", err
	}
	return "task-service 1.1.0 running", nil
}

func (st *story) imagePush(ctx context.Context) (string, error) {
	before, _ := st.git.Head(repoPath, branch)
	var evs []events.SQSMessage
	for _, tag := range []string{"1.1.1", "1.2.0"} {
		st.ecr.PushTag(registryID, imageRepo, tag)
		ev := ecrEvent("PUSH", tag)
		st.say("ECR: pushed %s:%s → EventBridge → image queue", imageRepo, tag)
		msg, err := st.sendImageEvent(ctx, ev)
		if err != nil {
			return "", err
		}
		evs = append(evs, msg...)
	}
	var resp events.SQSEventResponse
	for _, m := range evs {
		if err := st.invoke(ctx, "image-update", events.SQSEvent{Records: []events.SQSMessage{m}}, &resp); err != nil {
			return "", err
		}
		if len(resp.BatchItemFailures) > 0 {
			return "", fmt.Errorf("image-update reported failed messages %v", resp.BatchItemFailures)
		}
	}
	imgs, err := st.show(ctx, "get", "images", "all")
	if err != nil {
		return "", err
	}
	if !strings.Contains(imgs, imageName+":1.1.1") {
		return "", fmt.Errorf("sluice get images all does not show the policy resolving 1.1.1:\n%s", imgs)
	}
	c, err := st.git.LastCommit(repoPath, branch)
	if err != nil {
		return "", err
	}
	if c.Hash.String() == before {
		return "", errors.New("image-update committed nothing")
	}
	want := imageName + ":1.1.1\n"
	if c.Message != want {
		return "", fmt.Errorf("commit message %q, want the template's %q", c.Message, want)
	}
	st.say("commit %s", c.Hash)
	st.say("Author: %s <%s>", c.Author.Name, c.Author.Email)
	st.say("Date:   %s", c.Author.When.Format(time.RFC1123Z))
	st.say("")
	st.say("    %s", strings.TrimSpace(c.Message))
	st.say("")
	if err := st.deliverPush(ctx, before, c.Hash.String()); err != nil {
		return "", err
	}
	img, err := st.expectImage(ctx, "1.1.1")
	if err != nil {
		return "", err
	}
	st.say("prod-task-service runs %s (1.2.0 is outside semver 1.1.x)", img)
	return "1.1.1 committed by image-update and running; 1.2.0 ignored", nil
}

// sendImageEvent plays EventBridge: the rule's target is the image FIFO
// queue; it returns the queued messages as Lambda would deliver them.
func (st *story) sendImageEvent(ctx context.Context, ev events.CloudWatchEvent) ([]events.SQSMessage, error) {
	if err := sendToQueue(ctx, st.sqs, "sluice-image.fifo", st.gitURL, ev); err != nil {
		return nil, err
	}
	return awstest.SQSEvent(st.sqs.Take("sluice-image.fifo")...).Records, nil
}

func (st *story) driftCorrected(ctx context.Context) (string, error) {
	// Someone scales the Deployment by hand, under another field manager.
	edit := appsv1apply.Deployment("prod-task-service", "prod").WithSpec(appsv1apply.DeploymentSpec().WithReplicas(5))
	if _, err := st.cs.AppsV1().Deployments("prod").Apply(ctx, edit, metav1.ApplyOptions{FieldManager: "kubectl", Force: true}); err != nil {
		return "", err
	}
	st.say("kubectl: scaled prod-task-service from 3 to 5 replicas by hand")
	var rep drift.Report
	if err := st.invoke(ctx, "drift", scheduledEvent(), &rep); err != nil {
		return "", err
	}
	drifted := notInSync(&rep)
	if len(drifted) != 1 || !rep.Queued {
		return "", fmt.Errorf("drift found %v (queued %v), want the Deployment's replicas and a queued correction", drifted, rep.Queued)
	}
	st.say("drift: %s; reconcile queued", drifted[0])
	if err := st.runReconcile(ctx); err != nil {
		return "", err
	}
	if err := st.invoke(ctx, "drift", scheduledEvent(), &rep); err != nil {
		return "", err
	}
	if d := notInSync(&rep); len(d) != 0 || rep.Queued {
		return "", fmt.Errorf("after the correction drift still finds %v", d)
	}
	st.say("drift: all %d objects in sync", len(rep.Kustomizations[0].Objects))
	return "drift of spec.replicas found, corrected, in sync", nil
}

// uninstall is the tutorial's cleanup (flux uninstall): everything the
// installation applied goes, as each Kustomization's deletion policy says,
// then its inventories and statuses.
func (st *story) uninstall(ctx context.Context) (string, error) {
	if _, err := st.show(ctx, "uninstall", "--dry-run"); err != nil {
		return "", err
	}
	if _, err := st.show(ctx, "uninstall", "--silent"); err != nil {
		return "", err
	}
	list, err := st.cs.AppsV1().Deployments("prod").List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	if len(list.Items) != 0 {
		return "", fmt.Errorf("%d Deployments left after sluice uninstall", len(list.Items))
	}
	cms, err := st.cs.CoreV1().ConfigMaps(kube.InventoryNamespace).List(ctx, metav1.ListOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return "", err
	}
	for _, cm := range cms.Items {
		if strings.HasPrefix(cm.Name, "flux-system.") {
			return "", fmt.Errorf("sluice uninstall left %s/%s", kube.InventoryNamespace, cm.Name)
		}
	}
	return "every object pruned, inventories and statuses deleted", nil
}

// notInSync lists the objects a drift report found out of sync.
func notInSync(rep *drift.Report) []string {
	var out []string
	for _, k := range rep.Kustomizations {
		for _, o := range k.Objects {
			if o.Status != kube.InSync {
				out = append(out, fmt.Sprintf("%s %s %v", o.ID, o.Status, o.Fields))
			}
		}
	}
	return out
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
