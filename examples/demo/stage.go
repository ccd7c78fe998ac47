package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

// The demo's fixed values: the webhook secret and Git token are demo values
// that only these local servers know.
const (
	repoPath      = "mamezou-tech/task-tool-cluster-config.git"
	branch        = "main"
	webhookSecret = "sluice-demo-secret"
	gitToken      = "sluice-demo-token"
	registryID    = "111122223333"
	imageRepo     = "mamezou-tech/task-service"
	imageName     = "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service"
)

// binaries are the functions', and the sluice command's (cmd/sluice).
var binaries = map[string]string{
	"webhook": "./functions/webhook", "reconcile": "./functions/reconcile",
	"image-update": "./functions/image-update", "drift": "./functions/drift", "sluice": "./cmd/sluice",
}

// stage is everything the story runs on.
type stage struct {
	root    string
	tmp     string
	bin     map[string]string
	env     []string
	kube    *rest.Config
	cs      *kubernetes.Clientset
	local   *kubetest.Env // nil when KUBECONFIG names the cluster
	git     *gittest.Server
	sqs     *awstest.SQSServer
	ecr     *awstest.ECRServer
	github  *githubStatuses
	alerts  *receiver
	gitURL  string
	cleanup []func()
}

func (s *stage) close() {
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
}

func newStage(ctx context.Context, kubeconfig string, log func(string, ...any)) (_ *stage, err error) {
	s := &stage{root: kubetest.RepoRoot(), bin: map[string]string{}}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.tmp, err = os.MkdirTemp("", "sluice-demo-"); err != nil {
		return nil, err
	}
	s.cleanup = append(s.cleanup, func() { os.RemoveAll(s.tmp) })

	log("building the four function binaries and the sluice command for this machine")
	if err := s.build(ctx); err != nil {
		return nil, err
	}
	if kubeconfig == "" {
		log("starting a real kube-apiserver and etcd (the first run builds them from source: about 10 minutes)")
		if s.local, err = kubetest.Start(kubetest.Options{CRDFiles: kubetest.FixtureCRDs()}); err != nil {
			return nil, err
		}
		s.cleanup = append(s.cleanup, func() { s.local.Stop() })
		s.kube = s.local.Config
		if kubeconfig, err = s.local.Kubeconfig(s.tmp); err != nil {
			return nil, err
		}
	} else {
		log("using the cluster of KUBECONFIG=%s", kubeconfig)
		if s.kube, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
			return nil, fmt.Errorf("reading KUBECONFIG: %w", err)
		}
		if err := installCRD(ctx, s.kube); err != nil {
			return nil, err
		}
	}
	if s.cs, err = kubernetes.NewForConfig(s.kube); err != nil {
		return nil, err
	}
	// The tutorial's cluster had the prod namespace before Flux applied to it.
	if err := kubetest.CreateNamespace(ctx, s.kube, "prod"); err != nil {
		return nil, err
	}

	log("starting a Git smart-HTTP server, stand-ins for SQS, ECR and GitHub statuses, and an alert receiver")
	s.alerts = newReceiver()
	s.cleanup = append(s.cleanup, s.alerts.Close)
	if s.git, err = gittest.Start("x-access-token", gitToken); err != nil {
		return nil, err
	}
	s.cleanup = append(s.cleanup, s.git.Stop)
	s.gitURL = s.git.URL(repoPath)
	if _, err := s.git.Seed(repoPath, branch, filepath.Join(s.root, "examples", "task-tool-cluster-config"), func(dir string) error {
		if err := gittest.SetGitRepositoryURL(dir, "clusters/prod", s.gitURL); err != nil {
			return err
		}
		return writeAlert(dir, s.alerts.URL)
	}); err != nil {
		return nil, err
	}
	s.sqs = awstest.NewSQSServer(awstest.SQSQueue{Name: "sluice-reconcile.fifo"}, awstest.SQSQueue{Name: "sluice-image.fifo", ContentBasedDeduplication: true})
	s.cleanup = append(s.cleanup, s.sqs.Close)
	s.ecr = awstest.NewECRServer()
	s.cleanup = append(s.cleanup, s.ecr.Close)
	s.ecr.CreateRepository(registryID, imageRepo)
	for _, tag := range []string{"1.0.0", "1.1.0"} {
		s.ecr.PushTag(registryID, imageRepo, tag)
	}
	s.github = newGitHubStatuses()
	s.cleanup = append(s.cleanup, s.github.Close)

	s.env = append(os.Environ(),
		"KUBECONFIG="+kubeconfig,
		"SLUICE_GIT_URL="+s.gitURL,
		"SLUICE_GIT_BRANCH="+branch,
		"SLUICE_CONFIG_PATH=clusters/prod",
		"SLUICE_GIT_TOKEN="+gitToken,
		"SLUICE_WEBHOOK_SECRET="+webhookSecret,
		"SLUICE_RECONCILE_QUEUE_URL="+s.sqs.QueueURL("sluice-reconcile.fifo"),
		"SLUICE_IMAGE_QUEUE_URL="+s.sqs.QueueURL("sluice-image.fifo"),
		"SLUICE_GITHUB_API_URL="+s.github.URL,
		"SLUICE_DRIFT_MODE=correct",
		"AWS_REGION="+awstest.SQSRegion,
		"AWS_ACCESS_KEY_ID=AKIDSLUICEDEMO",
		"AWS_SECRET_ACCESS_KEY=sluice-demo",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_SQS="+s.sqs.URL(),
		"AWS_ENDPOINT_URL_ECR="+s.ecr.URL(),
		"AWS_LAMBDA_LOG_FORMAT=JSON",
	)
	return s, nil
}

func (s *stage) build(ctx context.Context) error {
	for name, pkg := range binaries {
		out := filepath.Join(s.tmp, name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = s.root
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %w\n%s", pkg, err, b)
		}
		s.bin[name] = out
	}
	return nil
}

// invoke runs a function binary on event through its local runner, as Lambda
// would run the handler, and decodes its JSON result into result.
func (s *stage) invoke(ctx context.Context, function string, event any, result any) error {
	payload, err := json.Marshal(event)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, s.bin[function])
	cmd.Env = s.env
	cmd.Stdin = bytes.NewReader(payload)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s function failed: %w\n%s", function, err, lastLines(stderr.String(), 15))
	}
	if err := json.Unmarshal(stdout.Bytes(), result); err != nil {
		return fmt.Errorf("%s function printed no JSON result: %w: %q", function, err, stdout.String())
	}
	if os.Getenv("SLUICE_DEMO_LOGS") != "" {
		io.Copy(os.Stderr, &stderr)
	}
	return nil
}

// sluice runs the sluice command as a user would, with the functions'
// settings, and returns what it printed (progress lines, which it writes to
// standard error, included); a non-zero exit is an error.
func (s *stage) sluice(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin["sluice"], args...)
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("sluice %s: %w\n%s", strings.Join(args, " "), err, lastLines(out.String(), 15))
	}
	return out.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// installCRD installs the cert-manager Issuer CRD the fixture needs, into a
// cluster of the user's, with server-side apply.
func installCRD(ctx context.Context, cfg *rest.Config) error {
	b, err := os.ReadFile(kubetest.FixtureCRDs()[0])
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &u.Object); err != nil {
		return err
	}
	m, err := kube.New(cfg)
	if err != nil {
		return err
	}
	_, err = m.Apply(ctx, []*unstructured.Unstructured{u}, kube.ApplyOptions{StageTimeout: time.Minute})
	return err
}
