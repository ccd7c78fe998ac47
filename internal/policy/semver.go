package policy

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// semverOrder selects the highest version in a range.
type semverOrder struct {
	constraint *semver.Constraints
	rng        string
}

func newSemver(rng string) (*semverOrder, error) {
	c, err := semver.NewConstraint(rng)
	if err != nil {
		return nil, fmt.Errorf("invalid semver range %q: %w", rng, err)
	}
	return &semverOrder{constraint: c, rng: rng}, nil
}

// latest returns the original form of the highest version that satisfies the
// range. Masterminds constraints admit prereleases only when the range has a
// prerelease part, as in Flux.
func (s *semverOrder) latest(tags []string) (string, error) {
	if len(tags) == 0 {
		return "", noMatch()
	}
	var best *semver.Version
	for _, tag := range tags {
		v, ok := parseVersion(tag)
		if !ok {
			continue
		}
		// Equal versions ("1.0.0" and "v1.0.0", or differing only in build
		// metadata) are tied in Flux by the registry's listing order; breaking
		// the tie on the tag itself makes the choice independent of that order.
		// Comparing first spares the costlier range check for most tags.
		better := best == nil || v.GreaterThan(best) || (v.Equal(best) && tag > best.Original())
		if better && s.constraint.Check(v) {
			best = v
		}
	}
	if best == nil {
		return "", fmt.Errorf("%w: none of %d tags is a version in range %q", ErrNoMatch, len(tags), s.rng)
	}
	return best.Original(), nil
}

// parseVersion accepts what Flux's version.ParseVersion (fluxcd/pkg) accepts:
// three dot-separated parts, parsed loosely, so that an optional "v" prefix
// and zero-padded numbers are versions (CalVer tags such as 2024.12.01 and
// v2025.07.03 are 2024.12.1 and 2025.7.3). Forms with fewer or more parts,
// such as "1.0" or "1.0.0.1", are not versions, so they are skipped.
func parseVersion(tag string) (*semver.Version, bool) {
	if len(strings.SplitN(tag, ".", 3)) != 3 {
		return nil, false
	}
	v, err := semver.NewVersion(tag)
	if err != nil {
		return nil, false
	}
	return v, true // its Original is the tag as listed
}
