// Package reconcile is the reconcile function's use case: converge the
// cluster to the config branch's head, Kustomization by Kustomization in
// dependsOn order, then record what was applied and report it.
package reconcile
