package fluxconfig

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Ref names a namespaced object.
type Ref struct {
	Namespace string
	Name      string
}

// String is the "<ns>/<name>" form the contracts between the functions use.
func (r Ref) String() string { return r.Namespace + "/" + r.Name }

// Source is where an object was read from, for messages.
type Source struct {
	File string // relative to the folder read
	Doc  int    // 1-based position of the YAML document in the file
}

// Config is every Flux object Sluice handles in one folder, in one model
// whatever API version each was written in.
type Config struct {
	GitRepositories        []GitRepository
	Kustomizations         []Kustomization
	ImageRepositories      []ImageRepository
	ImagePolicies          []ImagePolicy
	ImageUpdateAutomations []ImageUpdateAutomation
	// Notes say which fields Sluice does not use, and why.
	Notes []Note
	// ImageErrors are the image objects (ImageRepository, ImagePolicy,
	// ImageUpdateAutomation) that could not be read: image automation fails
	// on them, while reconciles, which do not use them, go on.
	ImageErrors []error
	// Providers and Alerts say where events go. NotificationErrors are the
	// ones that could not be read: their events are not sent, and nothing
	// else stops for them.
	Providers          []Provider
	Alerts             []Alert
	NotificationErrors []error
	// Labels are the metadata.labels of each object that has some, by
	// "Kind/ns/name": an Alert's eventSources select on them.
	Labels map[string]map[string]string
}

// Severity says whether a Note is information or a warning.
type Severity string

// Note severities.
const (
	// Info marks a field that is obsolete by design (events replace polling).
	Info Severity = "info"
	// Warning marks a field or kind Sluice does not support yet.
	Warning Severity = "warning"
)

// Note is something a user should know about a field or object Sluice read
// but does not act on.
type Note struct {
	Severity Severity
	Object   string // Kind/ns/name
	Field    string // e.g. spec.interval; empty for a whole object
	Message  string
	Source   Source
}

// GitRepository is a Flux source.toolkit.fluxcd.io GitRepository.
type GitRepository struct {
	Ref
	Source Source
	URL    string
	// At most one of Branch, Tag, SemVer, Commit, RefName is set. A
	// GitRepository of the config repository with no ref is served by the
	// config branch, SLUICE_GIT_BRANCH (not Flux's API default "master").
	Branch, Tag, SemVer, Commit, RefName string
	// SecretRef names the credential: Secrets Manager id sluice/<ns>/<name>.
	SecretRef string
	Suspend   bool
	// Refusals say why Sluice cannot serve this source (fields it cannot
	// honour); the Kustomizations that use it are refused.
	Refusals []string
}

// CrossRef points from one object to another, possibly in another namespace.
type CrossRef struct {
	Kind string
	Ref
}

// Kustomization is a Flux kustomize.toolkit.fluxcd.io Kustomization.
type Kustomization struct {
	Ref
	Source          Source
	SourceRef       CrossRef
	Path            string
	TargetNamespace string
	NamePrefix      string
	NameSuffix      string
	Images          []Image
	Patches         []Patch
	Components      []string
	Substitute      map[string]string
	// SubstituteFrom lists, in order, the ConfigMaps and Secrets in the
	// Kustomization's namespace whose data are substitution variables; later
	// ones override earlier ones, and Substitute overrides them all.
	SubstituteFrom []SubstituteRef
	CommonLabels   map[string]string
	CommonAnnots   map[string]string
	Prune          bool
	Wait           bool
	HealthChecks   []ObjectRef
	Timeout        time.Duration // zero: not set (see WaitTimeout)
	Interval       time.Duration // zero: not set; only sets the default timeout
	DependsOn      []Ref
	Force          bool
	Suspend        bool
	Ignore         []IgnoreRule
	// Decryption is spec.decryption; nil when the Kustomization decrypts
	// nothing.
	Decryption *Decryption
	// Refusals say why Sluice cannot apply this Kustomization as Flux would
	// (fields it cannot honour): it is failed alone, its objects untouched.
	Refusals []string
	// DeletionPolicy says what happens to the objects when the Kustomization
	// leaves Git: one of the DeletionPolicy constants (MirrorPrune when unset).
	DeletionPolicy string
	// Annotations are the Kustomization's own metadata.annotations (Sluice
	// reads its per-Kustomization settings from them).
	Annotations map[string]string
}

// DecryptionSOPS is the only decryption provider Flux has: SOPS.
const DecryptionSOPS = "sops"

// Decryption is how a Kustomization's SOPS-encrypted manifests and
// secretGenerator files are decrypted before they are applied.
type Decryption struct {
	// Provider is DecryptionSOPS.
	Provider string
	// SecretRef names, in the Kustomization's namespace, the secret holding
	// the age keys (Flux's "*.agekey" keys); empty when only AWS KMS, reached
	// with the function's role, decrypts.
	SecretRef string
}

// Deletion policies of a Kustomization, as Flux names them.
const (
	// DeletionPolicyMirrorPrune deletes the objects when spec.prune is true.
	DeletionPolicyMirrorPrune = "MirrorPrune"
	// DeletionPolicyDelete deletes them whatever spec.prune says.
	DeletionPolicyDelete = "Delete"
	// DeletionPolicyWaitForTermination deletes them and waits until they are gone.
	DeletionPolicyWaitForTermination = "WaitForTermination"
	// DeletionPolicyOrphan leaves them in the cluster.
	DeletionPolicyOrphan = "Orphan"
)

// MinWaitTimeout is the shortest wait Flux allows a Kustomization.
const MinWaitTimeout = 30 * time.Second

// WaitTimeout is how long a reconcile of k waits for health, as Flux's
// Kustomization.GetTimeout: spec.timeout, else spec.interval less 30 s, and
// never less than MinWaitTimeout.
func (k Kustomization) WaitTimeout() time.Duration {
	d := k.Interval - 30*time.Second
	if k.Timeout > 0 {
		d = k.Timeout
	}
	return max(d, MinWaitTimeout)
}

// DefaultHealthCheckAPIVersion is the apiVersion of a health check that
// names none, as in Flux.
const DefaultHealthCheckAPIVersion = "apps/v1"

// Image is a kustomize image override.
type Image struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// Patch is a strategic merge or JSON 6902 patch, with an optional target.
type Patch struct {
	Patch  string    `json:"patch"`
	Target *Selector `json:"target,omitempty"`
}

// Selector selects objects as kustomize's patch targets do.
type Selector struct {
	Group              string `json:"group,omitempty"`
	Version            string `json:"version,omitempty"`
	Kind               string `json:"kind,omitempty"`
	Name               string `json:"name,omitempty"`
	Namespace          string `json:"namespace,omitempty"`
	LabelSelector      string `json:"labelSelector,omitempty"`
	AnnotationSelector string `json:"annotationSelector,omitempty"`
}

// SubstituteRef names a ConfigMap or Secret of postBuild.substituteFrom.
type SubstituteRef struct {
	Kind string `json:"kind"` // ConfigMap or Secret
	Name string `json:"name"`
	// Optional lets the Kustomization go on without the object when it does
	// not exist.
	Optional bool `json:"optional,omitempty"`
}

// ObjectRef names an object whose health is checked.
type ObjectRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

// IgnoreRule excludes fields, named by JSON pointers, from drift and apply,
// for the objects Target selects (all when nil).
type IgnoreRule struct {
	Paths  []string  `json:"paths"`
	Target *Selector `json:"target,omitempty"`
}

// ImageRepository is a Flux image.toolkit.fluxcd.io ImageRepository.
type ImageRepository struct {
	Ref
	Source        Source
	Image         string
	ExclusionList []string
	SecretRef     string
	Suspend       bool
	// AccessFrom is spec.accessFrom.namespaceSelectors, each one's
	// matchLabels; nil when the field is absent (no other namespace may
	// refer to the repository).
	AccessFrom []map[string]string
}

// Digest reflection policies: whether an ImagePolicy's selected image
// carries its digest (Flux's spec.digestReflectionPolicy).
const (
	// ReflectNever leaves the digest out (Flux's default).
	ReflectNever = "Never"
	// ReflectIfNotPresent keeps the digest Git holds for the selected tag,
	// and reads it from the registry when Git holds none.
	ReflectIfNotPresent = "IfNotPresent"
	// ReflectAlways reads the digest from the registry every time.
	ReflectAlways = "Always"
)

// ImagePolicy is a Flux image.toolkit.fluxcd.io ImagePolicy.
type ImagePolicy struct {
	Ref
	Source             Source
	ImageRepositoryRef Ref
	// Exactly one of SemverRange, Alphabetical, Numerical is set;
	// Alphabetical and Numerical hold the order, "asc" or "desc".
	SemverRange   string
	Alphabetical  string
	Numerical     string
	FilterPattern string
	FilterExtract string
	// DigestReflection is ReflectNever, ReflectIfNotPresent or ReflectAlways.
	DigestReflection string
	Suspend          bool
	// Labels are the policy's metadata.labels, which an automation's
	// policySelector selects on.
	Labels map[string]string
}

// SigningKey is spec.git.commit.signingKey of an ImageUpdateAutomation.
type SigningKey struct {
	// SecretRef names the key: Secrets Manager id sluice/<ns>/<name>.
	SecretRef string
	// Type is "gpg" (Flux's default) or "ssh".
	Type string
}

// ImageUpdateAutomation is a Flux image.toolkit.fluxcd.io ImageUpdateAutomation.
type ImageUpdateAutomation struct {
	Ref
	Source          Source
	SourceRef       CrossRef
	CheckoutBranch  string // empty: the GitRepository's ref
	PushBranch      string // empty: the checkout branch
	AuthorName      string
	AuthorEmail     string
	MessageTemplate string
	// MessageTemplateValues reach the template as .Values.
	MessageTemplateValues map[string]string
	SigningKey            *SigningKey
	// PushRefspec is pushed to as well as the push branch; PushOptions are
	// Git push options.
	PushRefspec string
	PushOptions map[string]string
	// PolicySelector selects the ImagePolicies of the automation's namespace
	// it updates; nil selects them all.
	PolicySelector *metav1.LabelSelector
	UpdatePath     string
	Strategy       string
	Suspend        bool
}

// EventSource selects the objects whose events an Alert sends: Kind and
// Namespace must match, Name is a name or "*", and MatchLabels, when set,
// must match the object's labels.
type EventSource struct {
	Kind        string
	Ref                           // Namespace is the Alert's when the source names none
	MatchLabels map[string]string // nil: any labels
}

// Alert is a Flux notification.toolkit.fluxcd.io Alert: which events go to
// which Provider.
type Alert struct {
	Ref
	Source Source
	// ProviderRef names a Provider in the Alert's namespace.
	ProviderRef string
	// EventSeverity is "info" (every event) or "error" (errors only).
	EventSeverity string
	EventSources  []EventSource
	// InclusionList and ExclusionList are regular expressions matched
	// against an event's message; both are compiled when read.
	InclusionList []string
	ExclusionList []string
	// EventMetadata is added to every event's metadata; Summary is the
	// metadata key "summary" (v1beta1's way to say it).
	EventMetadata map[string]string
	Summary       string
	Suspend       bool
}

// Provider is a Flux notification.toolkit.fluxcd.io Provider: where events
// are sent and how.
type Provider struct {
	Ref
	Source   Source
	Type     string
	Channel  string
	Username string
	// Address is the endpoint; secretRef's "address" key overrides it.
	Address string
	// Timeout bounds one delivery attempt; zero means Flux's default, 15s.
	Timeout time.Duration
	Proxy   string
	// SecretRef, ProxySecretRef and CertSecretRef name Secrets Manager
	// secrets sluice/<ns>/<name>, holding Flux's keys.
	SecretRef      string
	ProxySecretRef string
	CertSecretRef  string
	Suspend        bool
}

// DefaultProviderTimeout is Flux's timeout of a Provider that sets none.
const DefaultProviderTimeout = 15 * time.Second
