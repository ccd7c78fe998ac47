package fluxconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func (c *Config) convert(kind string, ref Ref, annotations map[string]string, spec json.RawMessage, src Source) error {
	switch kind {
	case "GitRepository":
		g, err := convertGitRepository(ref, spec)
		if err != nil {
			return err
		}
		g.Source = src
		c.GitRepositories = append(c.GitRepositories, g)
	case "Kustomization":
		k, err := convertKustomization(ref, spec)
		if err != nil {
			return err
		}
		k.Source, k.Annotations = src, annotations
		c.Kustomizations = append(c.Kustomizations, k)
	case "ImageRepository":
		var raw rawImageRepository
		if err := decodeSpec(spec, &raw); err != nil {
			return err
		}
		if raw.Image == "" {
			return errors.New("spec.image is required")
		}
		r := ImageRepository{Ref: ref, Source: src, Image: raw.Image, ExclusionList: raw.ExclusionList, Suspend: raw.Suspend}
		if raw.SecretRef != nil {
			r.SecretRef = raw.SecretRef.Name
		}
		if a := raw.AccessFrom; a != nil {
			r.AccessFrom = []map[string]string{}
			for _, sel := range a.NamespaceSelectors {
				r.AccessFrom = append(r.AccessFrom, sel.MatchLabels)
			}
		}
		c.ImageRepositories = append(c.ImageRepositories, r)
	case "ImagePolicy":
		p, err := convertImagePolicy(ref, spec)
		if err != nil {
			return err
		}
		p.Source = src
		c.ImagePolicies = append(c.ImagePolicies, p)
	case "ImageUpdateAutomation":
		a, err := convertImageUpdateAutomation(ref, spec)
		if err != nil {
			return err
		}
		a.Source = src
		c.ImageUpdateAutomations = append(c.ImageUpdateAutomations, a)
	case "Alert":
		a, err := convertAlert(ref, spec)
		if err != nil {
			return err
		}
		a.Source = src
		c.Alerts = append(c.Alerts, a)
	case "Provider":
		p, err := convertProvider(ref, spec)
		if err != nil {
			return err
		}
		p.Source = src
		c.Providers = append(c.Providers, p)
	}
	return nil
}

func convertGitRepository(ref Ref, spec json.RawMessage) (GitRepository, error) {
	var raw rawGitRepository
	if err := decodeSpec(spec, &raw); err != nil {
		return GitRepository{}, err
	}
	if raw.URL == "" {
		return GitRepository{}, errors.New("spec.url is required")
	}
	g := GitRepository{Ref: ref, URL: raw.URL, Suspend: raw.Suspend}
	if raw.Ref != nil {
		g.Branch, g.Tag, g.SemVer, g.Commit, g.RefName = raw.Ref.Branch, raw.Ref.Tag, raw.Ref.SemVer, raw.Ref.Commit, raw.Ref.Name
	}
	if raw.SecretRef != nil {
		g.SecretRef = raw.SecretRef.Name
	}
	return g, nil
}

func convertKustomization(ref Ref, spec json.RawMessage) (Kustomization, error) {
	var raw rawKustomization
	if err := decodeSpec(spec, &raw); err != nil {
		return Kustomization{}, err
	}
	var errs []error
	if raw.SourceRef.Name == "" {
		errs = append(errs, errors.New("spec.sourceRef.name is required"))
	}
	if raw.SourceRef.Kind == "" {
		errs = append(errs, errors.New("spec.sourceRef.kind is required"))
	} else if raw.SourceRef.Kind != "GitRepository" {
		errs = append(errs, fmt.Errorf("spec.sourceRef.kind %q is not supported: Sluice applies from GitRepository sources", raw.SourceRef.Kind))
	}
	if raw.Prune == nil {
		errs = append(errs, errors.New("spec.prune is required (true or false)"))
	}
	k := Kustomization{
		Ref:             ref,
		SourceRef:       CrossRef{Kind: raw.SourceRef.Kind, Ref: Ref{Namespace: orDefault(raw.SourceRef.Namespace, ref.Namespace), Name: raw.SourceRef.Name}},
		Path:            raw.Path,
		TargetNamespace: raw.TargetNamespace,
		NamePrefix:      raw.NamePrefix,
		NameSuffix:      raw.NameSuffix,
		Images:          raw.Images,
		Patches:         raw.Patches,
		Components:      raw.Components,
		Wait:            raw.Wait,
		HealthChecks:    raw.HealthChecks,
		Force:           raw.Force,
		Suspend:         raw.Suspend,
		Ignore:          raw.Ignore,
	}
	if raw.Prune != nil {
		k.Prune = *raw.Prune
	}
	switch raw.DeletionPolicy {
	case "", DeletionPolicyMirrorPrune, DeletionPolicyDelete, DeletionPolicyWaitForTermination, DeletionPolicyOrphan:
		k.DeletionPolicy = orDefault(raw.DeletionPolicy, DeletionPolicyMirrorPrune)
	default:
		errs = append(errs, fmt.Errorf("spec.deletionPolicy %q is not one of %s, %s, %s, %s", raw.DeletionPolicy,
			DeletionPolicyMirrorPrune, DeletionPolicyDelete, DeletionPolicyWaitForTermination, DeletionPolicyOrphan))
	}
	if raw.Timeout != "" {
		d, err := time.ParseDuration(raw.Timeout)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("spec.timeout %q is not a duration such as 5m", raw.Timeout))
		}
		k.Timeout = d
	}
	if raw.Interval != "" {
		// Events replace polling, but the interval still sets the default
		// timeout, as in Flux.
		d, err := time.ParseDuration(raw.Interval)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("spec.interval %q is not a duration such as 10m", raw.Interval))
		}
		k.Interval = d
	}
	for i, d := range raw.DependsOn {
		if d.Name == "" {
			errs = append(errs, fmt.Errorf("spec.dependsOn[%d].name is required", i))
		}
		k.DependsOn = append(k.DependsOn, Ref{Namespace: orDefault(d.Namespace, ref.Namespace), Name: d.Name})
	}
	for i, hc := range raw.HealthChecks {
		if hc.Kind == "" || hc.Name == "" {
			errs = append(errs, fmt.Errorf("spec.healthChecks[%d]: kind and name are required", i))
		}
		if hc.APIVersion == "" {
			// Flux's default, kept from v1beta1, where checks named Deployments.
			k.HealthChecks[i].APIVersion = DefaultHealthCheckAPIVersion
		}
	}
	for i, rule := range raw.Ignore {
		for j, p := range rule.Paths {
			if !strings.HasPrefix(p, "/") {
				errs = append(errs, fmt.Errorf("spec.ignore[%d].paths[%d] %q is not a JSON pointer (it must start with /)", i, j, p))
			}
		}
		if len(rule.Paths) == 0 {
			errs = append(errs, fmt.Errorf("spec.ignore[%d].paths is required", i))
		}
	}
	// v1beta1 and v1beta2 had separate strategic merge and JSON 6902 patch
	// lists; Flux v1 folded both into patches, and so does the model.
	for i, p := range raw.PatchesStrategicMerge {
		b, err := yaml.Marshal(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.patchesStrategicMerge[%d]: %w", i, err))
			continue
		}
		k.Patches = append(k.Patches, Patch{Patch: string(b)})
	}
	for i, p := range raw.PatchesJSON6902 {
		b, err := yaml.Marshal(p.Patch)
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.patchesJson6902[%d]: %w", i, err))
			continue
		}
		target := p.Target
		k.Patches = append(k.Patches, Patch{Patch: string(b), Target: &target})
	}
	for i, p := range k.Patches {
		if strings.TrimSpace(p.Patch) == "" {
			errs = append(errs, fmt.Errorf("spec.patches[%d].patch is required", i))
		}
	}
	if raw.PostBuild != nil {
		k.Substitute = raw.PostBuild.Substitute
		k.SubstituteFrom = raw.PostBuild.SubstituteFrom
		for i, r := range k.SubstituteFrom {
			if r.Kind != "ConfigMap" && r.Kind != "Secret" {
				errs = append(errs, fmt.Errorf("spec.postBuild.substituteFrom[%d].kind %q must be ConfigMap or Secret", i, r.Kind))
			}
			if r.Name == "" {
				errs = append(errs, fmt.Errorf("spec.postBuild.substituteFrom[%d].name is required", i))
			}
		}
	}
	if d := raw.Decryption; d != nil {
		k.Decryption = &Decryption{Provider: d.Provider}
		if d.Provider != DecryptionSOPS {
			errs = append(errs, fmt.Errorf("spec.decryption.provider %q is not %q, the only provider Flux has", d.Provider, DecryptionSOPS))
		}
		if d.SecretRef != nil {
			if d.SecretRef.Name == "" {
				errs = append(errs, errors.New("spec.decryption.secretRef.name is required"))
			}
			k.Decryption.SecretRef = d.SecretRef.Name
		}
	}
	if raw.CommonMetadata != nil {
		k.CommonLabels, k.CommonAnnots = raw.CommonMetadata.Labels, raw.CommonMetadata.Annotations
	}
	return k, errors.Join(errs...)
}

func convertImagePolicy(ref Ref, spec json.RawMessage) (ImagePolicy, error) {
	var raw rawImagePolicy
	if err := decodeSpec(spec, &raw); err != nil {
		return ImagePolicy{}, err
	}
	var errs []error
	if raw.ImageRepositoryRef.Name == "" {
		errs = append(errs, errors.New("spec.imageRepositoryRef.name is required"))
	}
	p := ImagePolicy{Ref: ref, ImageRepositoryRef: Ref{Namespace: orDefault(raw.ImageRepositoryRef.Namespace, ref.Namespace), Name: raw.ImageRepositoryRef.Name}}
	set := 0
	if s := raw.Policy.SemVer; s != nil {
		set++
		p.SemverRange = s.Range
		if s.Range == "" {
			errs = append(errs, errors.New("spec.policy.semver.range is required"))
		}
	}
	if a := raw.Policy.Alphabetical; a != nil {
		set++
		p.Alphabetical = orDefault(a.Order, "asc")
	}
	if n := raw.Policy.Numerical; n != nil {
		set++
		p.Numerical = orDefault(n.Order, "asc")
	}
	for field, order := range map[string]string{"alphabetical": p.Alphabetical, "numerical": p.Numerical} {
		if order != "" && order != "asc" && order != "desc" {
			errs = append(errs, fmt.Errorf("spec.policy.%s.order %q is not asc or desc", field, order))
		}
	}
	if set != 1 {
		errs = append(errs, errors.New("spec.policy must set exactly one of semver, alphabetical, numerical"))
	}
	if f := raw.FilterTags; f != nil {
		p.FilterPattern, p.FilterExtract = f.Pattern, f.Extract
	}
	p.Suspend = raw.Suspend
	switch p.DigestReflection = orDefault(raw.DigestReflectionPolicy, ReflectNever); p.DigestReflection {
	case ReflectNever, ReflectIfNotPresent, ReflectAlways:
	default:
		errs = append(errs, fmt.Errorf("spec.digestReflectionPolicy %q is not one of %s, %s, %s", p.DigestReflection, ReflectNever, ReflectIfNotPresent, ReflectAlways))
	}
	return p, errors.Join(errs...)
}

func convertImageUpdateAutomation(ref Ref, spec json.RawMessage) (ImageUpdateAutomation, error) {
	var raw rawImageUpdateAutomation
	if err := decodeSpec(spec, &raw); err != nil {
		return ImageUpdateAutomation{}, err
	}
	a := ImageUpdateAutomation{Ref: ref, Suspend: raw.Suspend, Strategy: "Setters", UpdatePath: "."}
	var errs []error
	switch {
	case raw.Git != nil:
		if raw.SourceRef.Name == "" {
			errs = append(errs, errors.New("spec.sourceRef.name is required"))
		}
		a.SourceRef = CrossRef{Kind: orDefault(raw.SourceRef.Kind, "GitRepository"), Ref: Ref{Namespace: orDefault(raw.SourceRef.Namespace, ref.Namespace), Name: raw.SourceRef.Name}}
		if raw.Git.Checkout != nil {
			a.CheckoutBranch = raw.Git.Checkout.Ref.Branch
		}
		if p := raw.Git.Push; p != nil {
			a.PushBranch, a.PushRefspec, a.PushOptions = p.Branch, p.Refspec, p.Options
		}
		a.AuthorName, a.AuthorEmail = raw.Git.Commit.Author.Name, raw.Git.Commit.Author.Email
		a.MessageTemplate = raw.Git.Commit.MessageTemplate
		a.MessageTemplateValues = raw.Git.Commit.MessageTemplateValues
		if k := raw.Git.Commit.SigningKey; k != nil {
			a.SigningKey = &SigningKey{SecretRef: k.SecretRef.Name, Type: orDefault(k.Type, "gpg")}
			if k.SecretRef.Name == "" {
				errs = append(errs, errors.New("spec.git.commit.signingKey.secretRef.name is required"))
			}
			if a.SigningKey.Type != "gpg" && a.SigningKey.Type != "ssh" {
				errs = append(errs, fmt.Errorf("spec.git.commit.signingKey.type %q is not gpg or ssh", k.Type))
			}
		}
	case raw.Commit != nil: // v1alpha1
		errs = append(errs, errors.New("the v1alpha1 layout (spec.checkout, spec.commit) names its GitRepository in spec.checkout.gitRepositoryRef, which Sluice does not read; move to spec.git and spec.sourceRef"))
	default:
		errs = append(errs, errors.New("spec.git is required"))
	}
	if a.SourceRef.Kind != "" && a.SourceRef.Kind != "GitRepository" {
		errs = append(errs, fmt.Errorf("spec.sourceRef.kind %q is not GitRepository", a.SourceRef.Kind))
	}
	if raw.Git != nil && a.AuthorEmail == "" {
		errs = append(errs, errors.New("spec.git.commit.author.email is required"))
	}
	if u := raw.Update; u != nil {
		a.UpdatePath = orDefault(u.Path, ".")
		a.Strategy = orDefault(u.Strategy, "Setters")
	}
	if sel := raw.PolicySelector; sel != nil {
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, fmt.Errorf("spec.policySelector: %w", err))
		}
		a.PolicySelector = sel
	}
	if a.Strategy != "Setters" {
		errs = append(errs, fmt.Errorf("spec.update.strategy %q is not supported: Sluice supports Setters", a.Strategy))
	}
	return a, errors.Join(errs...)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
