package fluxconfig

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The raw* types decode a spec as any served API version wrote it; fields
// renamed or replaced between versions are all present, and convert() maps
// them onto the model.

type rawName struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type rawCrossRef struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type rawGitRepository struct {
	URL string `json:"url"`
	Ref *struct {
		Branch string `json:"branch"`
		Tag    string `json:"tag"`
		SemVer string `json:"semver"`
		Commit string `json:"commit"`
		Name   string `json:"name"`
	} `json:"ref"`
	SecretRef *rawName `json:"secretRef"`
	Suspend   bool     `json:"suspend"`
}

type rawKustomization struct {
	SourceRef             rawCrossRef   `json:"sourceRef"`
	Path                  string        `json:"path"`
	TargetNamespace       string        `json:"targetNamespace"`
	NamePrefix            string        `json:"namePrefix"`
	NameSuffix            string        `json:"nameSuffix"`
	Images                []Image       `json:"images"`
	Patches               []Patch       `json:"patches"`
	PatchesStrategicMerge []any         `json:"patchesStrategicMerge"`
	PatchesJSON6902       []rawJSON6902 `json:"patchesJson6902"`
	Components            []string      `json:"components"`
	PostBuild             *struct {
		Substitute     map[string]string `json:"substitute"`
		SubstituteFrom []SubstituteRef   `json:"substituteFrom"`
	} `json:"postBuild"`
	CommonMetadata *struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"commonMetadata"`
	Prune        *bool        `json:"prune"`
	Wait         bool         `json:"wait"`
	HealthChecks []ObjectRef  `json:"healthChecks"`
	Timeout      string       `json:"timeout"`
	Interval     string       `json:"interval"`
	DependsOn    []rawName    `json:"dependsOn"`
	Force        bool         `json:"force"`
	Suspend      bool         `json:"suspend"`
	Ignore       []IgnoreRule `json:"ignore"`
	Decryption   *struct {
		Provider  string   `json:"provider"`
		SecretRef *rawName `json:"secretRef"`
		// ServiceAccountName (v1) names the identity Flux asks cloud KMS
		// with; Sluice always asks with the function's IAM role.
		ServiceAccountName string `json:"serviceAccountName"`
	} `json:"decryption"`
	// DeletionPolicy is v1 only; older versions had MirrorPrune's behaviour.
	DeletionPolicy string `json:"deletionPolicy"`
}

type rawJSON6902 struct {
	Target Selector `json:"target"`
	Patch  []any    `json:"patch"`
}

type rawImageRepository struct {
	Image         string   `json:"image"`
	ExclusionList []string `json:"exclusionList"`
	SecretRef     *rawName `json:"secretRef"`
	Suspend       bool     `json:"suspend"`
	AccessFrom    *struct {
		NamespaceSelectors []struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"namespaceSelectors"`
	} `json:"accessFrom"`
}

type rawImagePolicy struct {
	ImageRepositoryRef rawName `json:"imageRepositoryRef"`
	Policy             struct {
		SemVer *struct {
			Range string `json:"range"`
		} `json:"semver"`
		Alphabetical *struct {
			Order string `json:"order"`
		} `json:"alphabetical"`
		Numerical *struct {
			Order string `json:"order"`
		} `json:"numerical"`
	} `json:"policy"`
	FilterTags *struct {
		Pattern string `json:"pattern"`
		Extract string `json:"extract"`
	} `json:"filterTags"`
	DigestReflectionPolicy string `json:"digestReflectionPolicy"`
	Suspend                bool   `json:"suspend"`
}

type rawImageUpdateAutomation struct {
	SourceRef rawCrossRef `json:"sourceRef"`
	Git       *struct {
		Checkout *struct {
			Ref struct {
				Branch string `json:"branch"`
			} `json:"ref"`
		} `json:"checkout"`
		Commit struct {
			Author struct {
				Name  string `json:"name"`
				Email string `json:"email"`
			} `json:"author"`
			MessageTemplate       string            `json:"messageTemplate"`
			MessageTemplateValues map[string]string `json:"messageTemplateValues"`
			SigningKey            *struct {
				SecretRef rawName `json:"secretRef"`
				Type      string  `json:"type"`
			} `json:"signingKey"`
		} `json:"commit"`
		Push *struct {
			Branch  string            `json:"branch"`
			Refspec string            `json:"refspec"`
			Options map[string]string `json:"options"`
		} `json:"push"`
	} `json:"git"`
	PolicySelector *metav1.LabelSelector `json:"policySelector"`
	Update         *struct {
		Path     string `json:"path"`
		Strategy string `json:"strategy"`
	} `json:"update"`
	Suspend bool `json:"suspend"`
	// v1alpha1 kept checkout and commit at the top of spec.
	Checkout *struct {
		Branch string `json:"branch"`
	} `json:"checkout"`
	Commit *struct {
		AuthorName      string `json:"authorName"`
		AuthorEmail     string `json:"authorEmail"`
		MessageTemplate string `json:"messageTemplate"`
	} `json:"commit"`
	Push *struct {
		Branch string `json:"branch"`
	} `json:"push"`
}

type rawAlert struct {
	ProviderRef   rawName `json:"providerRef"`
	EventSeverity string  `json:"eventSeverity"`
	EventSources  []struct {
		APIVersion  string            `json:"apiVersion"`
		Kind        string            `json:"kind"`
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"eventSources"`
	InclusionList []string          `json:"inclusionList"`
	ExclusionList []string          `json:"exclusionList"`
	EventMetadata map[string]string `json:"eventMetadata"`
	Summary       string            `json:"summary"`
	Suspend       bool              `json:"suspend"`
}

type rawProvider struct {
	Type           string   `json:"type"`
	Channel        string   `json:"channel"`
	Username       string   `json:"username"`
	Address        string   `json:"address"`
	Timeout        string   `json:"timeout"`
	Proxy          string   `json:"proxy"`
	SecretRef      *rawName `json:"secretRef"`
	ProxySecretRef *rawName `json:"proxySecretRef"`
	CertSecretRef  *rawName `json:"certSecretRef"`
	Suspend        bool     `json:"suspend"`
}
