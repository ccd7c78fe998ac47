package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sluice-gitops/sluice/internal/kube"
)

// TestApplyFailingMidwayIsRecorded applies more ConfigMaps than a
// ResourceQuota allows: the dry-run of the stage passes (a dry-run uses no
// quota) and the concurrent applies stop at the quota. The reconcile fails,
// its changes name exactly the ConfigMaps created, and the inventory holds
// every ConfigMap of the render, so none of those created is orphaned.
func TestApplyFailingMidwayIsRecorded(t *testing.T) {
	const n, allowed = 40, 5
	ctx := context.Background()
	ns := freshNS(t, "midway")
	cs := kubernetes.NewForConfigOrDie(env.Config)
	q, err := cs.CoreV1().ResourceQuotas(ns).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "few"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/configmaps": resource.MustParse(fmt.Sprint(allowed))}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No quota controller runs here: set the usage it would have set.
	q.Status = corev1.ResourceQuotaStatus{Hard: q.Spec.Hard, Used: corev1.ResourceList{"count/configmaps": resource.MustParse("0")}}
	if _, err := cs.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, q, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%02d}\ndata: {k: v}\n", i)
	}
	c := newConfigRepo(t, ns, map[string]string{
		"clusters/c/app.yaml": kustomization("app", "./app", ns, "  prune: true\n"),
		"app/all.yaml":        b.String(),
	})
	res, err := c.reconcile(ctx)
	if res == nil || err == nil {
		t.Fatalf("reconcile = %+v, %v; want a result and the failure", res, err)
	}
	if len(res.Kustomizations) != 1 || res.Kustomizations[0].Outcome != Failed || !strings.Contains(res.Kustomizations[0].Reason, "exceeded quota") {
		t.Fatalf("result = %+v, want the quota's failure", res.Kustomizations)
	}
	list, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]bool{}
	for _, cm := range list.Items {
		created["ConfigMap/"+ns+"/"+cm.Name] = true
	}
	if len(created) != allowed {
		t.Fatalf("%d ConfigMaps exist, want the quota's %d", len(created), allowed)
	}
	reported := map[string]bool{}
	for _, ch := range res.Kustomizations[0].Changes {
		if ch.Action == kube.Created {
			reported[ch.ID] = true
		}
	}
	if len(reported) != allowed {
		t.Errorf("changes report %d created, want %d: %v", len(reported), allowed, res.Kustomizations[0].Changes)
	}
	for id := range created {
		if !reported[id] {
			t.Errorf("%s was created but the changes do not say so", id)
		}
	}
	inv := c.inventory("app")
	if inv == nil || len(inv.Entries) != n {
		t.Fatalf("inventory = %+v, want all %d ConfigMaps of the render", inv, n)
	}
}
