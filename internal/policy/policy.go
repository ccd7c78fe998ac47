package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoMatch is returned by Latest when no tag qualifies: the list is empty, the
// filter kept none, or none is in the semver range. The caller branches on it
// (nothing to update) rather than treating it as a failure.
var ErrNoMatch = errors.New("no tag matches the policy")

// ErrNoPolicy is returned by New when a Spec sets none of semver, alphabetical
// and numerical, which Flux rejects as an invalid ImagePolicyChoice.
var ErrNoPolicy = errors.New("policy sets none of semver, alphabetical, numerical")

// Order is the sort order of an alphabetical or numerical policy, as Flux spells
// it (matched case-insensitively, as Flux upper-cases it).
type Order string

const (
	// Ascending selects the greatest tag: z of a..z, 9 of 0..9 (Flux's default).
	Ascending Order = "asc"
	// Descending selects the least tag: a of a..z, 0 of 0..9.
	Descending Order = "desc"
)

// Spec is an ImagePolicy's choice of policy and tag filter. Exactly one of
// SemverRange, Alphabetical and Numerical is meant to be set; when several are,
// the first in that order wins, as in Flux's PolicerFromSpec.
type Spec struct {
	// SemverRange is a Masterminds/semver constraint, e.g. "1.1.x" or ">=1.0 <2.0".
	SemverRange string
	// Alphabetical selects alphabetical ordering with this order; an
	// `alphabetical: {}` policy is Ascending.
	Alphabetical Order
	// Numerical selects numerical ordering with this order.
	Numerical Order
	// FilterPattern keeps only the tags that match this regular expression.
	FilterPattern string
	// FilterExtract, with FilterPattern, replaces each kept tag by this
	// expansion ($1, ${name}) before ordering; Latest still returns the tag.
	FilterExtract string
}

// orderer picks the latest of candidate values; the values are tags, or what
// the filter extracted from them.
type orderer interface {
	latest(values []string) (string, error)
}

// Policer selects the latest tag for one Spec. It is safe for concurrent use.
type Policer struct {
	order  orderer
	filter *filter
}

// New validates spec and returns its Policer. An invalid semver range, order or
// filter pattern is an error; the caller adds the policy's name.
func New(spec Spec) (*Policer, error) {
	var (
		o   orderer
		err error
	)
	switch {
	case spec.SemverRange != "":
		o, err = newSemver(spec.SemverRange)
	case spec.Alphabetical != "":
		o, err = newAlphabetical(spec.Alphabetical)
	case spec.Numerical != "":
		o, err = newNumerical(spec.Numerical)
	default:
		return nil, ErrNoPolicy
	}
	if err != nil {
		return nil, err
	}
	p := &Policer{order: o}
	// Flux filters only when filterTags is present; an empty pattern matches
	// every tag, so treating "no pattern" as "no filter" selects the same tag.
	if spec.FilterPattern != "" || spec.FilterExtract != "" {
		if p.filter, err = newFilter(spec.FilterPattern, spec.FilterExtract); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Latest returns the tag the policy selects from tags (the original tag, even
// when the filter extracted part of it for ordering). It returns an error
// wrapping ErrNoMatch when no tag qualifies. The result does not depend on the
// order of tags.
func (p *Policer) Latest(tags []string) (string, error) {
	if p.filter == nil {
		return p.order.latest(tags)
	}
	values, originals := p.filter.apply(tags)
	v, err := p.order.latest(values)
	if err != nil {
		return "", err
	}
	return originals[v], nil
}

// parseOrder accepts Flux's orders in any case; empty is Flux's default, asc.
func parseOrder(kind string, o Order) (Order, error) {
	switch Order(strings.ToLower(string(o))) {
	case "", Ascending:
		return Ascending, nil
	case Descending:
		return Descending, nil
	}
	return "", fmt.Errorf("invalid %s order %q: must be one of %s, %s", kind, string(o), Ascending, Descending)
}

// noMatch is the error for an empty candidate list.
func noMatch() error {
	return fmt.Errorf("%w: no tags to choose from", ErrNoMatch)
}
