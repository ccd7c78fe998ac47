package alerting

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Severities of an Event, as Flux names them.
const (
	SeverityInfo  = "info"
	SeverityError = "error"
)

// Reasons of the events Sluice emits. Where Flux's controllers have one for
// the same thing, it is Flux's, so that receivers' filters keep working.
const (
	ReasonSucceeded          = "ReconciliationSucceeded"
	ReasonFailed             = "ReconciliationFailed"
	ReasonHealthCheckFailed  = "HealthCheckFailed"
	ReasonDependencyNotReady = "DependencyNotReady"
	ReasonPruned             = "Pruned"
	ReasonPruneFailed        = "PruneFailed"
	ReasonCommitted          = "Succeeded" // image-automation-controller's reason for a pushed commit
	ReasonPushFailed         = "GitOperationFailed"
	ReasonDriftDetected      = "DriftDetected"
	ReasonBehind             = "GitBehind"
)

// MetaRevision is the metadata key of the revision an event is about.
const MetaRevision = "revision"

// ObjectReference is the object an event is about, as Kubernetes's
// core/v1 ObjectReference marshals (Flux's involvedObject).
type ObjectReference struct {
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
	UID        string `json:"uid,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// Event is Flux's event (fluxcd/pkg/apis/event/v1beta1), field for field:
// the generic providers send it as it marshals, and existing receivers read
// it.
type Event struct {
	InvolvedObject      ObjectReference   `json:"involvedObject"`
	Severity            string            `json:"severity"`
	Timestamp           Time              `json:"timestamp"`
	Message             string            `json:"message"`
	Reason              string            `json:"reason"`
	Metadata            map[string]string `json:"metadata,omitempty"`
	ReportingController string            `json:"reportingController"`
	ReportingInstance   string            `json:"reportingInstance,omitempty"`
}

// Time marshals as Kubernetes's metav1.Time: RFC 3339, UTC, in seconds.
type Time struct{ time.Time }

// MarshalJSON writes t as metav1.Time does.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339, s)
	t.Time = v
	return err
}

// controllers are the Flux controllers that report on each kind, as
// reportingController: receivers and providers (Slack's username) show it.
var controllers = map[string]string{
	"Kustomization":         "kustomize-controller",
	"GitRepository":         "source-controller",
	"ImageRepository":       "image-reflector-controller",
	"ImagePolicy":           "image-reflector-controller",
	"ImageUpdateAutomation": "image-automation-controller",
}

// apiVersions are the versions Sluice's events name the kinds at (Flux's
// current ones).
var apiVersions = map[string]string{
	"Kustomization":         "kustomize.toolkit.fluxcd.io/v1",
	"GitRepository":         "source.toolkit.fluxcd.io/v1",
	"ImageRepository":       "image.toolkit.fluxcd.io/v1",
	"ImagePolicy":           "image.toolkit.fluxcd.io/v1",
	"ImageUpdateAutomation": "image.toolkit.fluxcd.io/v1",
}

// NewEvent returns an event about the object kind ns/name, reported by
// instance (the Sluice function), with the revision in its metadata when
// there is one. The object's uid is derived from its kind, namespace and
// name: Sluice's objects live in Git, not in the cluster, and providers
// that key on it (PagerDuty's dedup_key) need it stable.
func NewEvent(kind, ns, name, severity, reason, message, revision, instance string, now time.Time) Event {
	ev := Event{
		InvolvedObject:      ObjectReference{Kind: kind, Namespace: ns, Name: name, UID: uid(kind + "/" + ns + "/" + name), APIVersion: apiVersions[kind]},
		Severity:            severity,
		Timestamp:           Time{now.Truncate(time.Second)},
		Message:             message,
		Reason:              reason,
		ReportingController: controllers[kind],
		ReportingInstance:   instance,
	}
	if revision != "" {
		ev.Metadata = map[string]string{MetaRevision: revision}
	}
	return ev
}

// Revision is a commit as Flux's source revisions name it: "main@sha1:<sha>".
func Revision(branch, sha string) string {
	if sha == "" {
		return ""
	}
	return branch + "@sha1:" + sha
}

// commitOf is the commit of a revision in Flux's forms ("main@sha1:<sha>",
// "sha1:<sha>", "main/<sha>", "<sha>").
func commitOf(rev string) string {
	if i := strings.LastIndex(rev, ":"); i >= 0 {
		return rev[i+1:]
	}
	if i := strings.LastIndex(rev, "/"); i >= 0 {
		return rev[i+1:]
	}
	return rev
}

// uid formats a hash of s as a UUID, the form Kubernetes uids have.
func uid(s string) string {
	h := sha256.Sum256([]byte(s))
	x := hex.EncodeToString(h[:16])
	return fmt.Sprintf("%s-%s-%s-%s-%s", x[:8], x[8:12], x[12:16], x[16:20], x[20:])
}

// objectName is Flux's "<kind>/<name>.<namespace>", kind lower-cased.
func objectName(o ObjectReference) string {
	return fmt.Sprintf("%s/%s.%s", strings.ToLower(o.Kind), o.Name, o.Namespace)
}
