package queue

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Reason says why a reconcile was queued.
type Reason string

// Reasons a reconcile message may carry.
const (
	ReasonPush   Reason = "push"
	ReasonDrift  Reason = "drift"
	ReasonManual Reason = "manual"
)

// Reconcile is the body of a message on the reconcile queue. It is a wake-up:
// the consumer converges to the branch head as it is when the message is
// processed, so Revision only records what woke it.
type Reconcile struct {
	Repository string `json:"repository"`
	Branch     string `json:"branch"`
	Revision   string `json:"revision"`
	Reason     Reason `json:"reason"`
	// Kustomizations names the "<ns>/<name>" to reconcile; empty means all.
	Kustomizations []string `json:"kustomizations"`
}

// Validate reports every missing or invalid field of m.
func (m Reconcile) Validate() error {
	var errs []error
	if m.Repository == "" {
		errs = append(errs, errors.New("repository is empty"))
	}
	if m.Branch == "" {
		errs = append(errs, errors.New("branch is empty"))
	}
	switch m.Reason {
	case ReasonPush, ReasonDrift, ReasonManual:
	default:
		errs = append(errs, fmt.Errorf("reason %q is not one of push, drift, manual", m.Reason))
	}
	for _, k := range m.Kustomizations {
		if ns, name, ok := strings.Cut(k, "/"); !ok || ns == "" || name == "" {
			errs = append(errs, fmt.Errorf("kustomization %q is not <namespace>/<name>", k))
		}
	}
	return errors.Join(errs...)
}

// DecodeReconcile parses a reconcile message body strictly: unknown fields and
// missing required fields are errors, so a message meant for another queue is
// never taken for a reconcile of everything.
func DecodeReconcile(body []byte) (Reconcile, error) {
	var m Reconcile
	if err := decodeStrict(body, &m); err != nil {
		return Reconcile{}, fmt.Errorf("decoding reconcile message: %w", err)
	}
	if err := m.Validate(); err != nil {
		return Reconcile{}, fmt.Errorf("invalid reconcile message: %w", err)
	}
	return m, nil
}

// Reevaluate is the body of the image queue message that asks the image-update
// function to re-evaluate policies against the registry (sent by drift).
type Reevaluate struct {
	Reason Reason `json:"reason"`
	// Policies names the "<ns>/<name>" ImagePolicies to re-evaluate; empty means all.
	Policies []string `json:"policies"`
}

// DecodeReevaluate parses a re-evaluate request strictly.
func DecodeReevaluate(body []byte) (Reevaluate, error) {
	var m Reevaluate
	if err := decodeStrict(body, &m); err != nil {
		return Reevaluate{}, fmt.Errorf("decoding re-evaluate message: %w", err)
	}
	if m.Reason != ReasonDrift && m.Reason != ReasonManual {
		return Reevaluate{}, fmt.Errorf("invalid re-evaluate message: reason %q is not drift or manual", m.Reason)
	}
	return m, nil
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// maxID is SQS's limit on MessageGroupId and MessageDeduplicationId.
const maxID = 128

// GroupID is the FIFO message group of a repository (its repoid identity) and
// branch: messages of one group are processed one at a time, different groups
// in parallel. Characters SQS does not allow are replaced, and an id too long
// keeps its head and ends with a hash of the whole, so it stays unique.
func GroupID(repository, branch string) string {
	return boundedID(repository + "@" + branch)
}

// PushDedupID is the deduplication id of a push: GitHub's delivery id, so a
// redelivered webhook queues nothing new.
func PushDedupID(deliveryID string) string { return boundedID("push-" + deliveryID) }

// DriftDedupID is the deduplication id of a reconcile queued by a drift run.
func DriftDedupID(revision, runID string) string {
	return boundedID("drift-" + revision + "-" + runID)
}

// ManualDedupID is the deduplication id of a reconcile or re-evaluation
// a person asked for (`sluice reconcile`); requestID is unique per request,
// so asking again at once is not dropped as a duplicate.
func ManualDedupID(revision, requestID string) string {
	return boundedID("manual-" + revision + "-" + requestID)
}

func boundedID(s string) string {
	clean := strings.Map(func(r rune) rune {
		if r > ' ' && r <= '~' { // SQS allows printable ASCII except space
			return r
		}
		return '_'
	}, s)
	if len(clean) <= maxID && clean == s {
		return clean
	}
	sum := sha256.Sum256([]byte(s))
	suffix := "-" + hex.EncodeToString(sum[:8])
	if len(clean) > maxID-len(suffix) {
		clean = clean[:maxID-len(suffix)]
	}
	return clean + suffix
}
