package policy

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
)

// numericalOrder selects the greatest (asc) or least (desc) tag read as a
// floating-point number.
type numericalOrder struct {
	order Order
}

func newNumerical(o Order) (*numericalOrder, error) {
	order, err := parseOrder("numerical", o)
	if err != nil {
		return nil, err
	}
	return &numericalOrder{order: order}, nil
}

// latest fails on the first tag that is not a number, as Flux does: a
// numerical policy over mixed tags needs filterTags to keep only numbers.
func (n *numericalOrder) latest(tags []string) (string, error) {
	if len(tags) == 0 {
		return "", noMatch()
	}
	best, bestV := "", 0.0
	for i, tag := range tags {
		v, err := strconv.ParseFloat(tag, 64)
		if err != nil {
			return "", fmt.Errorf("numerical policy: tag %q is not a number", tag)
		}
		c := compareNumbers(v, tag, bestV, best)
		if n.order == Descending {
			c = -c
		}
		if i == 0 || c > 0 {
			best, bestV = tag, v
		}
	}
	return best, nil
}

// compareNumbers orders by value, NaN below every number, and equal values
// ("1" and "1.0") by the tag, so the choice does not depend on listing order.
func compareNumbers(v float64, tag string, w float64, other string) int {
	switch vn, wn := math.IsNaN(v), math.IsNaN(w); {
	case vn && !wn:
		return -1
	case wn && !vn:
		return 1
	case !vn && !wn && v != w:
		return cmp.Compare(v, w)
	}
	return cmp.Compare(tag, other)
}
