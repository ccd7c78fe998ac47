package kube

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxcd/pkg/ssa"
)

// Flux's annotations (or labels) on applied objects, and their values, as
// kustomize-controller reads them. Sluice's own sluice.dev/ keys are aliases.
const (
	fluxReconcile = "kustomize.toolkit.fluxcd.io/reconcile"
	fluxSSA       = "kustomize.toolkit.fluxcd.io/ssa"
	fluxForce     = "kustomize.toolkit.fluxcd.io/force"
	fluxPrune     = "kustomize.toolkit.fluxcd.io/prune"

	disabled     = "disabled"
	enabled      = "enabled"
	ssaIgnore    = "Ignore"
	ssaIfMissing = "IfNotPresent"
	ssaMerge     = "Merge"
)

// excluded selects objects that are neither applied nor compared, whether
// the mark is in Git or on the object in the cluster.
func excluded() map[string]string {
	return map[string]string{fluxReconcile: disabled, LabelPrefix + "/reconcile": disabled, fluxSSA: ssaIgnore}
}

// ifNotPresent selects objects that are created when missing and never
// changed afterwards.
func ifNotPresent() map[string]string { return map[string]string{fluxSSA: ssaIfMissing} }

// forced selects objects recreated when an immutable field changes.
func forced() map[string]string { return map[string]string{fluxForce: enabled} }

// pruneExclusions selects, by their marks in the cluster, the objects a
// prune keeps, as kustomize-controller does: prune disabled, and objects
// Flux would neither apply nor delete (reconcile disabled, ssa Ignore).
func pruneExclusions() map[string]string {
	return map[string]string{
		fluxPrune: disabled, LabelPrefix + "/prune": disabled,
		fluxReconcile: disabled, LabelPrefix + "/reconcile": disabled,
		fluxSSA: ssaIgnore,
	}
}

// takeover is what an apply cleans off an object before applying it, as
// kustomize-controller does: the fields of the managers that applied it
// before Sluice (Flux itself, kubectl client-side or server-side: the
// "kubectl" prefix also matches kubectl-client-side-apply, kubectl-edit...)
// become Sluice's, so a field deleted from Git is removed from the cluster;
// kubectl's last-applied annotation and Flux v1's marks go. An object
// marked kustomize.toolkit.fluxcd.io/ssa: Merge is left as it is.
func takeover() ssa.ApplyCleanupOptions {
	return ssa.ApplyCleanupOptions{
		Annotations: []string{
			"kubectl.kubernetes.io/last-applied-configuration",
			"kustomize.toolkit.fluxcd.io/checksum",
			"fluxcd.io/sync-checksum",
		},
		Labels:        []string{"fluxcd.io/sync-gc-mark"},
		FieldManagers: takeoverManagers,
		Exclusions:    map[string]string{fluxSSA: ssaMerge},
	}
}

// takeoverManagers are matched by prefix and operation, as ssa matches them.
var takeoverManagers = []ssa.FieldManager{
	{Name: "kustomize-controller", OperationType: metav1.ManagedFieldsOperationApply},
	{Name: "kustomize-controller", OperationType: metav1.ManagedFieldsOperationUpdate},
	{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationApply},
	{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationUpdate},
	{Name: "before-first-apply", OperationType: metav1.ManagedFieldsOperationUpdate},
}
