// Package drift is the drift function's use case: compare what Git wants with
// the cluster, report every difference, and ask the reconcile function (the
// one writer) to correct what may be corrected.
package drift
