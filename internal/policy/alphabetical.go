package policy

import "slices"

// alphabeticalOrder selects the greatest (asc) or least (desc) tag by byte-wise
// string comparison, as Go's sort.Strings orders them in Flux.
type alphabeticalOrder struct {
	order Order
}

func newAlphabetical(o Order) (*alphabeticalOrder, error) {
	order, err := parseOrder("alphabetical", o)
	if err != nil {
		return nil, err
	}
	return &alphabeticalOrder{order: order}, nil
}

func (a *alphabeticalOrder) latest(tags []string) (string, error) {
	if len(tags) == 0 {
		return "", noMatch()
	}
	if a.order == Descending {
		return slices.Min(tags), nil
	}
	return slices.Max(tags), nil
}
