// Package alertledger keeps the record of delivered notifications in a
// ConfigMap in sluice-system, so that a message the queue delivers again,
// to whichever function instance, does not notify again.
package alertledger

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/sluice-gitops/sluice/internal/alerting"
)

// Namespace holds the ledger, beside the inventories.
const Namespace = "sluice-system"

const (
	// MaxEntries bounds the ledger: a few hundred bytes short of 100 KB,
	// far under a ConfigMap's 1 MiB.
	MaxEntries = 1000
	// Retention is how long a delivery is remembered: SQS keeps a message
	// (and so may deliver it again) at most 14 days.
	Retention = 14 * 24 * time.Hour
)

// conflictBackoff lets the Kustomizations of a reconcile (four at once)
// and a drift run record together: jittered, so they do not collide again
// in step.
var conflictBackoff = wait.Backoff{Steps: 20, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 1, Cap: time.Second}

// Ledger is one installation's ConfigMap: data maps each delivered
// notification's key to when it was delivered (RFC 3339).
type Ledger struct {
	client  kubernetes.Interface
	name    string
	nowFunc func() time.Time
}

var _ alerting.Ledger = (*Ledger)(nil)

// New returns the ledger of installation (configrepo's id).
func New(client kubernetes.Interface, installation string) *Ledger {
	return &Ledger{client: client, name: "sluice-notifications-" + installation, nowFunc: time.Now}
}

// Name is the ConfigMap's name.
func (l *Ledger) Name() string { return l.name }

// Delivered says whether key is recorded.
func (l *Ledger) Delivered(ctx context.Context, key string) (bool, error) {
	cm, err := l.client.CoreV1().ConfigMaps(Namespace).Get(ctx, l.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the notification ledger %s/%s: %w", Namespace, l.name, err)
	}
	_, ok := cm.Data[key]
	return ok, nil
}

// Record records key, dropping entries past Retention and the oldest past
// MaxEntries. Writers of one installation (reconcile, drift) may race:
// a conflict is read again and retried.
func (l *Ledger) Record(ctx context.Context, key string) error {
	cms := l.client.CoreV1().ConfigMaps(Namespace)
	err := retry.RetryOnConflict(conflictBackoff, func() error {
		cm, err := cms.Get(ctx, l.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: l.name, Namespace: Namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "sluice"}}}
			cm.Data = l.trim(map[string]string{key: l.nowFunc().UTC().Format(time.RFC3339)})
			if err := l.ensureNamespace(ctx); err != nil {
				return err
			}
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				// Another writer created it first: read it and go again.
				return apierrors.NewConflict(corev1.Resource("configmaps"), l.name, err)
			}
			return err
		}
		if err != nil {
			return err
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[key] = l.nowFunc().UTC().Format(time.RFC3339)
		cm.Data = l.trim(cm.Data)
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("recording in the notification ledger %s/%s: %w", Namespace, l.name, err)
	}
	return nil
}

func (l *Ledger) ensureNamespace(ctx context.Context) error {
	_, err := l.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", Namespace, err)
	}
	return nil
}

// trim drops entries older than Retention (or unreadable), then the oldest
// beyond MaxEntries.
func (l *Ledger) trim(data map[string]string) map[string]string {
	type entry struct {
		key string
		at  time.Time
	}
	cutoff := l.nowFunc().Add(-Retention)
	var es []entry
	for k, v := range data {
		at, err := time.Parse(time.RFC3339, v)
		if err == nil && at.After(cutoff) {
			es = append(es, entry{k, at})
		}
	}
	sort.Slice(es, func(i, j int) bool {
		if !es[i].at.Equal(es[j].at) {
			return es[i].at.After(es[j].at)
		}
		return es[i].key < es[j].key
	})
	out := make(map[string]string, min(len(es), MaxEntries))
	for _, e := range es[:min(len(es), MaxEntries)] {
		out[e.key] = e.at.UTC().Format(time.RFC3339)
	}
	return out
}
