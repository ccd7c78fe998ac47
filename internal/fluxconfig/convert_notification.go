package fluxconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Event severities an Alert selects on, as Flux names them.
const (
	SeverityInfo  = "info"
	SeverityError = "error"
)

func convertAlert(ref Ref, spec json.RawMessage) (Alert, error) {
	var raw rawAlert
	if err := decodeSpec(spec, &raw); err != nil {
		return Alert{}, err
	}
	var errs []error
	a := Alert{
		Ref: ref, ProviderRef: raw.ProviderRef.Name, EventSeverity: orDefault(raw.EventSeverity, SeverityInfo),
		InclusionList: raw.InclusionList, ExclusionList: raw.ExclusionList,
		EventMetadata: raw.EventMetadata, Summary: raw.Summary, Suspend: raw.Suspend,
	}
	if a.ProviderRef == "" {
		errs = append(errs, errors.New("spec.providerRef.name is required"))
	}
	if a.EventSeverity != SeverityInfo && a.EventSeverity != SeverityError {
		errs = append(errs, fmt.Errorf("spec.eventSeverity %q is not %s or %s", raw.EventSeverity, SeverityInfo, SeverityError))
	}
	if len(raw.EventSources) == 0 {
		errs = append(errs, errors.New("spec.eventSources is required"))
	}
	for i, s := range raw.EventSources {
		if s.Kind == "" || s.Name == "" {
			errs = append(errs, fmt.Errorf("spec.eventSources[%d]: kind and name are required", i))
		}
		a.EventSources = append(a.EventSources, EventSource{Kind: s.Kind, Ref: Ref{Namespace: orDefault(s.Namespace, ref.Namespace), Name: s.Name}, MatchLabels: s.MatchLabels})
	}
	// Flux skips a pattern that does not compile, and so would send what
	// an exclusion meant to hold back: refusing the Alert says so at once.
	for field, list := range map[string][]string{"inclusionList": raw.InclusionList, "exclusionList": raw.ExclusionList} {
		for i, p := range list {
			if _, err := regexp.Compile(p); err != nil {
				errs = append(errs, fmt.Errorf("spec.%s[%d] %q is not a regular expression: %w", field, i, p, err))
			}
		}
	}
	return a, errors.Join(errs...)
}

func convertProvider(ref Ref, spec json.RawMessage) (Provider, error) {
	var raw rawProvider
	if err := decodeSpec(spec, &raw); err != nil {
		return Provider{}, err
	}
	var errs []error
	p := Provider{
		Ref: ref, Type: raw.Type, Channel: raw.Channel, Username: raw.Username,
		Address: raw.Address, Proxy: raw.Proxy, Suspend: raw.Suspend,
	}
	if p.Type == "" {
		errs = append(errs, errors.New("spec.type is required"))
	}
	if raw.Timeout != "" {
		d, err := time.ParseDuration(raw.Timeout)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("spec.timeout %q is not a duration such as 15s", raw.Timeout))
		}
		p.Timeout = d
	}
	for _, s := range []struct {
		field string
		raw   *rawName
		name  *string
	}{{"secretRef", raw.SecretRef, &p.SecretRef}, {"proxySecretRef", raw.ProxySecretRef, &p.ProxySecretRef}, {"certSecretRef", raw.CertSecretRef, &p.CertSecretRef}} {
		if s.raw == nil {
			continue
		}
		if s.raw.Name == "" {
			errs = append(errs, fmt.Errorf("spec.%s.name is required", s.field))
		}
		*s.name = s.raw.Name
	}
	return p, errors.Join(errs...)
}

// TimeoutOrDefault is how long one delivery attempt to p may take.
func (p Provider) TimeoutOrDefault() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultProviderTimeout
}
