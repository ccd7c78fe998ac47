package alerting

import (
	"regexp"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
)

// Matches says whether alert sends ev, as Flux's notification-controller
// decides: the Alert is not suspended; an event source names the object's
// kind and namespace, its name or "*", and, with matchLabels, labels
// (objLabels, the involved object's) that they select; the Alert takes
// every severity (info) or the event's; its message matches an inclusion
// pattern, when there are some, and no exclusion pattern.
func Matches(alert fluxconfig.Alert, ev Event, objLabels map[string]string) bool {
	if alert.Suspend || !sourceMatches(alert, ev, objLabels) {
		return false
	}
	return included(alert.InclusionList, ev.Message) && !matchesAny(alert.ExclusionList, ev.Message)
}

func sourceMatches(alert fluxconfig.Alert, ev Event, objLabels map[string]string) bool {
	o := ev.InvolvedObject
	if alert.EventSeverity != fluxconfig.SeverityInfo && alert.EventSeverity != "" && ev.Severity != alert.EventSeverity {
		return false
	}
	for _, s := range alert.EventSources {
		if s.Kind != o.Kind || s.Namespace != o.Namespace || (s.Name != "*" && s.Name != o.Name) {
			continue
		}
		if s.MatchLabels == nil || labels.SelectorFromSet(s.MatchLabels).Matches(labels.Set(objLabels)) {
			return true
		}
	}
	return false
}

func included(patterns []string, msg string) bool {
	return len(patterns) == 0 || matchesAny(patterns, msg)
}

// matchesAny says whether one of patterns matches msg. fluxconfig compiled
// every pattern when it read the Alert; one that would not compile here
// matches nothing, as in Flux.
func matchesAny(patterns []string, msg string) bool {
	for _, p := range patterns {
		if r, err := regexp.Compile(p); err == nil && r.MatchString(msg) {
			return true
		}
	}
	return false
}
