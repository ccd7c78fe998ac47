package eksauth

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

const (
	e2eCluster = "sluice-e2e"
	e2eRegion  = "us-west-2"
	// otherCluster is described by the EKS stand-in too, but the API server's
	// authenticator is e2eCluster's.
	otherCluster = "sluice-other"
)

var (
	// admin is the reconcile function's role: its access entry maps it to a
	// user bound to cluster-admin.
	admin = awstest.EKSIdentity{
		AccessKeyID:     "AKIAE2EADMIN00000001",
		SecretAccessKey: "e2e/admin+secret/EXAMPLEKEY0000000000001",
		Username:        "arn:aws:iam::111122223333:role/sluice-reconcile",
		Groups:          []string{"sluice:reconcilers"},
	}
	// viewer has an access entry but no RBAC rights.
	viewer = awstest.EKSIdentity{
		AccessKeyID:     "AKIAE2EVIEWER0000002",
		SecretAccessKey: "e2e/viewer+secret/EXAMPLEKEY000000000002",
		Username:        "arn:aws:iam::111122223333:role/sluice-no-rights",
	}

	testEnv   *kubetest.Env
	webhook   *awstest.EKSAuthWebhook
	eksServer *awstest.EKSServer
	// e2eClock is the time of the token webhook and of the Providers under
	// test, so tests can move past a token's life without waiting.
	e2eClock = newClock(time.Now().UTC().Truncate(time.Second))
)

// TestMain starts a real kube-apiserver whose bearer tokens go to the EKS
// token webhook, binds admin to cluster-admin, and describes the API server
// through the EKS stand-in.
func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "eksauth-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	webhook = awstest.NewEKSAuthWebhook(e2eCluster, e2eRegion, admin, viewer)
	defer webhook.Close()
	webhook.SetClock(e2eClock.Now)
	flags, err := webhook.APIServerFlags(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	testEnv, err = kubetest.Start(kubetest.Options{Flags: flags})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := testEnv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the API server:", err)
		}
	}()
	if err := bindClusterAdmin(testEnv.Config, admin.Username); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	host := testEnv.Config.Host
	if !strings.HasPrefix(host, "https://") {
		host = "https://" + host
	}
	eksServer = awstest.NewEKSServer(
		awstest.EKSCluster{Name: e2eCluster, Endpoint: host, CAData: testEnv.Config.CAData},
		awstest.EKSCluster{Name: otherCluster, Endpoint: host, CAData: testEnv.Config.CAData},
	)
	defer eksServer.Close()
	return m.Run()
}

// bindClusterAdmin gives user cluster-admin, as an access entry with
// AmazonEKSClusterAdminPolicy would.
func bindClusterAdmin(cfg *rest.Config, user string) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "eksauth-test-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(context.Background(), crb, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("binding %s to cluster-admin: %w", user, err)
	}
	return nil
}
