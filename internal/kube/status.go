package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A Kustomization's status is a ConfigMap beside its inventory, named
// "<inventory>.status", that `kubectl get cm -n sluice-system` shows as it is.
// Each writer owns its own keys through its own server-side apply field
// manager: a failed attempt never erases the last applied revision, a drift
// check never overwrites a reconcile's Ready, and nothing a reconcile writes
// lifts a suspension. No writer reads before it writes, so concurrent writers
// cannot lose each other's updates.
const (
	statusSuffix     = ".status"
	statusLabel      = LabelPrefix + "/status"
	statusMaxMessage = 32 * 1024 // as Flux caps a condition's message

	managerAttempt = FieldManager + "-attempt"
	managerApplied = FieldManager + "-applied"
	managerDrift   = FieldManager + "-drift"
	managerSuspend = FieldManager + "-suspend"

	keyAttemptedRevision = "lastAttemptedRevision"
	keyAttemptedAt       = "lastAttemptedAt"
	keyAttemptDuration   = "lastAttemptDuration"
	keyReady             = "ready"
	keyReason            = "reason"
	keyMessage           = "message"
	keyAppliedRevision   = "lastAppliedRevision"
	keyAppliedAt         = "lastAppliedAt"
	keySuspended         = "suspended"
	keySuspendedAt       = "suspendedAt"
	keySuspendedBy       = "suspendedBy"
	keySuspendedInGit    = "suspendedInGit"
	keyDriftCheckedAt    = "lastDriftCheckAt"
	keyDriftRevision     = "lastDriftCheckRevision"
	keyDriftInSync       = "driftInSync"
	keyDriftDrifted      = "driftDrifted"
	keyDriftMissing      = "driftMissing"
	keyDriftExtra        = "driftExtra"
	keyDriftObjects      = "driftObjects"
	keyDriftError        = "driftError"
)

// maxDriftObjects bounds the object ids a drift status lists; the counts
// stay exact.
const maxDriftObjects = 100

// Reasons of a Kustomization's Ready condition, Flux's where Flux has one.
const (
	ReasonProgressing       = "Progressing"
	ReasonSucceeded         = "ReconciliationSucceeded"
	ReasonFailed            = "ReconciliationFailed"
	ReasonBuildFailed       = "BuildFailed"
	ReasonHealthCheckFailed = "HealthCheckFailed"
	// ReasonHealthCheckCanceled: the branch moved while a health check
	// waited, and the new head is reconciled instead.
	ReasonHealthCheckCanceled = "HealthCheckCanceled"
	ReasonDependencyFailed    = "DependencyNotReady"
	ReasonSuspended           = "Suspended"
)

// Attempt is one reconcile of a Kustomization, successful or not.
type Attempt struct {
	Revision string
	At       time.Time
	Duration time.Duration
	// Ready is True after a successful apply (and health check), False after
	// a failure, Unknown while in progress.
	Ready   metav1.ConditionStatus
	Reason  string
	Message string
	// SuspendedInGit says the Kustomization has spec.suspend: true. The
	// attempt writer records it, so a reader sees a suspension from either
	// source, and the next attempt after a resume in Git clears it.
	SuspendedInGit bool
}

// StatusRevision is how statuses name a commit of branch, as Flux does:
// "<branch>@sha1:<sha>".
func StatusRevision(branch, sha string) string {
	return branch + "@sha1:" + sha
}

// DriftCheck is the last drift check of a Kustomization.
type DriftCheck struct {
	At       time.Time
	Revision string
	InSync   bool
	Drifted  int
	Missing  int
	Extra    int
	// Objects names the objects out of sync ("Kind/ns/name"), at most
	// maxDriftObjects of them.
	Objects []string
	// Error says why the check could not be made; the counts are then zero.
	Error string
}

// KustomizationStatus is what is recorded of one Kustomization, read back.
type KustomizationStatus struct {
	Owner Owner
	// LastAttempt is nil before the first attempt.
	LastAttempt         *Attempt
	LastAppliedRevision string
	LastAppliedAt       time.Time
	// Suspended is the in-cluster mark of `sluice suspend`.
	Suspended   bool
	SuspendedAt time.Time
	SuspendedBy string
	// LastDriftCheck is nil before the first check.
	LastDriftCheck *DriftCheck
}

// InClusterSuspension says who suspended the Kustomization in the cluster
// and when ("suspended in the cluster by <who> at <when>"); "" when not.
func (s *KustomizationStatus) InClusterSuspension() string {
	if !s.Suspended {
		return ""
	}
	why := "suspended in the cluster"
	if s.SuspendedBy != "" {
		why += " by " + s.SuspendedBy
	}
	if !s.SuspendedAt.IsZero() {
		why += " at " + s.SuspendedAt.UTC().Format(time.RFC3339)
	}
	return why
}

// IsSuspended says whether nothing is applied or corrected for the
// Kustomization: suspended in the cluster, or in Git as of its last attempt.
func (s *KustomizationStatus) IsSuspended() bool {
	return s.Suspended || s.LastAttempt != nil && s.LastAttempt.SuspendedInGit
}

// StatusName is the ConfigMap in sluice-system that holds owner's status.
func StatusName(owner Owner) string {
	name := InventoryName(owner) + statusSuffix
	if len(name) > validation.DNS1123SubdomainMaxLength {
		sum := sha256.Sum256([]byte(owner.Namespace + "/" + owner.Name))
		name = owner.Namespace + "." + hex.EncodeToString(sum[:16]) + "." + owner.Installation + statusSuffix
	}
	return name
}

// RecordAttempt records an attempt (its start with Ready Unknown, or its end).
func (m *Manager) RecordAttempt(ctx context.Context, owner Owner, a Attempt) error {
	if a.At.IsZero() {
		a.At = m.nowFunc()
	}
	data := map[string]string{
		keyAttemptedRevision: a.Revision,
		// Sub-second, so that two attempts within one second differ: a
		// reader waiting for a new attempt (`sluice reconcile`) tells them
		// apart by it. parseTime reads both forms.
		keyAttemptedAt: a.At.UTC().Format(time.RFC3339Nano),
		keyReady:       string(a.Ready),
		keyReason:      a.Reason,
		keyMessage:     capMessage(a.Message),
	}
	if a.Duration > 0 {
		data[keyAttemptDuration] = a.Duration.Round(time.Millisecond).String()
	}
	if a.SuspendedInGit {
		data[keySuspendedInGit] = "true"
	}
	return m.applyStatus(ctx, owner, managerAttempt, data)
}

// RecordApplied records that revision was applied in full.
func (m *Manager) RecordApplied(ctx context.Context, owner Owner, revision string, at time.Time) error {
	if at.IsZero() {
		at = m.nowFunc()
	}
	return m.applyStatus(ctx, owner, managerApplied, map[string]string{
		keyAppliedRevision: revision,
		keyAppliedAt:       at.UTC().Format(time.RFC3339),
	})
}

// RecordDriftCheck records a drift check's outcome: counts and object ids,
// never the objects' contents.
func (m *Manager) RecordDriftCheck(ctx context.Context, owner Owner, d DriftCheck) error {
	if d.At.IsZero() {
		d.At = m.nowFunc()
	}
	objs := d.Objects
	if len(objs) > maxDriftObjects {
		objs = objs[:maxDriftObjects]
	}
	data := map[string]string{
		keyDriftCheckedAt: d.At.UTC().Format(time.RFC3339),
		keyDriftRevision:  d.Revision,
		keyDriftInSync:    strconv.FormatBool(d.InSync),
		keyDriftDrifted:   strconv.Itoa(d.Drifted),
		keyDriftMissing:   strconv.Itoa(d.Missing),
		keyDriftExtra:     strconv.Itoa(d.Extra),
	}
	if len(objs) > 0 {
		data[keyDriftObjects] = strings.Join(objs, "\n")
	}
	if d.Error != "" {
		data[keyDriftError] = capMessage(d.Error)
	}
	return m.applyStatus(ctx, owner, managerDrift, data)
}

// capMessage bounds a message as Flux bounds a condition's.
func capMessage(msg string) string {
	if len(msg) > statusMaxMessage {
		return msg[:statusMaxMessage] + "…"
	}
	return msg
}

// SetSuspended sets or lifts the in-cluster suspension of owner's
// Kustomization; by names who asked (recorded, not checked).
func (m *Manager) SetSuspended(ctx context.Context, owner Owner, suspended bool, by string) error {
	data := map[string]string{}
	if suspended {
		data[keySuspended] = "true"
		data[keySuspendedAt] = m.nowFunc().UTC().Format(time.RFC3339)
		if by != "" {
			data[keySuspendedBy] = by
		}
	}
	// Lifting applies no keys: server-side apply then removes the ones this
	// manager set, and only those.
	return m.applyStatus(ctx, owner, managerSuspend, data)
}

func (m *Manager) applyStatus(ctx context.Context, owner Owner, manager string, data map[string]string) error {
	if owner.Installation == "" {
		return fmt.Errorf("recording the status of %s: no installation id", owner)
	}
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      StatusName(owner),
			Namespace: InventoryNamespace,
			Labels:    map[string]string{statusLabel: "true", installationLabel: owner.Installation},
			Annotations: map[string]string{
				inventoryOwnerNSAnnot:   owner.Namespace,
				inventoryOwnerNameAnnot: owner.Name,
			},
		},
		Data: data,
	}
	// sluice-system exists but for the first record of a cluster: create it
	// only then, so that a record costs one request. A reconcile records
	// after its work, within the margin it keeps before the deadline.
	err := m.client.Patch(ctx, cm, client.Apply, client.FieldOwner(manager), client.ForceOwnership)
	if apierrors.IsNotFound(err) {
		if err := m.ensureNamespace(ctx); err != nil {
			return err
		}
		err = m.client.Patch(ctx, cm, client.Apply, client.FieldOwner(manager), client.ForceOwnership)
	}
	if err != nil {
		return fmt.Errorf("recording the status of %s: %w", owner, err)
	}
	return nil
}

// ReadStatus reads owner's status; nil when none was recorded.
func (m *Manager) ReadStatus(ctx context.Context, owner Owner) (*KustomizationStatus, error) {
	var cm corev1.ConfigMap
	err := m.client.Get(ctx, client.ObjectKey{Namespace: InventoryNamespace, Name: StatusName(owner)}, &cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the status of %s: %w", owner, err)
	}
	st, err := decodeStatus(&cm)
	if err != nil {
		return nil, err
	}
	if st.Owner != owner {
		return nil, fmt.Errorf("status %s/%s belongs to %s of installation %q, not to %s of %q",
			InventoryNamespace, cm.Name, st.Owner, st.Owner.Installation, owner, owner.Installation)
	}
	return st, nil
}

// ListStatuses lists the statuses of one installation (one LIST), sorted by
// namespace and name.
func (m *Manager) ListStatuses(ctx context.Context, installation string) ([]KustomizationStatus, error) {
	var list corev1.ConfigMapList
	if err := m.client.List(ctx, &list, client.InNamespace(InventoryNamespace),
		client.MatchingLabels{statusLabel: "true", installationLabel: installation}); err != nil {
		return nil, fmt.Errorf("listing the statuses of installation %s in %s: %w", installation, InventoryNamespace, err)
	}
	out := make([]KustomizationStatus, 0, len(list.Items))
	for i := range list.Items {
		st, err := decodeStatus(&list.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Owner.String() < out[j].Owner.String() })
	return out, nil
}

// DeleteStatus removes owner's status, suspension included.
func (m *Manager) DeleteStatus(ctx context.Context, owner Owner) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: StatusName(owner), Namespace: InventoryNamespace}}
	if err := m.client.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the status of %s: %w", owner, err)
	}
	return nil
}

func decodeStatus(cm *corev1.ConfigMap) (*KustomizationStatus, error) {
	d := cm.Data
	st := &KustomizationStatus{
		Owner: Owner{
			Installation: cm.Labels[installationLabel],
			Namespace:    cm.Annotations[inventoryOwnerNSAnnot],
			Name:         cm.Annotations[inventoryOwnerNameAnnot],
		},
		LastAppliedRevision: d[keyAppliedRevision],
		LastAppliedAt:       parseTime(d[keyAppliedAt]),
		Suspended:           d[keySuspended] == "true",
		SuspendedAt:         parseTime(d[keySuspendedAt]),
		SuspendedBy:         d[keySuspendedBy],
	}
	if st.Owner.Name == "" || st.Owner.Namespace == "" {
		return nil, fmt.Errorf("status %s/%s does not name its Kustomization", cm.Namespace, cm.Name)
	}
	if _, ok := d[keyAttemptedAt]; ok {
		a := &Attempt{
			Revision: d[keyAttemptedRevision],
			At:       parseTime(d[keyAttemptedAt]),
			Ready:    metav1.ConditionStatus(d[keyReady]),
			Reason:   d[keyReason],
			Message:  d[keyMessage],
		}
		a.SuspendedInGit = d[keySuspendedInGit] == "true"
		if s := d[keyAttemptDuration]; s != "" {
			dur, err := time.ParseDuration(s)
			if err != nil {
				return nil, fmt.Errorf("status %s/%s: %s %q: %w", cm.Namespace, cm.Name, keyAttemptDuration, s, err)
			}
			a.Duration = dur
		}
		st.LastAttempt = a
	}
	if _, ok := d[keyDriftCheckedAt]; ok {
		dc := &DriftCheck{
			At:       parseTime(d[keyDriftCheckedAt]),
			Revision: d[keyDriftRevision],
			InSync:   d[keyDriftInSync] == "true",
			Error:    d[keyDriftError],
		}
		for key, n := range map[string]*int{keyDriftDrifted: &dc.Drifted, keyDriftMissing: &dc.Missing, keyDriftExtra: &dc.Extra} {
			if s := d[key]; s != "" {
				v, err := strconv.Atoi(s)
				if err != nil {
					return nil, fmt.Errorf("status %s/%s: %s %q is not a number", cm.Namespace, cm.Name, key, s)
				}
				*n = v
			}
		}
		if s := d[keyDriftObjects]; s != "" {
			dc.Objects = strings.Split(s, "\n")
		}
		st.LastDriftCheck = dc
	}
	return st, nil
}

// parseTime reads an RFC 3339 time; a malformed one (edited by hand) reads
// as unknown rather than failing every reader.
func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}
