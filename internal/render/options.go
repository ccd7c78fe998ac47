package render

// Options are the parts of a Flux Kustomization's spec that shape its build.
// The zero value builds Path as kustomize would, with no Flux overrides.
type Options struct {
	// Path is the folder to build, relative to the root of the working tree,
	// in Flux's "./app/overlays/prod" form; empty means the root. A folder
	// without a kustomization file is built from every manifest under it.
	Path string
	// TargetNamespace, when set, overrides the namespace of every namespaced
	// object (kustomize's namespace field).
	TargetNamespace string
	// NamePrefix and NameSuffix, when set, override the kustomization's own.
	NamePrefix, NameSuffix string
	// Images override image names, tags and digests; an entry whose Name the
	// kustomization already lists updates that entry field by field.
	Images []Image
	// Patches are appended to the kustomization's own patches.
	Patches []Patch
	// Components are appended to the kustomization's components; each must be
	// a local path relative to Path.
	Components []string
	// SubstituteFrom holds the data of postBuild.substituteFrom's ConfigMaps
	// and Secrets, in order: a later one's values override an earlier one's.
	// The caller reads them (render reads nothing but the tree).
	SubstituteFrom []Variables
	// Substitute holds postBuild.substitute, which overrides SubstituteFrom.
	// ${var} and ${var:=default} are replaced in every object not annotated
	// or labelled kustomize.toolkit.fluxcd.io/substitute: disabled, and
	// $${var} is written as ${var}. As in Flux, substitution runs only when
	// there is at least one variable.
	Substitute map[string]string
	// CommonLabels and CommonAnnotations (commonMetadata) are set on every
	// object, replacing values of the same keys.
	CommonLabels, CommonAnnotations map[string]string
	// Decryptor, when set (spec.decryption), decrypts SOPS-encrypted files,
	// objects and Secret values as Flux does. Without it, a build holding
	// an encrypted Secret fails (ErrEncryptedWithoutDecryption).
	Decryptor Decryptor `json:"-"`
}

// Variables are substitution variables read from one object.
type Variables struct {
	// Source names the object in messages, e.g. "ConfigMap prod/vars".
	Source string
	Values map[string]string
}

// Image is a kustomize image override, as in a Flux Kustomization's images.
type Image struct {
	// Name is the image name to match, without tag or digest.
	Name string
	// NewName replaces the image name.
	NewName string
	// NewTag replaces the tag.
	NewTag string
	// Digest replaces the tag with a digest; it wins over NewTag.
	Digest string
}

// Patch is an inline strategic merge patch or JSON 6902 patch (a YAML or JSON
// list of operations), applied to the objects Target selects. A strategic
// merge patch without a Target applies to the object its own metadata names.
type Patch struct {
	Patch  string
	Target *Selector
}

// Selector selects the objects a patch applies to, as kustomize's patch
// targets do: every field set must match; names and namespaces are regular
// expressions; LabelSelector and AnnotationSelector are Kubernetes selectors.
type Selector struct {
	Group, Version, Kind string
	Name, Namespace      string
	LabelSelector        string
	AnnotationSelector   string
}
