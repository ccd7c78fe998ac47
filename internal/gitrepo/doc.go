// Package gitrepo clones a branch of a Git repository shallowly into a
// temporary folder, commits changes made there and pushes them (go-git).
package gitrepo
