// Package kube applies rendered objects to a cluster with server-side apply
// (fluxcd/pkg/ssa), in stages and dry-run first; records what it applied in an
// inventory that kubectl sees as an ApplySet; prunes what left Git; compares
// Git with the cluster; and waits for health with kstatus.
package kube
