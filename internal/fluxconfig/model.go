package fluxconfig

import "time"

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
	// Exactly one of Branch, Tag, SemVer, Commit, RefName is set; a
	// GitRepository with no ref follows the default branch, as Flux does
	// ("master" in Flux's API default).
	Branch, Tag, SemVer, Commit, RefName string
	// SecretRef names the credential: Secrets Manager id sluice/<ns>/<name>.
	SecretRef string
	Suspend   bool
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
	Timeout        time.Duration // zero: not set
	DependsOn      []Ref
	Force          bool
	Suspend        bool
	Ignore         []IgnoreRule
	// Annotations are the Kustomization's own metadata.annotations (Sluice
	// reads its per-Kustomization settings from them).
	Annotations map[string]string
}

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
}

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
	UpdatePath      string
	Strategy        string
	Suspend         bool
}
