package fluxconfig

// use says what Sluice does with a spec field.
type use int

const (
	used use = iota
	// obsolete fields are replaced by design: events and the drift schedule
	// replace polling.
	obsolete
	// unsupported fields are not acted on yet, and ignoring them changes
	// nothing that is applied or deleted: a warning.
	unsupported
	// refused fields would change what is applied or deleted, and Sluice
	// cannot honour them: the object is refused with the reason, alone.
	refused
)

type fieldRule struct {
	use use
	why string
}

var (
	polled    = fieldRule{obsolete, "Sluice is woken by events and the drift schedule instead of polling"}
	notYet    = fieldRule{unsupported, "not supported by Sluice yet; the field is ignored"}
	inCluster = fieldRule{unsupported, "names an in-cluster object; Sluice runs no controllers and reads credentials from Secrets Manager (sluice/<namespace>/<name>)"}
	usedField = fieldRule{use: used}
)

// specFields classifies every spec field Flux has served for each kind.
// A field absent here is unknown: a warning, since it is most likely a typo.
var specFields = map[string]map[string]fieldRule{
	"GitRepository": {
		"url": usedField, "ref": usedField, "suspend": usedField,
		"secretRef": {obsolete, "the config repository is cloned with the stack's own credential (SLUICE_GIT_TOKEN or SLUICE_GIT_SSH_KEY); other repositories are not supported yet"},
		"interval":  polled, "timeout": notYet,
		"ignore":            {refused, "Sluice applies from the whole checkout; files this field would leave out could change what is applied"},
		"include":           {refused, "Sluice does not include other repositories' files; the build would miss them"},
		"recurseSubmodules": {refused, "Sluice does not clone submodules; the build would miss their files"},
		"verify":            {refused, "Sluice does not verify commit signatures yet; applying an unverified commit where verification was asked for is not an option"},
		"sparseCheckout":    {refused, "Sluice does not do sparse checkouts yet"},
		"gitImplementation": {obsolete, "Sluice always uses go-git"},
		"accessFrom":        notYet, "proxySecretRef": notYet, "provider": notYet,
	},
	"Kustomization": {
		"sourceRef": usedField, "path": usedField, "targetNamespace": usedField, "namePrefix": usedField,
		"nameSuffix": usedField, "images": usedField, "patches": usedField, "patchesStrategicMerge": usedField,
		"patchesJson6902": usedField, "components": usedField, "postBuild": usedField, "commonMetadata": usedField,
		"prune": usedField, "wait": usedField, "healthChecks": usedField, "timeout": usedField,
		"dependsOn": usedField, "force": usedField, "suspend": usedField, "ignore": usedField, "decryption": usedField,
		"interval":           {obsolete, "events and the drift schedule replace polling; as in Flux, it still sets the default spec.timeout (interval less 30s)"},
		"retryInterval":      {obsolete, "a failed reconcile is retried by the SQS queue, then its dead-letter queue"},
		"serviceAccountName": {refused, "Sluice applies with its own IAM identity (EKS access entry) and cannot impersonate a ServiceAccount yet; applying with more rights than the Kustomization asks for is not an option"},
		"kubeConfig":         {refused, "Sluice applies only to the cluster it is configured for; remote clusters are not supported yet"},
		"validation":         {obsolete, "Sluice always dry-runs on the server before applying"},
		"deletionPolicy":     usedField, "healthCheckExprs": notYet, "ignoreMissingComponents": notYet,
	},
	"ImageRepository": {
		"image": usedField, "exclusionList": usedField, "suspend": usedField,
		"secretRef": {obsolete, "Sluice reads ECR with its own IAM role"},
		"interval":  {obsolete, "Sluice reacts to ECR push and delete events, and the drift schedule re-checks"},
		"timeout":   notYet, "certSecretRef": inCluster, "serviceAccountName": inCluster, "accessFrom": usedField,
		"provider": {obsolete, "Sluice reads ECR with its own IAM role"}, "proxySecretRef": notYet, "insecure": notYet,
	},
	"ImagePolicy": {
		"imageRepositoryRef": usedField, "policy": usedField, "filterTags": usedField,
		"digestReflectionPolicy": usedField, "suspend": usedField,
		"interval": {obsolete, "Sluice re-reads the registry on every ECR event and drift run; with digestReflectionPolicy Always the digest is read each time"},
	},
	"ImageUpdateAutomation": {
		"sourceRef": usedField, "git": usedField, "update": usedField, "suspend": usedField,
		"interval":       {obsolete, "Sluice commits when an ECR event or the drift schedule finds a newer tag"},
		"policySelector": usedField, "checkout": usedField, "commit": usedField, "push": usedField,
	},
	"Alert": {
		"providerRef": usedField, "eventSeverity": usedField, "eventSources": usedField, "inclusionList": usedField,
		"exclusionList": usedField, "eventMetadata": usedField, "summary": usedField, "suspend": usedField,
	},
	"Provider": {
		"type": usedField, "channel": usedField, "username": usedField, "address": usedField, "timeout": usedField,
		"proxy": usedField, "secretRef": usedField, "proxySecretRef": usedField, "certSecretRef": usedField, "suspend": usedField,
		"interval":           {obsolete, "Sluice sends events as its functions produce them"},
		"serviceAccountName": {unsupported, "Sluice runs no controllers and cannot take a ServiceAccount's identity; give the credentials with secretRef (sluice/<namespace>/<name>)"},
		"commitStatusExpr":   {unsupported, "not supported by Sluice yet; the commit status is named as Flux names it by default (<kind>/<name>/<provider id>)"},
	},
}

// servedVersions lists the API versions Flux has served for each kind.
var servedVersions = map[string]map[string]bool{
	"GitRepository":         {"source.toolkit.fluxcd.io/v1beta1": true, "source.toolkit.fluxcd.io/v1beta2": true, "source.toolkit.fluxcd.io/v1": true},
	"Kustomization":         {"kustomize.toolkit.fluxcd.io/v1beta1": true, "kustomize.toolkit.fluxcd.io/v1beta2": true, "kustomize.toolkit.fluxcd.io/v1": true},
	"ImageRepository":       {"image.toolkit.fluxcd.io/v1alpha1": true, "image.toolkit.fluxcd.io/v1alpha2": true, "image.toolkit.fluxcd.io/v1beta1": true, "image.toolkit.fluxcd.io/v1beta2": true, "image.toolkit.fluxcd.io/v1": true},
	"ImagePolicy":           {"image.toolkit.fluxcd.io/v1alpha1": true, "image.toolkit.fluxcd.io/v1alpha2": true, "image.toolkit.fluxcd.io/v1beta1": true, "image.toolkit.fluxcd.io/v1beta2": true, "image.toolkit.fluxcd.io/v1": true},
	"ImageUpdateAutomation": {"image.toolkit.fluxcd.io/v1alpha1": true, "image.toolkit.fluxcd.io/v1alpha2": true, "image.toolkit.fluxcd.io/v1beta1": true, "image.toolkit.fluxcd.io/v1beta2": true, "image.toolkit.fluxcd.io/v1": true},
	"Alert":                 {"notification.toolkit.fluxcd.io/v1beta1": true, "notification.toolkit.fluxcd.io/v1beta2": true, "notification.toolkit.fluxcd.io/v1beta3": true},
	"Provider":              {"notification.toolkit.fluxcd.io/v1beta1": true, "notification.toolkit.fluxcd.io/v1beta2": true, "notification.toolkit.fluxcd.io/v1beta3": true},
}
